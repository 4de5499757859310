"""The training loop shared by every phase: schedule, data order, DDP, metrics, progress,
checkpoints and exact resume.

Exact resume: the samples of step s are a pure function of (seed, s); the LR is a function of s;
optimizer state and each rank's RNG state are checkpointed; evaluation runs under a forked RNG.
So a run killed and resumed from its last checkpoint recomputes the same losses bit for bit
(same device and thread count)."""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch

from . import checkpoint as ck
from . import distributed
from .errors import TrainerError
from .progress import Meter, emit, log


@dataclass
class LoopArgs:
    run_dir: str
    steps: int = 100
    batch_size: int = 8  # sequences per optimizer step, over all ranks
    lr: float = 3e-4
    warmup: int = 10
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    eval_every: int = 0  # 0: only at the end
    save_every: int = 0  # 0: only at the end
    keep_last: int = 2
    seed: int = 0
    resume: bool = False
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 (mixed precision: fp32 weights, bf16 matmuls)


class Phase(Protocol):
    name: str
    model: torch.nn.Module
    n_train: int

    def batch(self, indices: list[int]) -> dict[str, torch.Tensor]: ...

    def loss(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, dict]: ...

    def evaluate(self, model: torch.nn.Module) -> dict: ...

    def save(self, folder: Path) -> None: ...

    def load(self, folder: Path) -> None: ...


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainerError("--device cuda requested but CUDA is not available")
    return torch.device(name)


PRECISIONS = ("auto", "fp32", "bf16")


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls run at twice fp32's rate or more (2.4x measured on 2 Zen 4
    cores for the 4m preset); elsewhere PyTorch would emulate bf16, which is slower than fp32."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return False
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def pick_autocast(precision: str, device: torch.device):
    if precision not in PRECISIONS:
        raise TrainerError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" or cpu_has_native_bf16() else "fp32"
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"), precision


