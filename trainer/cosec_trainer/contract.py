"""The contract with the TypeScript side (trainer/contract.json, which src/train/contract.ts reads
too): the progress events' kinds and fields, the fixture version, the data root's variable."""
from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import TrainerError

CONTRACT_FILE = Path(__file__).resolve().parents[1] / "contract.json"

_contract = json.loads(CONTRACT_FILE.read_text())
FIXTURE_VERSION: int = _contract["fixtureVersion"]
DATA_ROOT_ENV: str = _contract["dataRoot"]["env"]
DATA_ROOT_DEFAULT: str = _contract["dataRoot"]["default"]
EVENTS: dict[str, dict] = _contract["events"]


def data_root() -> Path:
    """The read-only shared data folder: $COSEC_DATA (DATA_ROOT_ENV), else ../shared next to the repo."""
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env) if env else Path(os.path.normpath(CONTRACT_FILE.parents[1] / DATA_ROOT_DEFAULT))


class ProtocolError(TrainerError):
    """An event the contract does not allow: unknown kind, missing field, or a field of the wrong type."""


_PYTHON_TYPES = {"string": str, "integer": int, "number": (int, float), "object": dict, "array": (list, tuple)}


def _is(value, type_name: str) -> bool:
    if type_name == "null":
        return value is None
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name not in _PYTHON_TYPES:
        raise ProtocolError(f"{CONTRACT_FILE}: unknown field type {type_name!r}")
    # bool is an int in Python, never a number in JSON
    return isinstance(value, _PYTHON_TYPES[type_name]) and not isinstance(value, bool)


def _fits(value, spec) -> bool:
    if isinstance(spec, list):
        return value in spec
    return any(_is(value, t) for t in spec.split("|"))


def _q(value) -> str:
    """JSON spelling, so both sides word a refusal alike."""
    return json.dumps(value, default=repr)


def check_event(record: dict) -> None:
    """Raises ProtocolError naming the kind and field when `record` breaks the contract."""
    kind = record.get("event")
    rule = EVENTS.get(kind) if isinstance(kind, str) else None
    if rule is None:
        raise ProtocolError(f"unknown event {_q(kind)} (the contract has {', '.join(EVENTS)})")
    required, optional = rule["required"], rule.get("optional", {})
    for name in required:
        if name not in record:
            raise ProtocolError(f"event {_q(kind)}: missing field {_q(name)}")
    for name, value in record.items():
        if name == "event":
            continue
        spec = required.get(name, optional.get(name))
        if spec is None:
            if not rule.get("extra", False):
                raise ProtocolError(f"event {_q(kind)}: field {_q(name)} is not in the contract")
        elif not _fits(value, spec):
            expected = " or ".join(spec) if isinstance(spec, list) else spec
            raise ProtocolError(f"event {_q(kind)}: field {_q(name)} is {_q(value)}, expected {expected}")
