"""Run `python -m cosec_trainer ...` as the TypeScript side does (src/train/launch.ts) and collect its
JSON events, each checked against trainer/contract.json as that reader checks them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "trainer"))

from cosec_trainer.contract import check_event  # noqa: E402


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT / "trainer"), "TOKENIZERS_PARALLELISM": "false"}


def run(*args: str, timeout: int = 240, check: bool = True) -> tuple[list[dict], subprocess.CompletedProcess]:
    p = subprocess.run([sys.executable, "-m", "cosec_trainer", *args], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)
    events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    for e in events:
        check_event(e)
    if check:
        assert p.returncode == 0, p.stderr[-3000:]
    return events, p


def evals(events: list[dict]) -> list[dict]:
    return [e for e in events if e["event"] == "eval"]


def losses(run_dir: Path) -> dict[int, float]:
    out = {}
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "loss" in rec:
            out[rec["step"]] = rec["loss"]
    return out
