"""torch.optim.Adafactor's step, replayed tensor by tensor (torch 2.13,
``torch/optim/_adafactor.py``): the per-tensor loop and the foreach kernels.

Each parameter gets a 0-d norm (freed at once), the row and column means of its squared
gradient (a matrix) or the squared gradient itself (a vector), and a full-size variance
estimate that becomes the update. In the per-tensor loop every Python local lives until
it is rebound for a later parameter; the foreach version makes each list for a whole
group (matrices, then vectors, in the order their first tensor comes) and ``del``\\ s
the means.
"""

from __future__ import annotations

from math import prod

from dlprep.memcalc.config import Config
from dlprep.memcalc.shape import Dims
from dlprep.memcalc.timeline import Timeline


def adafactor(t: Timeline, cfg: Config) -> None:
    dims, e = cfg.trained_dims, cfg.state_bytes
    if cfg.foreach:
        _foreach(t, cfg, dims, e)
    else:
        _loop(t, dims, e)


def _factors(d: Dims) -> tuple[int, int, int]:
    lead = prod(d[:-2])
    return lead * d[-2], lead * d[-1], lead  # row_var, col_var, row_var's mean


def _loop(t: Timeline, dims: list[Dims], e: int) -> None:
    local: dict[str, str] = {}

    def bind(name: str, key: str) -> None:  # the old value dies when the name is rebound
        old = local.get(name)
        local[name] = key
        if old is not None:
            t.drop(old)

    for d in dims:
        n = prod(d)
        t.drop(t.alloc(e, "adafactor param norm"))
        if len(d) > 1:
            rows, cols, lead = _factors(d)
            bind("row_mean", t.alloc(rows * e, "adafactor row mean"))
            bind("col_mean", t.alloc(cols * e, "adafactor column mean"))
            estimate = t.alloc(n * e, "adafactor row_var @ col_var")
            t.drop(t.alloc(lead * e, "adafactor row_var mean"))
        else:
            bind("grad_squared", t.alloc(n * e, "adafactor grad * grad"))
            estimate = t.alloc(n * e, "adafactor variance clone")
        # ``update`` (the same tensor, clamped and rsqrt-ed in place) still holds the
        # previous estimate until it is rebound here.
        bind("update", estimate)
        t.drop(t.alloc(e, "adafactor update norm"))
    for key in local.values():
        t.drop(key)


def _foreach(t: Timeline, cfg: Config, dims: list[Dims], e: int) -> None:
    groups: dict[bool, list[Dims]] = {}
    for d in dims:
        groups.setdefault(len(d) > 1, []).append(d)
    updates: list[str] = []
    for matrix, ds in groups.items():
        if cfg.device != "cuda":  # steps on the CPU: the increment is a 0-d tensor
            t.drop(t.alloc(4, "adafactor step increment"))
        for _ in ds:
            t.drop(t.alloc(e, "adafactor param norm"))
        if matrix:
            for which in (0, 1):
                means = [t.alloc(_factors(d)[which] * e, "adafactor row/column means")
                         for d in ds]
                for k in means:
                    t.drop(k)
            estimates = [t.alloc(prod(d) * e, "adafactor row_var @ col_var") for d in ds]
            means = [t.alloc(_factors(d)[2] * e, "adafactor row_var means") for d in ds]
            for k in means:
                t.drop(k)
        else:
            squared = [t.alloc(prod(d) * e, "adafactor grad * grad") for d in ds]
            for k in squared:
                t.drop(k)
            estimates = [t.alloc(prod(d) * e, "adafactor variance clone") for d in ds]
        for k in updates:  # ``updates`` still holds the previous group's list until here
            t.drop(k)
        updates = estimates
        for _ in ds:
            t.drop(t.alloc(e, "adafactor update norm"))
    for k in updates:
        t.drop(k)
