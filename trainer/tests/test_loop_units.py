"""Pure pieces of the loop: schedule, data order, checkpoint pointer handling."""
import json

import pytest

from cosec_trainer import checkpoint as ck
from cosec_trainer.errors import TrainerError
from cosec_trainer.loop import LoopArgs, lr_at, step_indices


def test_lr_warmup_then_cosine():
    a = LoopArgs(run_dir="x", steps=100, lr=1.0, warmup=10, min_lr_ratio=0.1)
    assert lr_at(5, a) == pytest.approx(0.5)
    assert lr_at(10, a) == pytest.approx(1.0)
    assert lr_at(100, a) == pytest.approx(0.1)
    assert lr_at(55, a) == pytest.approx(0.55)


def test_step_indices_cover_each_epoch_once_and_are_pure():
    a = LoopArgs(run_dir="x", batch_size=4, seed=3)
    n = 10
    seen = [i for s in range(1, 6) for i in step_indices(s, a, n)]  # 20 samples = 2 epochs
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:]) == list(range(10))
    assert step_indices(4, a, n) == step_indices(4, a, n)
    assert step_indices(1, LoopArgs(run_dir="x", batch_size=4, seed=4), n) != step_indices(1, a, n)
    # ranks take disjoint strided shards of the same global batch
    g = step_indices(2, a, n)
    assert g[0::2] + g[1::2] != [] and sorted(g[0::2] + g[1::2]) == sorted(g)


def test_latest_points_only_at_complete_checkpoints(tmp_path):
    for step in (2, 4, 6):
        tmp = ck.begin(tmp_path, f"step-{step:08d}")
        ck.save_state(tmp, {"step": step})
        ck.commit(tmp_path, tmp, f"step-{step:08d}", point_latest=True, keep_last=2)
    assert ck.resolve(tmp_path).name == "step-00000006"
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("step-*")) == ["step-00000004", "step-00000006"]
    # a save killed half-way leaves only a temp folder: latest is unchanged
    half = ck.begin(tmp_path, "step-00000008")
    (half / "model").mkdir()
    assert ck.resolve(tmp_path).name == "step-00000006"
    assert ck.resolve(tmp_path, "best") is None


def test_truncate_metrics_drops_steps_after_checkpoint(tmp_path):
    m = tmp_path / "metrics.jsonl"
    m.write_text("".join(json.dumps({"step": s, "loss": s}) + "\n" for s in range(0, 7)))
    ck.truncate_metrics(m, 4)
    assert [json.loads(l)["step"] for l in m.read_text().splitlines()] == [0, 1, 2, 3, 4]


def test_truncate_metrics_drops_a_torn_last_line(tmp_path):
    # a kill mid-append leaves half a record at the end: resume must drop it, not fail on it
    m = tmp_path / "metrics.jsonl"
    whole = "".join(json.dumps({"step": s, "loss": s}) + "\n" for s in range(0, 5))
    m.write_text(whole + '{"step": 5, "lo')
    ck.truncate_metrics(m, 4)
    assert m.read_text() == whole
    # a complete record that lost only its newline is kept
    m.write_text(whole + json.dumps({"step": 5, "loss": 5}))
    ck.truncate_metrics(m, 9)
    assert [json.loads(l)["step"] for l in m.read_text().splitlines()] == [0, 1, 2, 3, 4, 5]
    # no checkpoint yet (step -1): nothing is kept
    ck.truncate_metrics(m, -1)
    assert m.read_text() == ""


def test_truncate_metrics_refuses_a_damaged_line_before_the_end(tmp_path):
    m = tmp_path / "metrics.jsonl"
    text = '{"step": 1, "loss": 1}\n{"step": 2, "lo\n{"step": 3, "loss": 3}\n'
    m.write_text(text)
    with pytest.raises(TrainerError, match=r"metrics.jsonl:2: unreadable"):
        ck.truncate_metrics(m, 9)
    assert m.read_text() == text


def test_best_survives_a_kill_between_its_two_renames(tmp_path):
    for step in (2, 4):
        tmp = ck.begin(tmp_path, "best")
        ck.save_state(tmp, {"step": step})
        ck.commit(tmp_path, tmp, "best", point_latest=False)
    root = tmp_path / "checkpoints"
    assert not (root / ".old-best").exists()
    # the state commit() passes through: old best moved aside, new one not yet renamed in
    (root / "best").rename(root / ".old-best")
    assert ck.resolve(tmp_path, "best") == root / ".old-best"
    tmp = ck.begin(tmp_path, "best")
    ck.save_state(tmp, {"step": 6})
    ck.commit(tmp_path, tmp, "best", point_latest=False)
    assert ck.load_state(ck.resolve(tmp_path, "best"))["step"] == 6
    assert not (root / ".old-best").exists()
