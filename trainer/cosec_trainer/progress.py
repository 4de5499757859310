"""The progress protocol: JSON lines on stdout (read by src/train/), human logs on stderr. Every
event is checked against trainer/contract.json before it is written, so a field renamed here fails
at once instead of being dropped by the TypeScript reader."""
from __future__ import annotations

import json
import math
import sys
import time

from .contract import check_event


def emit(event: str, **fields) -> None:
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in fields.items()}
    record = {"event": event, **clean}
    check_event(record)
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    sys.stderr.write(f"[cosec-trainer {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class Meter:
    """Tokens/s and ETA over the steps done in this process (a resumed run starts a new window)."""

    def __init__(self, start_step: int, total_steps: int):
        self.start_step, self.total_steps = start_step, total_steps
        self.t0 = time.perf_counter()
        self.tokens = 0

    def update(self, step: int, tokens: int) -> tuple[float, float]:
        self.tokens += tokens
        elapsed = max(time.perf_counter() - self.t0, 1e-9)
        done = step - self.start_step
        eta = elapsed / done * (self.total_steps - step) if done > 0 else float("nan")
        return self.tokens / elapsed, eta
