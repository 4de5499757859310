"""Run-folder checkpoints, written so that a kill at any moment leaves a loadable `latest`.

checkpoints/step-00000042/{model/, state.pt, rng-rank*.pt} is written under a temporary name and
renamed when complete; checkpoints/latest (a one-line file naming the folder) is replaced
atomically only afterwards. checkpoints/best holds the best validation checkpoint."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch


def ckpt_root(run_dir: Path) -> Path:
    return run_dir / "checkpoints"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def begin(run_dir: Path, name: str) -> Path:
    """A fresh temporary folder for a checkpoint about to be written."""
    tmp = ckpt_root(run_dir) / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def commit(run_dir: Path, tmp: Path, name: str, *, point_latest: bool, keep_last: int = 2) -> Path:
    root = ckpt_root(run_dir)
    final = root / name
    if final.exists():  # e.g. "best" being replaced: move the old one aside first
        trash = root / f".old-{name}"
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)
    if point_latest:
        _atomic_write(root / "latest", name + "\n")
        steps = sorted(p for p in root.glob("step-*") if p.is_dir())
        for old in steps[:-keep_last] if keep_last > 0 else []:
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
    return final


def resolve(run_dir: Path, which: str = "latest") -> Path | None:
    """`latest`, `best`, or a step folder name; None when the run has no such checkpoint."""
    root = ckpt_root(run_dir)
    if which == "latest":
        p = root / "latest"
        if not p.is_file():
            return None
        which = p.read_text().strip()
    c = root / which
    return c if (c / "state.pt").is_file() else None


def save_state(folder: Path, state: dict) -> None:
    torch.save(state, folder / "state.pt")


def load_state(folder: Path) -> dict:
    return torch.load(folder / "state.pt", map_location="cpu", weights_only=False)


def rng_state() -> dict:
    s = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def truncate_metrics(path: Path, step: int) -> None:
    """Drop records logged after the checkpoint we resume from: they will be recomputed."""
    if not path.is_file():
        return
    keep = [l for l in path.read_text().splitlines() if l.strip() and json.loads(l).get("step", 0) <= step]
    _atomic_write(path, "".join(l + "\n" for l in keep))
