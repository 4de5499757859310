"""Pretraining throughput of the cosec loop vs a minimal plain PyTorch loop, same model and batches.

    PYTHONPATH=trainer .venv/bin/python -m cosec_trainer.bench --size 25m --batch-size 4 --block 128 --steps 8

Both loops start from identical weights (same seed), see the same batches, use the same AdamW
settings and run alternately (plain, cosec, plain, cosec, ...) so machine load affects both alike.
Steps before --skip are warm-up and not timed. Prints one JSON line with tokens/s and the ratio."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from . import losses
from .loop import LoopArgs, run
from .models import create_model, load_tokenizer
from .phases import PretrainPhase


def plain_loop(model, blocks: torch.Tensor, steps: int, batch: int, lr: float, skip: int, device) -> float:
    model.to(device).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, betas=(0.9, 0.95))
    times = []
    for step in range(steps):
        ids = blocks[torch.arange(step * batch, (step + 1) * batch) % len(blocks)].to(device)
        logits = model(input_ids=ids).logits
        loss = losses.masked_ce(logits[:, :-1], ids[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        float(loss.detach())  # the cosec loop reads the loss every step too
        times.append(time.perf_counter())
    tokens = (ids.shape[1] - 1) * batch * (steps - skip)
    return tokens / (times[-1] - times[skip - 1])


def cosec_loop(model, tok, blocks, steps, batch, lr, skip, device_name) -> float:
    with tempfile.TemporaryDirectory() as d:
        phase = PretrainPhase(model, tok, blocks, blocks[:1])
        # fp32 like the plain loop: the ratio measures the loop, not mixed precision.
        args = LoopArgs(run_dir=str(Path(d) / "run"), steps=steps, batch_size=batch, lr=lr, warmup=0, device=device_name, precision="fp32")
        import contextlib, io

        with contextlib.redirect_stdout(io.StringIO()):
            run(phase, args, {"bench": True})
        recs = [json.loads(l) for l in (Path(d) / "run" / "metrics.jsonl").read_text().splitlines()]
        t = {r["step"]: r["time"] for r in recs if "loss" in r}
        seq = blocks.shape[1] - 1
        return seq * batch * (steps - skip) / (t[steps] - t[skip])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="cosec_trainer.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="25m")
    p.add_argument("--arch", default="llama")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--block", type=int, default=128)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--skip", type=int, default=2, help="warm-up steps not timed")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else ("cpu" if a.device == "auto" else a.device))
    tok = load_tokenizer()
    g = torch.Generator().manual_seed(0)
    blocks = torch.randint(0, len(tok), (a.batch_size * a.steps, a.block), generator=g)
    plain, ours = [], []
    for _ in range(a.rounds):
        plain.append(plain_loop(create_model(a.arch, a.size, tok, seed=0), blocks, a.steps, a.batch_size, 3e-4, a.skip, device))
        ours.append(cosec_loop(create_model(a.arch, a.size, tok, seed=0), tok, blocks, a.steps, a.batch_size, 3e-4, a.skip, str(device)))
        print(f"round: plain {plain[-1]:.1f} tok/s, cosec {ours[-1]:.1f} tok/s", file=sys.stderr)
    best_plain, best_ours = max(plain), max(ours)
    out = {
        "size": a.size, "device": str(device), "batch": a.batch_size, "block": a.block, "timed_steps": a.steps - a.skip,
        "plain_tokens_per_s": round(best_plain, 1), "cosec_tokens_per_s": round(best_ours, 1),
        "ratio": round(best_ours / best_plain, 3), "median_ratio": round(statistics.median(o / p for o, p in zip(ours, plain)), 3),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
