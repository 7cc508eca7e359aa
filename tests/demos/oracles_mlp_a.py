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


# --- adamw ---------------------------------------------------------------------------------

ADAMW_RUNS = ("adam", "adam+l2", "adamw")


def _aw_per(r: Any) -> float:
    return r.params["lr"] * r.params["wd"]


def _aw_end_norm(r: Any, run: str) -> float:
    return float(r.of(run)[-1].metrics["weight_norm"])


def _aw_readable(r: Any) -> bool:
    l2 = r.numbers["adam+l2"]
    lo, hi = l2["decay_p10"], l2["decay_p90"]
    return _aw_per(r) > 0 and math.isfinite(lo) and math.isfinite(hi) and lo > 0


def _aw_spread(r: Any) -> float:
    l2 = r.numbers["adam+l2"]
    return l2["decay_p90"] / l2["decay_p10"]


def _aw_percentiles(r: Any) -> bool:
    """The printed spread is p90/p10, and the percentiles are in order."""
    l2 = r.numbers["adam+l2"]
    return (_aw_readable(r) and math.isclose(l2["decay_spread"], _aw_spread(r), rel_tol=1e-9)
            and l2["decay_p10"] <= l2["decay_median"] <= l2["decay_p90"])


def _aw_layers_are_the_end(r: Any) -> bool:
    """The per-layer medians printed are those of the last decay/ record (the end state)."""
    last = r.layers("adam+l2", "decay/", -1)
    return _aw_readable(r) and len(last) == len(r.numbers["adam+l2"]["decay_per_layer"]) and all(
        math.isclose(a, b, rel_tol=1e-6)
        for a, b in zip(last, r.numbers["adam+l2"]["decay_per_layer"], strict=True))


def _aw_norms(r: Any) -> bool:
    return all(math.isclose(_aw_end_norm(r, run), r.numbers[run]["weight_norm"], rel_tol=1e-9)
               or math.isnan(r.numbers[run]["weight_norm"]) for run in ADAMW_RUNS)


ADAMW: dict[str, Check] = {
    "no-decay": lambda r: _aw_per(r) == 0 and len(
        {_aw_end_norm(r, run) for run in ADAMW_RUNS}) == 1,
    "adamw-rate": lambda r: 0 < _aw_per(r) < 1
    and r.numbers["adamw"]["decay_per_step"] == _aw_per(r),
    "adamw-flips": lambda r: _aw_per(r) >= 1,
    "l2-unreadable": lambda r: _aw_per(r) > 0 and not _aw_readable(r),
    "l2-spread": _aw_percentiles,
    "l2-uneven": lambda r: _aw_readable(r) and _aw_spread(r) > 10,
    "l2-moderate": lambda r: _aw_readable(r) and TWICE < _aw_spread(r) <= 10,
    "l2-level": lambda r: _aw_readable(r) and _aw_spread(r) <= TWICE,
    "l2-far": lambda r: _aw_readable(r) and r.numbers["adam+l2"]["decay_p10"] > TWICE * _aw_per(r),
    "l2-slow": lambda r: _aw_readable(r) and r.numbers["adam+l2"]["decay_p90"] * TWICE < _aw_per(r),
    "l2-per-layer": _aw_layers_are_the_end,
    "norms": _aw_norms,
    "accuracies": lambda r: all(0 <= r.numbers[run]["test_acc"] <= 1 for run in ADAMW_RUNS),
}


CHECKS: dict[str, dict[str, Check]] = {
    "learning-rate": LEARNING_RATE,
    "adamw": ADAMW,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "learning-rate": [
        *({f"{k}-{kind}" for kind in ("diverged", "jumped", "rose", "unchanged", "barely",
                                      "fell")} for k in LR_KEYS),
        {"no-best", "best"}, {"contrast", "no-contrast"}, {"no-best", "contrast"},
    ],
    "adamw": [{"no-decay", "adamw-rate", "adamw-flips"}, {"no-decay", "l2-unreadable", "l2-spread"},
              {"l2-uneven", "l2-moderate", "l2-level"}, {"l2-far", "l2-slow"}],
}
# Sizes and steps the default suite draws at (inside META's ranges).
SMALL: dict[str, dict[str, float]] = {
    "learning-rate": {"num_hiddens": 16, "steps": 30},
    "adamw": {"num_hiddens": 8, "num_train": 32, "steps": 10},
}
