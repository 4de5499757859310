"""Pure pieces of the loop: schedule, data order, checkpoint pointer handling."""
import json

import pytest

from cosec_trainer import checkpoint as ck
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
