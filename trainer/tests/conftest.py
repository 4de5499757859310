"""Shared pytest fixtures: the tiny GGUF/HF fixture models (built once into .cache/fixtures)."""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "trainer"))

from cosec_trainer import fixtures as fx  # noqa: E402


def _ready(d: Path) -> bool:
    try:
        return json.loads((d / "READY").read_text())["version"] == fx.FIXTURE_VERSION
    except (OSError, ValueError, KeyError):
        return False


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Same folder and lock protocol as test/helpers/fixtures.ts, so TS and Python tests share one build."""
    d = Path(os.environ.get("COSEC_FIXTURES", ROOT / ".cache" / "fixtures"))
    lock = Path(str(d) + ".lock")
    deadline = time.time() + 600
    while not _ready(d):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            lock.mkdir()
        except FileExistsError:
            if time.time() - lock.stat().st_mtime > 300:
                shutil.rmtree(lock, ignore_errors=True)
            if time.time() > deadline:
                raise TimeoutError(f"waiting for another process to build {d}")
            time.sleep(0.5)
            continue
        try:
            if not _ready(d):
                fx.build(d)
        finally:
            shutil.rmtree(lock, ignore_errors=True)
    return d


@pytest.fixture(scope="session")
def reference(fixtures_dir: Path) -> dict:
    return json.loads((fixtures_dir / "reference.json").read_text())


@pytest.fixture(scope="session")
def tokenizer():
    from cosec_trainer.models import load_tokenizer

    return load_tokenizer()
