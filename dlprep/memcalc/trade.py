"""What activation checkpointing buys and costs, from two replays (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import Estimate, estimate


@dataclass
class Trade:
    saved_without: int  # saved activations of the same step without checkpointing
    peak_without: int
    recomputed: int  # the largest block's recomputed saves (one block at a time)
    extra_flops: int  # the recompute: one more forward of every hidden Linear
    step_flops: int  # matmul FLOPs of a step without checkpointing

    @property
    def extra_pct(self) -> float:
        return 100 * self.extra_flops / self.step_flops


def matmul_flops(layers: tuple[int, ...], batch: int) -> tuple[int, int]:
    """(the step's matmul FLOPs, the recompute's): 2 per multiply-add.

    Each Linear costs 2·B·a·b forward and twice that backward (weight and input
    gradients), except the first, whose input needs no gradient. Checkpointing reruns
    the forward of every Linear but the last, which is not checkpointed.
    """
    pairs = list(zip(layers, layers[1:], strict=False))
    forward = [2 * batch * a * b for a, b in pairs]
    step = 3 * sum(forward) - forward[0]
    return step, sum(forward[:-1])


def gpt_flops(cfg: Config) -> tuple[int, int]:
    """(the step's matmul FLOPs, the recompute's) for a GPT: projections, the two
    attention matmuls (q k^T and p v) and the head; backward costs twice the forward.
    The recompute reruns every block but stops before its down projection."""
    g = cfg.gpt
    assert g is not None
    bt = cfg.batch * cfg.seq
    linears = 2 * bt * sum(a * b for name, a, b in g.linears()
                           if not g.n_experts or name in ("q", "k", "v", "o", "router"))
    down = 2 * bt * g.ff * g.d_model
    if g.n_experts:  # B·T·k routed token rows through one expert's three Linears each,
        down = 0  # and the recompute runs to the last expert's end
        linears += 3 * 2 * bt * g.top_k * g.d_model * g.ff
    attention = 2 * 2 * cfg.batch * g.n_head * cfg.seq * cfg.seq * g.head_dim
    block = linears + attention
    forward = g.n_layer * block + 2 * bt * g.d_model * g.vocab
    return 3 * forward, g.n_layer * (block - down)


def trade(est: Estimate) -> Trade:
    cfg = est.cfg
    assert est.saved_activations is not None
    plain = estimate(replace(cfg, checkpointing=False))
    assert plain.saved_activations is not None and plain.peak is not None
    if cfg.gpt is not None:
        step, extra = gpt_flops(cfg)
    else:
        assert cfg.layers is not None
        step, extra = matmul_flops(cfg.layers, cfg.batch)
    return Trade(plain.saved_activations, plain.peak, max(est.recomputed.values(), default=0),
                 extra, step)


def trade_text(est: Estimate) -> str:
    if not est.recomputed or est.saved_activations is None or est.peak is None:
        return ""
    tr = trade(est)
    less = tr.saved_without - est.saved_activations
    diff = tr.peak_without - est.peak
    change = (f"{diff:,} B lower" if diff > 0 else f"{-diff:,} B higher" if diff < 0
              else "unchanged: the peak is not where activations are held")
    return (f"Checkpointing: saved activations {est.saved_activations:,} B instead of "
            f"{tr.saved_without:,} B ({less:,} B less); peak {est.peak:,} B instead of "
            f"{tr.peak_without:,} B ({change}). The price is "
            f"one more forward of the {'blocks' if est.cfg.gpt else 'hidden blocks'} in "
            f"backward, {tr.extra_flops:,} FLOPs "
            f"(+{tr.extra_pct:.0f}% of the step's {tr.step_flops:,} matmul FLOPs).")
