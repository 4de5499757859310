"""Short CPU runs of each phase lower the validation loss; bad input fails clearly."""
import json
import re

import pytest

from cosec_trainer.models import data_root
from trainer_run import evals, run

SVEN = data_root() / "datasets" / "sven" / "data_train_val"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Real code (secure SVEN functions), as JSONL `text` and as prompt/response pairs."""
    d = tmp_path_factory.mktemp("corpus")
    funcs = [json.loads(l)["func_src_after"] for l in (SVEN / "train" / "cwe-089.jsonl").read_text().splitlines()[:30]]
    funcs = [f[:1500] for f in funcs]
    (d / "text.jsonl").write_text("".join(json.dumps({"text": f}) + "\n" for f in funcs))
    pr = [{"prompt": f[: len(f) // 3], "response": f[len(f) // 3 : len(f) // 3 + 300]} for f in funcs]
    (d / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pr))
    return d


def test_pretrain_lowers_val_loss(corpus, tmp_path):
    events, _ = run(
        "pretrain", "--data", str(corpus / "text.jsonl"), "--size", "tiny", "--block", "32", "--val-fraction", "0.1",
        "--max-val", "8", "--steps", "12", "--batch-size", "4", "--lr", "3e-3", "--warmup", "2", "--run-dir", str(tmp_path / "run"),
    )
    ev = evals(events)
    assert ev[0]["step"] == 0 and ev[-1]["step"] == 12
    print(f"pretrain val loss {ev[0]['val_loss']:.3f} -> {ev[-1]['val_loss']:.3f}")
    assert ev[-1]["val_loss"] < ev[0]["val_loss"] - 1.0
    progress = [e for e in events if e["event"] == "progress"]
    assert [e["step"] for e in progress] == list(range(1, 13))
    assert all(e["tokens_per_s"] > 0 and e["eta_s"] >= 0 for e in progress)
    assert (tmp_path / "run" / "checkpoints" / "best" / "model" / "config.json").is_file()


@pytest.mark.parametrize("loss", ["fkl", "rkl"])
def test_distill_lowers_val_loss(corpus, fixtures_dir, tmp_path, loss):
    hf = fixtures_dir / "hf"
    events, _ = run(
        "distill", "--teacher", str(hf / "target-llama"), "--student-size", "tiny", "--data", str(corpus / "pairs.jsonl"),
        "--loss", loss, "--ce-weight", "0.1", "--max-len", "64", "--val-fraction", "0.2", "--steps", "8", "--batch-size", "4",
        "--lr", "1e-2", "--warmup", "1", "--run-dir", str(tmp_path / "run"),
    )
    ev = evals(events)
    print(f"distill {loss}: val loss {ev[0]['val_loss']:.3f} -> {ev[-1]['val_loss']:.3f}, KL {ev[0]['val_kl']:.3f} -> {ev[-1]['val_kl']:.3f}")
    # A random peaked teacher is hard to match in 8 steps; require a clear, deterministic drop.
    assert ev[-1]["val_loss"] < ev[0]["val_loss"] - 0.05
    assert ev[-1]["val_kl"] < ev[0]["val_kl"]


def test_distill_packed_rows_are_full_and_learn(corpus, fixtures_dir, tmp_path):
    hf = fixtures_dir / "hf"
    events, p = run(
        "distill", "--teacher", str(hf / "target-llama"), "--student-size", "tiny", "--data", str(corpus / "text.jsonl"), "--pack",
        "--max-len", "48", "--val-fraction", "0.2", "--steps", "8", "--batch-size", "4", "--lr", "1e-2", "--warmup", "1",
        "--run-dir", str(tmp_path / "run"),
    )
    rows = re.search(r"distill: (\d+) training / (\d+) validation", p.stderr)
    # 30 functions of up to 1,500 characters make far more full rows of 48 tokens than records
    assert rows and int(rows[1]) + int(rows[2]) > 60
    ev = evals(events)
    assert ev[-1]["val_kl"] < ev[0]["val_kl"]
    # packing needs plain text: prompt/response records are refused, naming the field
    events, p = run("distill", "--teacher", str(hf / "target-llama"), "--student-size", "tiny", "--data", str(corpus / "pairs.jsonl"),
                    "--pack", "--run-dir", str(tmp_path / "run2"), check=False)
    assert p.returncode != 0 and "'text'" in p.stderr + json.dumps(events)


def test_distill_rejects_different_tokenizers(corpus, fixtures_dir, tmp_path):
    hf = fixtures_dir / "hf"
    student = tmp_path / "student"
    student.mkdir()
    for f in (hf / "expert-llama").iterdir():
        (student / f.name).write_bytes(f.read_bytes())
    tj = json.loads((student / "tokenizer.json").read_text())
    vocab = tj["model"]["vocab"]
    a = next(t for t, i in vocab.items() if i == 1000)
    b = next(t for t, i in vocab.items() if i == 1001)
    vocab[a], vocab[b] = 1001, 1000  # swapped ids keep the BPE merges valid
    (student / "tokenizer.json").write_text(json.dumps(tj))
    events, p = run("distill", "--teacher", str(hf / "target-llama"), "--student", str(student), "--data", str(corpus / "pairs.jsonl"),
                    "--run-dir", str(tmp_path / "run"), check=False)
    assert p.returncode == 2
    err = [e for e in events if e["event"] == "error"][0]["message"]
    assert "tokenizers differ" in err and "id 1000" in err


def test_security_lowers_val_loss(tmp_path):
    base = tmp_path / "base"
    run("create", "--arch", "llama", "--size", "tiny", "--out", str(base))
    events, _ = run(
        "security", "--model", str(base), "--cwes", "089,078", "--max-train", "16",
        "--max-val", "8", "--max-len", "64", "--steps", "8", "--batch-size", "4", "--lr", "2e-2", "--warmup", "1",
        "--kl-weight", "0.1", "--run-dir", str(tmp_path / "run"),
    )
    ev = evals(events)
    first, last = ev[0], ev[-1]
    print(f"security val loss {first['val_loss']:.3f} -> {last['val_loss']:.3f}; per CWE {json.dumps(last['per_cwe'])}")
    assert set(last["per_cwe"]) <= {"cwe-089", "cwe-078"} and last["per_cwe"]
    assert first["per_cwe"][next(iter(first["per_cwe"]))]["kl"] == pytest.approx(0.0, abs=1e-6)  # LoRA B starts at 0
    assert last["val_loss"] < first["val_loss"] - 0.1
    assert all(v["kl"] > 0 for v in last["per_cwe"].values())  # the adapter now changes the model
    adapter = tmp_path / "run" / "checkpoints" / "best" / "model" / "adapter_config.json"
    assert json.loads(adapter.read_text())["r"] == 8
    # export the best checkpoint as an adapter GGUF and as a merged model
    for what in ("adapter", "merged"):
        events, _ = run("export", "--run", str(tmp_path / "run"), "--what", what, "--out", str(tmp_path / f"{what}.gguf"))
        assert (tmp_path / f"{what}.gguf").stat().st_size > 0


def test_security_malformed_line_names_file_and_line(fixtures_dir, tmp_path):
    for split in ("train", "val"):
        (tmp_path / "sven" / split).mkdir(parents=True)
        (tmp_path / "sven" / split / "cwe-089.jsonl").write_text((SVEN / split / "cwe-089.jsonl").read_text().splitlines()[0] + "\n{oops\n")
    events, p = run("security", "--model", str(fixtures_dir / "hf" / "expert-llama"), "--sven", str(tmp_path / "sven"),
                    "--run-dir", str(tmp_path / "run"), check=False)
    assert p.returncode == 2
    assert "train/cwe-089.jsonl:2: invalid JSON" in [e for e in events if e["event"] == "error"][0]["message"]


def test_pretrain_missing_data_is_clear(tmp_path):
    events, p = run("pretrain", "--data", str(tmp_path / "nope"), "--run-dir", str(tmp_path / "run"), check=False)
    assert p.returncode == 2 and "training data not found" in events[-1]["message"]
