"""Optimiser state and step temporaries, as torch 2.13's optimisers (and bitsandbytes')
allocate them."""

from __future__ import annotations

from math import prod

from dlprep.memcalc.config import Config
from dlprep.memcalc.optimizers import (
    BNB_BLOCK,
    BNB_MIN_8BIT,
    BNB_QMAPS,
    OPTIMIZERS,
)
from dlprep.memcalc.shape import Dims
from dlprep.memcalc.timeline import Timeline


def state_tensors(cfg: Config, dims: Dims) -> list[int]:
    """Bytes of each optimiser-state tensor kept for a parameter of shape ``dims``."""
    opt = OPTIMIZERS[cfg.optimizer]
    n = prod(dims)
    if opt.library == "bitsandbytes":
        # Blockwise 8-bit moments with one fp32 absmax per block each, or fp32 moments
        # (32-bit optimisers, and tensors too small to quantise); the step is a Python int.
        if opt.state_bits == 8 and n >= BNB_MIN_8BIT:
            blocks = -(-n // BNB_BLOCK)
            return [n, n, 4 * blocks, 4 * blocks]
        return [4 * n, 4 * n]
    # The scalar step counter stays a float32 CPU tensor (unless capturable/fused).
    step = [4] if opt.step_counter and cfg.device != "cuda" else []
    if opt.factored:
        moments = list(_factors(dims)) if len(dims) > 1 else [n]
        return [m * cfg.state_bytes for m in moments] + step
    return [n * cfg.state_bytes for _ in opt.state] + step


def _factors(dims: Dims) -> tuple[int, int]:
    """Elements of Adafactor's row_var (last dim 1) and col_var (second-last dim 1)."""
    lead = prod(dims[:-2])
    return lead * dims[-2], lead * dims[-1]


def state_sizes(cfg: Config) -> list[int]:
    """Every optimiser-state tensor of the step, in bytes (bitsandbytes' quantile maps
    once: every 8-bit tensor's state points at the same two)."""
    sizes = [s for d in cfg.trained_dims for s in state_tensors(cfg, d)]
    opt = OPTIMIZERS[cfg.optimizer]
    if opt.state_bits == 8 and any(prod(d) >= BNB_MIN_8BIT for d in cfg.trained_dims):
        sizes += [BNB_QMAPS // 2, BNB_QMAPS // 2]
    return sizes


def step(t: Timeline, cfg: Config) -> list[str]:
    """The optimiser step's temporaries (state already built: a warmed-up step).

    With master weights the half gradients are first copied to fp32 (``p.grad.float()``),
    one tensor per parameter, kept as the masters' ``.grad``: their keys are returned.
    """
    t.start("step")
    copies = [t.alloc(n * 4, "fp32 copy of a half gradient") for n in cfg.trained_shapes
              if cfg.master]
    for k in copies:
        t.keep_as_grad(k)
    opt = OPTIMIZERS[cfg.optimizer]
    if opt.library == "bitsandbytes":
        return copies  # one fused kernel per tensor, updating weights and state in place
    if opt.factored:
        from dlprep.memcalc.optim_adafactor import adafactor

        adafactor(t, cfg)
    else:
        _update(t, cfg)
    return copies


def _update(t: Timeline, cfg: Config) -> None:
    sizes = [n * cfg.state_bytes for n in cfg.trained_shapes]
    opt, wd = OPTIMIZERS[cfg.optimizer], cfg.weight_decay > 0
    name = opt.name
    if cfg.foreach:
        if opt.foreach_sqrt:
            t.drop(t.alloc(4, "optimiser scalar constant"))
        lists: list[str] = []
        if wd and not opt.decoupled:
            lists = [t.alloc(s, "grad + weight_decay * param") for s in sizes]
            if opt.drops_decayed_early:  # Adam lerps the decayed grads in, then lets go
                for k in lists:
                    t.drop(k)
                lists = []
        if opt.foreach_sqrt:
            lists += [t.alloc(s, f"{name} foreach sqrt") for s in sizes]
        if opt.foreach_neg_lr_list and not wd:  # with weight decay it is made in place
            lists += [t.alloc(s, f"{name} foreach grad * -lr") for s in sizes]
        for k in lists:
            t.drop(k)
        return
    # Per-tensor loops: each variable lives until it is rebound for the next parameter.
    prev_grad: str | None = None
    prev: str | None = None
    for s in sizes:
        if prev_grad is not None:
            t.drop(prev_grad)
            prev_grad = None
        if wd and not opt.decoupled:
            prev_grad = t.alloc(s, "grad + weight_decay * param")
        if not opt.per_tensor:
            continue
        if opt.per_tensor == "sqrt+den":
            sq = t.alloc(s, "sqrt(exp_avg_sq)")
            den = t.alloc(s, "denominator")
            t.drop(sq)
        else:
            den = t.alloc(s, "sqrt(state)")
        if prev is not None:
            t.drop(prev)
        prev = den
    for last in (prev, prev_grad):
        if last is not None:
            t.drop(last)
