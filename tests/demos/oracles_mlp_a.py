"""Independent checks of the statements of activations, adamw, backprop, batch-size and
learning-rate, loaded by verdict_oracles.py for test_verdict_fuzz.py.

Each check reads the run's step records (and, where a quantity is never streamed, its
numbers) with this file's own arithmetic and its own reading of the vocabulary in
docs/demos.md: loss curves are classified again from the streamed first loss, running peak
and last loss, medians and shares are recomputed here, never with the demos' helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

TWICE = 2.0  # grew / shrank
SPIKE = 1.25  # spiked: anywhere in the run above this times the first loss
CLOSE = 0.05  # about equal
MARGIN = 0.1  # learned


# --- learning-rate -------------------------------------------------------------------------

LR_KEYS = ("lr1", "lr2", "lr3", "lr4")


def _lr_run(r: Any, key: str) -> list[Any]:
    tag = f"#{LR_KEYS.index(key) + 1} "
    return [log for log in r.logs if log.run.startswith(tag)]


def _lr_kind(r: Any, key: str) -> str:
    logs = _lr_run(r, key)
    assert logs[0].step == 1
    first, last = logs[0].metrics["loss"], logs[-1].metrics["loss"]
    peak = logs[-1].metrics["peak"]  # running highest finite loss
    if not math.isfinite(last):
        return "diverged"
    if last == first:
        return "unchanged"
    if peak > SPIKE * first:
        return "jumped"
    if last > first:
        return "rose"
    return "fell" if last * TWICE < first else "barely"


def _lr_contrast(r: Any) -> bool:
    kinds = {_lr_kind(r, k) for k in LR_KEYS}
    varied = len({r.params[k] for k in LR_KEYS}) > 1
    return varied and "fell" in kinds and bool(kinds & {"jumped", "rose", "diverged"})


LEARNING_RATE: dict[str, Check] = {
    **{f"{k}-{kind}": (lambda r, k=k, kind=kind: _lr_kind(r, k) == kind)
       for k in LR_KEYS for kind in ("diverged", "jumped", "rose", "unchanged", "barely",
                                     "fell")},
    "no-best": lambda r: all(_lr_kind(r, k) in ("diverged", "unchanged") for k in LR_KEYS),
    "best": lambda r: any(_lr_kind(r, k) not in ("diverged", "unchanged") for k in LR_KEYS),
    "contrast": _lr_contrast,
    "no-contrast": lambda r: not _lr_contrast(r),
}


CHECKS: dict[str, dict[str, Check]] = {
    "learning-rate": LEARNING_RATE,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "learning-rate": [
        *({f"{k}-{kind}" for kind in ("diverged", "jumped", "rose", "unchanged", "barely",
                                      "fell")} for k in LR_KEYS),
        {"no-best", "best"}, {"contrast", "no-contrast"}, {"no-best", "contrast"},
    ],
}
# Sizes and steps the default suite draws at (inside META's ranges).
SMALL: dict[str, dict[str, float]] = {
    "learning-rate": {"num_hiddens": 16, "steps": 30},
}
