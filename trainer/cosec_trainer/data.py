"""Training text: files, folders and JSONL, tokenized into fixed-length blocks or prompt/response
examples with loss masks."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import DatasetLineError, TrainerError
from .fim import NO_FIM, FimSettings, encode_documents, maybe_fim

TEXT_SUFFIXES = {
    ".txt", ".md", ".py", ".c", ".h", ".cc", ".cpp", ".hpp", ".js", ".ts", ".java", ".go", ".rs", ".rb",
    ".php", ".sh", ".json", ".yaml", ".yml", ".toml", ".html", ".css", ".sql", ".cs", ".kt", ".swift",
}


def jsonl_records(path: Path):
    """(line number, object) for each non-blank line; malformed lines raise DatasetLineError naming file and line."""
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise DatasetLineError(str(path), n, f"invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(rec, dict):
                raise DatasetLineError(str(path), n, "expected a JSON object")
            yield n, rec


def _field(path: Path, n: int, rec: dict, name: str) -> str:
    v = rec.get(name)
    if not isinstance(v, str):
        raise DatasetLineError(str(path), n, f"field {name!r} must be a string")
    return v


def _files(sources: list[str | Path]) -> list[Path]:
    out: list[Path] = []
    for s in sources:
        p = Path(s)
        if p.is_dir():
            out += sorted(
                f for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and (f.suffix in TEXT_SUFFIXES or f.suffix == ".jsonl")
            )
        elif p.is_file():
            out.append(p)
        else:
            raise TrainerError(f"training data not found: {p}")
    if not out:
        raise TrainerError(f"no text files found in {', '.join(map(str, sources))}")
    return out


def read_texts(sources: list[str | Path]) -> list[str]:
    """Documents from text/code files, folders of them, and JSONL files with a `text` field."""
    texts: list[str] = []
    for f in _files(sources):
        if f.suffix == ".jsonl":
            texts += [_field(f, n, rec, "text") for n, rec in jsonl_records(f)]
        else:
            try:
                texts.append(f.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                raise TrainerError(f"{f}: not UTF-8 text") from None
    return [t for t in texts if t]


def pack_blocks(texts: list[str], tokenizer, block: int, fim: FimSettings = NO_FIM, seed: int = 0) -> torch.Tensor:
    """Concatenate documents (separated by EOS; some as fill-in-the-middle examples, fim.py) and cut
    into rows of `block` tokens."""
    eos = tokenizer.eos_token_id
    ids: list[int] = []
    for doc in encode_documents(texts, tokenizer, fim, seed):
        ids += doc
        if eos is not None:
            ids.append(eos)
    n = len(ids) // block
    if n == 0:
        raise TrainerError(f"the training text has {len(ids)} tokens, fewer than one block of {block}")
    return torch.tensor(ids[: n * block], dtype=torch.long).view(n, block)


@dataclass
class Example:
    ids: list[int]
    loss_mask: list[int]  # 1 where the token is a training target


def read_examples(path: str | Path, tokenizer, max_len: int, fim: FimSettings = NO_FIM, seed: int = 0) -> list[Example]:
    """JSONL with `prompt` + `response` (loss on response tokens only) or `text` (loss everywhere; a
    share `fim.rate` of them as fill-in-the-middle examples, fim.py)."""
    path = Path(path)
    if not path.is_file():
        raise TrainerError(f"dataset not found: {path}")
    out: list[Example] = []
    eos = tokenizer.eos_token_id
    rng = random.Random(seed)
    for n, rec in jsonl_records(path):
        if "prompt" in rec or "response" in rec:
            p = tokenizer(_field(path, n, rec, "prompt")).input_ids
            r = tokenizer(_field(path, n, rec, "response")).input_ids + ([eos] if eos is not None else [])
            ids, mask = p + r, [0] * len(p) + [1] * len(r)
        elif "text" in rec:
            text = _field(path, n, rec, "text")
            ids = maybe_fim(text, tokenizer, rng, fim)
            mask = [1] * len(ids)
        else:
            raise DatasetLineError(str(path), n, "expected fields 'prompt' and 'response', or 'text'")
        ids, mask = ids[:max_len], mask[:max_len]
        if sum(mask[1:]) == 0:
            continue  # nothing to learn once truncated
        out.append(Example(ids, mask))
    if not out:
        raise TrainerError(f"{path}: no usable examples")
    return out


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded batch; padding has attention 0 and loss mask 0."""
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(examples), width), dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        attn[i, : len(e.ids)] = 1
        mask[i, : len(e.ids)] = torch.tensor(e.loss_mask)
    return {"input_ids": ids, "attention_mask": attn, "loss_mask": mask}
