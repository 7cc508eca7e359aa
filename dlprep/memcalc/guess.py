"""A peak range for a bare parameter count, from stated shape assumptions (pure Python).

A count alone fixes weights, gradients and optimiser state but not activations. So
memcalc replays MLPs that have that many parameters -- 784 (MNIST-sized) or 3,072
(CIFAR-sized) inputs, 10 classes, one to four equal hidden ReLU layers -- with the
user's batch, optimiser and precision, and reports the lowest and highest peak. The
range is as good as those assumptions; --layers or --model make it exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import Estimate, estimate
from dlprep.memcalc.units import human

INPUTS = (784, 3072)
DEPTHS = (1, 2, 3, 4)
ASSUMPTION = ("an MLP of that size on 784 or 3,072 inputs, 10 classes, 1-4 equal "
              "hidden ReLU layers")


@dataclass
class Range:
    low: Estimate
    high: Estimate
    count: Estimate | None = None  # the bare count itself: its exact fixed bytes

    @property
    def fixed(self) -> int:
        """Weights, gradients and optimiser state of the count (the shapes' own counts
        differ from it by the rounding of their widths)."""
        e = self.count or self.low
        return e.weights + e.master_weights + e.gradients + e.optimizer_state

    def dominant(self) -> str:
        """Which assumption matters: the fixed state, or the activations (the shapes)."""
        assert self.high.peak is not None
        if self.high.peak - self.fixed > self.fixed:
            return ("activations dominate, so the shapes (depth, widths) decide the answer")
        return ("weights, gradients and optimiser state dominate, so the shapes change "
                "the answer little")


def hidden_width(n: int, d_in: int, depth: int, d_out: int = 10) -> int:
    """Equal hidden width h with d_in*h + h + (depth-1)(h*h + h) + h*d_out + d_out ~ n."""
    a, b, c = depth - 1, d_in + 1 + (depth - 1) + d_out, d_out - n
    h = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return max(1, round(h))


def candidates(cfg: Config) -> list[Config]:
    assert cfg.params is not None
    out = []
    for d_in in INPUTS:
        for depth in DEPTHS:
            h = hidden_width(cfg.params, d_in, depth)
            if d_in * h > cfg.params:  # the input layer alone would exceed the count
                continue
            out.append(replace(cfg, params=None, input_chw=None, channels=None,
                               layers=(d_in, *[h] * depth, 10)))
    return out


def peak_range(cfg: Config) -> Range | None:
    """Lowest and highest replayed peak over the assumed shapes (None if none fits)."""
    if cfg.params is None:
        return None
    ests = [estimate(c) for c in candidates(cfg)]
    ests = [e for e in ests if e.peak is not None]
    if not ests:
        return None
    return Range(min(ests, key=lambda e: e.peak or 0), max(ests, key=lambda e: e.peak or 0),
                 estimate(cfg))


def range_text(cfg: Config, r: Range) -> str:
    lo, hi = r.low, r.high
    assert lo.peak is not None and hi.peak is not None and lo.cfg.layers and hi.cfg.layers
    return (f"Peak range, assuming {ASSUMPTION}: {human(lo.peak)} to {human(hi.peak)} at "
            f"batch {cfg.batch} ({'-'.join(map(str, lo.cfg.layers))} to "
            f"{'-'.join(map(str, hi.cfg.layers))}); weights, gradients and state are "
            f"{human(r.fixed)} of it whatever the shape: {r.dominant()}. Exact: give "
            "--layers (MLP widths) or --model (a transformer).")


def below_table(est: Estimate, r: Range | None = None) -> str:
    """What a count-only table says under itself: the range, or a conv map's caveat."""
    cfg = est.cfg
    if est.peak is None and cfg.input_chw is not None and cfg.channels is not None:
        _, h, w = cfg.input_chw
        fmap = cfg.batch * cfg.channels * h * w * cfg.act_bytes
        return (f"Convolutions are not replayed: each conv + ReLU layer saves about one "
                f"activation map ({human(fmap)} here), so the peak is at least "
                f"{human(est.peak_floor)} plus about one map per layer; memcalc has no "
                "exact answer for a conv net.")
    r = r or (peak_range(cfg) if est.peak is None else None)
    return range_text(cfg, r) if r is not None else ""
