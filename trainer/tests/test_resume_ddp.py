"""A run killed mid-way and resumed reproduces the uninterrupted loss curve exactly; a 2-process
torchrun (gloo) run ends with identical weights on both ranks."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from trainer_run import ROOT, env, losses, run

STEPS = 8


def _args(corpus, run_dir):
    return [
        "pretrain", "--data", str(corpus), "--size", "tiny", "--block", "32", "--val-fraction", "0.2", "--max-val", "4",
        "--steps", str(STEPS), "--batch-size", "4", "--lr", "3e-3", "--warmup", "2", "--save-every", "2",
        "--threads", "1", "--seed", "5", "--run-dir", str(run_dir),
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from cosec_trainer.models import data_root

    src = data_root() / "datasets" / "sven" / "data_train_val" / "train" / "cwe-022.jsonl"
    funcs = [json.loads(l)["func_src_after"][:1200] for l in src.read_text().splitlines()[:20]]
    f = tmp_path_factory.mktemp("resume") / "text.jsonl"
    f.write_text("".join(json.dumps({"text": t}) + "\n" for t in funcs))
    return f


def test_resume_after_kill_gives_same_curve(corpus, tmp_path):
    full = tmp_path / "full"
    run(*_args(corpus, full))
    want = losses(full)
    assert sorted(want) == list(range(1, STEPS + 1))

    killed = tmp_path / "killed"
    p = subprocess.Popen([sys.executable, "-m", "cosec_trainer", *_args(corpus, killed)], cwd=ROOT, env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latest = killed / "checkpoints" / "latest"
    deadline = time.time() + 180
    while time.time() < deadline and p.poll() is None:
        if latest.is_file() and latest.read_text().strip() >= "step-00000004":
            break
        time.sleep(0.05)
    assert p.poll() is None, "the run finished before it could be killed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    stopped_at = latest.read_text().strip()
    assert stopped_at != f"step-{STEPS:08d}"

    events, _ = run(*_args(corpus, killed), "--resume")
    start = [e for e in events if e["event"] == "start"][0]
    assert 4 <= start["start_step"] < STEPS
    got = losses(killed)
    print(f"killed after {stopped_at}; resumed at {start['start_step']}")
    assert got == want  # bit-identical losses at every step


def _steps_logged(run_dir):
    return [json.loads(l)["step"] for l in (run_dir / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]


def test_kill_before_the_first_checkpoint_logs_each_step_once(corpus, tmp_path):
    # killed before any checkpoint, --resume starts from scratch: the killed attempt's records
    # must not stay in front of the new ones
    args = _args(corpus, tmp_path / "early")
    args[args.index("--save-every") + 1] = "0"  # a checkpoint only at the end
    p = subprocess.Popen([sys.executable, "-m", "cosec_trainer", *args], cwd=ROOT, env=env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = tmp_path / "early" / "metrics.jsonl"
    deadline = time.time() + 180
    while time.time() < deadline and p.poll() is None:
        if metrics.is_file() and metrics.read_text().count('"loss"') >= 3:
            break
        time.sleep(0.05)
    assert p.poll() is None, "the run finished before it could be killed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert not (tmp_path / "early" / "checkpoints" / "latest").exists()
    run(*args, "--resume")
    assert _steps_logged(tmp_path / "early") == list(range(1, STEPS + 1))


def test_resume_refuses_changed_settings(corpus, tmp_path):
    first = _args(corpus, tmp_path / "r")
    first[first.index("--steps") + 1] = "1"
    run(*first)
    args = _args(corpus, tmp_path / "r")  # more steps is fine; a different lr is not
    args[args.index("--lr") + 1] = "1e-3"
    events, p = run(*args, "--resume", check=False)
    assert p.returncode == 2 and "different settings" in events[-1]["message"] and "lr" in events[-1]["message"]


def test_torchrun_two_processes_identical_weights(corpus, tmp_path):
    run_dir = tmp_path / "ddp"
    args = _args(corpus, run_dir)
    args[args.index("--steps") + 1] = "3"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "cosec_trainer", *args]
    p = subprocess.run(cmd, cwd=ROOT, env={**env(), "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr[-3000:]
    events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    assert [e for e in events if e["event"] == "start"][0]["world"] == 2
    r0 = (run_dir / "final-weights-rank0.sha256").read_text()
    r1 = (run_dir / "final-weights-rank1.sha256").read_text()
    assert r0 == r1
    assert sorted(losses(run_dir)) == [1, 2, 3]
