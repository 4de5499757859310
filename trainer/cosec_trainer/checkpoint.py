"""Run-folder checkpoints, written so that a kill at any moment leaves a loadable `latest`.

checkpoints/step-00000042/{model/, state.pt, rng-rank*.pt} is written under a temporary name and
renamed when complete; checkpoints/latest (a one-line file naming the folder) is replaced
atomically only afterwards. checkpoints/best holds the best validation checkpoint. Every file is
fsynced before its rename, so the renames never expose data still only in the page cache."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from .errors import TrainerError


def ckpt_root(run_dir: Path) -> Path:
    return run_dir / "checkpoints"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with tmp.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` in one rename: a kill leaves the old text or the new, never part of it."""
    _atomic_write(path, text)


def _fsync_tree(folder: Path) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            with p.open("rb") as f:
                os.fsync(f.fileno())
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        _fsync_dir(d)
    _fsync_dir(folder)


def begin(run_dir: Path, name: str) -> Path:
    """A fresh temporary folder for a checkpoint about to be written."""
    tmp = ckpt_root(run_dir) / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def commit(run_dir: Path, tmp: Path, name: str, *, point_latest: bool, keep_last: int = 2) -> Path:
    root = ckpt_root(run_dir)
    final = root / name
    _fsync_tree(tmp)
    if final.exists():  # e.g. "best" being replaced: move the old one aside first
        trash = root / f".old-{name}"
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(final, trash)
        os.replace(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, final)
    shutil.rmtree(root / f".old-{name}", ignore_errors=True)  # left by a kill between the two renames
    _fsync_dir(root)
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
    if not (c / "state.pt").is_file() and (root / f".old-{which}" / "state.pt").is_file():
        # killed between moving the old `best` aside and renaming the new one in: the old one stands
        return root / f".old-{which}"
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
    """Drop records logged after the checkpoint we resume from (step -1: all, no checkpoint yet):
    they will be recomputed. A torn last line (a kill mid-append) is dropped too; a damaged line
    before it is an error, not silently lost history."""
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    keep = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # the unterminated tail: every append ends with its newline
                break
            raise TrainerError(f"{path}:{i + 1}: unreadable metrics line (not a torn final write)") from None
        if rec.get("step", 0) <= step:
            keep.append(line)
    _atomic_write(path, "".join(l + "\n" for l in keep))
