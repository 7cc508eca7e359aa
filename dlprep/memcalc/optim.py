"""Optimiser state and step temporaries, as torch 2.13's optimisers allocate them."""

from __future__ import annotations

from dlprep.memcalc.config import Config
from dlprep.memcalc.optimizers import OPTIMIZERS
from dlprep.memcalc.timeline import Timeline


def state_tensors(cfg: Config, n: int) -> list[int]:
    """Bytes of each optimiser-state tensor kept for a parameter of ``n`` elements."""
    opt = OPTIMIZERS[cfg.optimizer]
    # The scalar step counter stays a float32 CPU tensor (unless capturable/fused).
    step = [4] if opt.step_counter and cfg.device != "cuda" else []
    return [n * cfg.state_bytes for _ in opt.state] + step


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
