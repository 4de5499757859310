"""A small, fast GGUF reader (metadata + memory-mapped tensors) for tests and inspection.

gguf.GGUFReader parses every element of the 50k-entry token and merge arrays into separate
numpy views, which takes ~10 s per file; this reader decodes strings in one pass.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


@dataclass
class GGUFTensor:
    name: str
    type: gguf.GGMLQuantizationType
    shape: tuple[int, ...]  # numpy order (outermost first), i.e. reversed ggml ne
    raw: np.ndarray  # uint8 bytes of the tensor

    def to_float(self) -> np.ndarray:
        if self.type == gguf.GGMLQuantizationType.F32:
            return self.raw.view(np.float32).reshape(self.shape)
        return gguf.quants.dequantize(self.raw, self.type).reshape(self.shape)


class _Cursor:
    def __init__(self, buf: memoryview):
        self.buf, self.pos = buf, 0

    def unpack(self, fmt: str):
        (v,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self) -> str:
        n = self.unpack("<Q")
        s = bytes(self.buf[self.pos : self.pos + n]).decode("utf-8", errors="surrogateescape")
        self.pos += n
        return s

    def value(self, vtype: int):
        if vtype == 8:
            return self.string()
        if vtype == 9:
            etype, count = self.unpack("<I"), self.unpack("<Q")
            if etype in _SCALARS and etype != 7:
                fmt = _SCALARS[etype]
                arr = np.frombuffer(self.buf, dtype=np.dtype(fmt), count=count, offset=self.pos).copy()
                self.pos += arr.nbytes
                return arr.tolist()
            return [self.value(etype) for _ in range(count)]
        if vtype not in _SCALARS:
            raise ValueError(f"unknown GGUF value type {vtype}")
        return self.unpack(_SCALARS[vtype])


def read_gguf(path: str | Path) -> tuple[dict, dict[str, GGUFTensor]]:
    """Metadata key/values and tensors of a GGUF file."""
    mm = np.memmap(str(path), dtype=np.uint8, mode="r")
    c = _Cursor(memoryview(mm))
    if bytes(c.buf[:4]) != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    c.pos = 4
    version = c.unpack("<I")
    n_tensors, n_kv = c.unpack("<Q"), c.unpack("<Q")
    kv: dict = {"GGUF.version": version}
    for _ in range(n_kv):
        key = c.string()
        kv[key] = c.value(c.unpack("<I"))
    infos = []
    for _ in range(n_tensors):
        name = c.string()
        ne = [c.unpack("<Q") for _ in range(c.unpack("<I"))]
        qtype = gguf.GGMLQuantizationType(c.unpack("<I"))
        infos.append((name, ne, qtype, c.unpack("<Q")))
    align = int(kv.get("general.alignment", 32))
    start = (c.pos + align - 1) // align * align
    tensors = {}
    for name, ne, qtype, off in infos:
        block, size = gguf.GGML_QUANT_SIZES[qtype]
        nbytes = int(np.prod(ne)) // block * size
        shape = tuple(reversed(ne))
        tensors[name] = GGUFTensor(name, qtype, shape, mm[start + off : start + off + nbytes])
    return kv, tensors