def lr_at(step: int, a: LoopArgs) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio * lr."""
    if a.warmup > 0 and step <= a.warmup:
        return a.lr * step / a.warmup
    t = (step - a.warmup) / max(1, a.steps - a.warmup)
    return a.lr * (a.min_lr_ratio + (1 - a.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


_perms: dict[tuple[int, int, int], torch.Tensor] = {}


def _perm(seed: int, epoch: int, n: int) -> torch.Tensor:
    key = (seed, epoch, n)
    if key not in _perms:
        _perms.clear()  # only the current (and maybe next) epoch is ever needed
        _perms[key] = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    return _perms[key]


def step_indices(step: int, a: LoopArgs, n: int) -> list[int]:
    """The global batch of `step` (1-based): consecutive slices of per-epoch seeded permutations."""
    out = []
    for pos in range((step - 1) * a.batch_size, step * a.batch_size):
        epoch, i = divmod(pos, n)
        out.append(int(_perm(a.seed, epoch, n)[i]))
    return out


def weights_digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, p in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def _write_config(run_dir: Path, config: dict, resume: bool) -> None:
    path = run_dir / "config.json"
    if resume and path.is_file():
        old = json.loads(path.read_text())
        ignore = {"resume", "steps", "run_dir"}
        diff = sorted(k for k in set(old) | set(config) if k not in ignore and old.get(k) != config.get(k))
        if diff:
            raise TrainerError(f"--resume with different settings than {path}: {', '.join(diff)}")
    # atomic: a kill mid-write must not leave a config.json that --resume cannot read
    ck.atomic_write_text(path, json.dumps(config, indent=2, default=str) + "\n")


def run(phase: Phase, a: LoopArgs, config: dict) -> dict:
    device = pick_device(a.device)
    d = distributed.init(device)
    device = d.device
    run_dir = Path(a.run_dir)
    try:
        if a.batch_size % d.world:
            raise TrainerError(f"--batch-size {a.batch_size} must be divisible by the {d.world} processes")
        if d.main:
            run_dir.mkdir(parents=True, exist_ok=True)
            _write_config(run_dir, {**config, **asdict(a)}, a.resume)
        d.barrier()
        torch.manual_seed(a.seed * 7919 + d.rank)
        start, best = 0, float("inf")
        resumed = ck.resolve(run_dir, "latest") if a.resume else None
        if a.resume and resumed is None:
            log(f"--resume: no checkpoint in {run_dir}, starting from scratch")
        if resumed is not None:
            phase.load(resumed / "model")
        model = phase.model.to(device)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.95), weight_decay=a.weight_decay)
        if resumed is not None:
            state = ck.load_state(resumed)
            opt.load_state_dict(state["optimizer"])
            start, best = state["step"], state["best"]
            rng = resumed / f"rng-rank{d.rank}.pt"
            if not rng.is_file():
                raise TrainerError(f"{resumed} was written by a run with fewer processes (no {rng.name})")
            ck.set_rng_state(torch.load(rng, weights_only=False))
            if d.main:
                ck.truncate_metrics(run_dir / "metrics.jsonl", start)
            log(f"resumed from {resumed} at step {start}")
        elif d.main:
            # Starting at step 0: records of an earlier attempt killed before its first checkpoint
            # would otherwise stay in front of the new ones (every step logged twice).
            ck.truncate_metrics(run_dir / "metrics.jsonl", -1)
        train_model = model
        if d.world > 1:
            train_model = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[device.index] if device.type == "cuda" else None
            )
        n_trainable = sum(p.numel() for p in params)
        autocast, precision = pick_autocast(a.precision, device)
        if d.main:
            log(
                f"{phase.name}: {n_trainable:,} trainable parameters, {phase.n_train} training samples, "
                f"device {device} ({precision}), {d.world} process(es)"
            )
            emit("start", phase=phase.name, steps=a.steps, start_step=start, trainable_params=n_trainable, world=d.world, precision=precision)
        meter = Meter(start, a.steps)
        metrics = (run_dir / "metrics.jsonl").open("a") if d.main else None
        last_eval: dict = {}

        def save(name: str, step: int, point_latest: bool) -> None:
            tmp = ck.ckpt_root(run_dir) / f".tmp-{name}"
            if d.main:
                tmp = ck.begin(run_dir, name)
                phase.save(tmp / "model")
                ck.save_state(tmp, {"step": step, "best": best, "optimizer": opt.state_dict(), "args": asdict(a)})
            d.barrier()
            torch.save(ck.rng_state(), tmp / f"rng-rank{d.rank}.pt")
            d.barrier()
            if d.main:
                ck.commit(run_dir, tmp, name, point_latest=point_latest, keep_last=a.keep_last)
            d.barrier()

        def evaluate() -> dict:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                model.eval()
                with torch.no_grad(), autocast:
                    return phase.evaluate(model)

        if start == 0:  # the untrained baseline, so every curve starts from a measured point
            first = evaluate()
            if d.main:
                metrics.write(json.dumps({"step": 0, "eval": first}) + "\n")
                emit("eval", step=0, **first)

        for step in range(start + 1, a.steps + 1):
            lr = lr_at(step, a)
            for g in opt.param_groups:
                g["lr"] = lr
            idx = step_indices(step, a, phase.n_train)[d.rank :: d.world]
            batch = _to(phase.batch(idx), device)
            model.train()
            with autocast:
                loss, tokens, extra = phase.loss(train_model, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, a.grad_clip)
            opt.step()
            loss_v = d.mean(float(loss.detach()))
            tok_s, eta = meter.update(step, tokens * d.world)
            if d.main:
                rec = {"step": step, "loss": loss_v, "lr": lr, "tokens_per_s": tok_s, "time": time.time(), **extra}
                metrics.write(json.dumps(rec) + "\n")
                metrics.flush()
                emit("progress", step=step, steps=a.steps, loss=loss_v, lr=lr, tokens_per_s=round(tok_s, 1), eta_s=round(eta, 1))
            if (a.eval_every and step % a.eval_every == 0) or step == a.steps:
                last_eval = evaluate()
                if d.main:
                    metrics.write(json.dumps({"step": step, "eval": last_eval}) + "\n")
                    metrics.flush()
                    emit("eval", step=step, **last_eval)
                if last_eval["val_loss"] < best:
                    best = last_eval["val_loss"]
                    save("best", step, point_latest=False)
            if (a.save_every and step % a.save_every == 0) or step == a.steps:
                save(f"step-{step:08d}", step, point_latest=True)
                if d.main:
                    emit("checkpoint", step=step, path=str(ck.resolve(run_dir, "latest")))
        digest = weights_digest(model)
        if d.world > 1:
            (run_dir / f"final-weights-rank{d.rank}.sha256").write_text(digest + "\n")
        if metrics:
            metrics.close()
        result = {"steps": a.steps, "best_val_loss": best, "last_eval": last_eval, "weights_sha256": digest}
        if d.main:
            emit("done", **result)
        return result
    finally:
        distributed.shutdown(d)
