"""Fill-in-the-middle training examples, so that a model the trainer makes can fill code between a
prefix and a suffix as editors ask (llama.cpp's /infill). A document becomes, in prefix-suffix-middle
order as Qwen2.5-Coder and StarCoder are trained and as llama.cpp lays out /infill prompts:

    <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle  (then EOS, as every document)

cut at two random character positions (Bavarian et al. 2022, "Efficient Training of Language Models
to Fill in the Middle"), or, for a share `line_share` of the examples, at two line starts: a small
model trained on character cuts alone learns that a middle starts inside a word, and fills an
editor's hole at a line start with a word's tail ("eturn f.read()", measured on the demo family). The tokens are special (one id each, exported as GGUF control tokens) and
spelled as Qwen2.5-Coder's, which llama.cpp recognises by name."""
from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import TrainerError

# Order matters to the test fixtures, which put them at fixed ids (fixtures.py).
FIM_TOKENS = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>")


def add_fim_tokens(tokenizer) -> int:
    """Adds the FIM tokens the tokenizer lacks, as special tokens; returns how many were added."""
    missing = [t for t in FIM_TOKENS if t not in tokenizer.get_vocab()]
    if not missing:
        return 0
    return tokenizer.add_tokens(missing, special_tokens=True)


def fim_ids(tokenizer) -> tuple[int, int, int]:
    """The prefix, suffix and middle token ids; a tokenizer without them is a named error."""
    vocab = tokenizer.get_vocab()
    missing = [t for t in FIM_TOKENS[:3] if t not in vocab]
    if missing:
        raise TrainerError(f"the tokenizer has no {', '.join(missing)} token(s): FIM examples need them (train from a fresh model with --fim-rate, which adds them)")
    return vocab[FIM_TOKENS[0]], vocab[FIM_TOKENS[1]], vocab[FIM_TOKENS[2]]


def line_starts(text: str) -> list[int]:
    """Offsets where a line starts, the text's end included (a hole may be at the very end)."""
    return [0, *(i + 1 for i, ch in enumerate(text) if ch == "\n" and i + 1 < len(text)), len(text)]


@dataclass(frozen=True)
class FimSettings:
    """How documents become FIM examples: a share `rate` of them, of which a share `line_share` are
    cut at line starts (any character otherwise) and a share `spm_share` laid out suffix first."""

    rate: float = 0.0
    line_share: float = 0.0
    spm_share: float = 0.0

    def __post_init__(self) -> None:
        for name, x in (("--fim-rate", self.rate), ("--fim-line-share", self.line_share), ("--fim-spm-share", self.spm_share)):
            if not 0.0 <= x <= 1.0:
                raise TrainerError(f"{name} must be in [0, 1], got {x}")

    @classmethod
    def of(cls, values) -> "FimSettings":
        """From parsed arguments or a run's config.json (fim_rate, fim_line_share, fim_spm_share)."""
        get = values.get if isinstance(values, dict) else lambda k, d: getattr(values, k, d)
        return cls(float(get("fim_rate", 0.0) or 0.0), float(get("fim_line_share", 0.0) or 0.0), float(get("fim_spm_share", 0.0) or 0.0))

    @property
    def order(self) -> str | None:
        """The layout most of the examples had ("spm" or "psm"; None without FIM): written into the
        exported GGUF (cosec.fim.order) so that cosec lays out fills as the model learned them."""
        if self.rate == 0.0:
            return None
        return "spm" if self.spm_share > 0.5 else "psm"


NO_FIM = FimSettings()


def fim_example(text: str, tokenizer, rng: random.Random, fim: FimSettings = NO_FIM) -> list[int]:
    """`text` as one fill-in-the-middle example (token ids, no EOS), cut at two random places: line
    starts for a share `fim.line_share` of the examples, any character otherwise; laid out suffix-
    prefix-middle (llama.cpp's --spm-infill: <|fim_suffix|> suffix <|fim_prefix|> prefix
    <|fim_middle|> middle) for a share `fim.spm_share`, prefix-suffix-middle otherwise. Suffix first,
    the middle follows the prefix's last token as in a plain completion, which a small model learns
    far sooner (README, "Editors")."""
    pre, suf, mid = fim_ids(tokenizer)
    if fim.line_share > 0 and rng.random() < fim.line_share:
        starts = line_starts(text)
        a, b = sorted(rng.choice(starts) for _ in range(2))
    else:
        a, b = sorted(rng.randint(0, len(text)) for _ in range(2))
    enc = lambda s: tokenizer(s, add_special_tokens=False).input_ids if s else []  # noqa: E731
    lead = tokenizer("").input_ids  # the BOS, where the tokenizer adds one: llama.cpp's /infill starts so
    prefix, suffix = [pre, *enc(text[:a])], [suf, *enc(text[b:])]
    spm = fim.spm_share > 0 and rng.random() < fim.spm_share
    return [*lead, *(suffix + prefix if spm else prefix + suffix), mid, *enc(text[a:b])]


def maybe_fim(text: str, tokenizer, rng: random.Random, fim: FimSettings) -> list[int]:
    """The document's token ids: a FIM example for a share `fim.rate` of the calls, else the text as is."""
    if fim.rate > 0 and rng.random() < fim.rate:
        return fim_example(text, tokenizer, rng, fim)
    return tokenizer(text).input_ids


def encode_documents(texts: list[str], tokenizer, fim: FimSettings = NO_FIM, seed: int = 0) -> list[list[int]]:
    """Token ids of each document; a share `fim.rate` of them (chosen by `seed`) as FIM examples."""
    if fim.rate == 0.0:
        return [tokenizer(t).input_ids for t in texts]
    rng = random.Random(seed)
    return [maybe_fim(t, tokenizer, rng, fim) for t in texts]
