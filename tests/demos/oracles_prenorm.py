"""Independent checks of prenorm-postnorm's statements, loaded by verdict_oracles.py for
test_verdict_fuzz.py.

Each check reads the streamed block gradients (``grad/1``..``grad/L`` of each run's first and
last record) and losses with this file's own arithmetic; the held-out accuracy and loss, which
are never streamed, come from the numbers. Thresholds are restated here: a gradient has
*faded* where the weakest block has under 1/10 of the last block's; *learned* is accuracy at
least 10 points above chance (1/16).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]
RUNS = ("pre", "post")
CHANCE, MARGIN, FADED = 1 / 16, 0.1, 10.0


def _grads(r: Any, run: str, which: int) -> list[float]:
    return r.layers(run, "grad/", which)


def _broke(r: Any, run: str) -> bool:
    """Some streamed loss or block gradient was inf/NaN, or the run stopped early."""
    records = r.of(run)
    return (any(not math.isfinite(float(v)) for log in records for v in log.metrics.values())
            or records[-1].step != r.steps)


def _finite(r: Any) -> bool:
    return not any(_broke(r, run) for run in RUNS) and all(
        math.isfinite(r.numbers[run]["loss"]) for run in RUNS)


def _reach(r: Any, run: str) -> float:
    g = _grads(r, run, -1)
    return min(g) / g[-1]


def _faded(r: Any) -> bool:
    return _reach(r, "post") < 1 / FADED and not _reach(r, "pre") < 1 / FADED


def _learned(r: Any, run: str) -> bool:
    return r.numbers[run]["accuracy"] >= CHANCE + MARGIN


def _setup(r: Any) -> bool:
    L = r.params["num_layers"]
    first = {run: _grads(r, run, 0) for run in RUNS}
    return (all(r.of(run)[0].step == 1 and len(first[run]) == L for run in RUNS)
            and math.isclose(r.numbers["init_ratio"], first["post"][-1] / first["pre"][-1],
                             rel_tol=1e-9))


def _named(r: Any) -> bool:
    """The weakest block named is the one with the smallest streamed gradient."""
    return all(r.numbers[run]["weakest"] == 1 + min(range(len(g)), key=g.__getitem__)
               and math.isclose(r.numbers[run]["reach"], min(g) / g[-1], rel_tol=1e-9)
               for run in RUNS for g in [_grads(r, run, -1)])


PRENORM: dict[str, Check] = {
    "setup": _setup,
    "diverged": lambda r: any(_broke(r, run) for run in RUNS),
    "reach": lambda r: _finite(r) and _named(r),
    "faded": lambda r: _finite(r) and _faded(r),
    "reaches": lambda r: _finite(r) and not _faded(r),
    "accuracy": lambda r: _finite(r) and all(0 <= r.numbers[run]["accuracy"] <= 1
                                             for run in RUNS),
    "post-failed": lambda r: _finite(r) and _learned(r, "pre") and not _learned(r, "post"),
    "both-learned": lambda r: _finite(r) and _learned(r, "pre") and _learned(r, "post"),
    "pre-failed": lambda r: _finite(r) and _learned(r, "post") and not _learned(r, "pre"),
    "neither-learned": lambda r: (_finite(r) and not _learned(r, "pre")
                                  and not _learned(r, "post")),
}

CHECKS: dict[str, dict[str, Check]] = {"prenorm-postnorm": PRENORM}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "prenorm-postnorm": [{"diverged", "reach"}, {"diverged", "accuracy"},
                         {"faded", "reaches"},
                         {"post-failed", "both-learned", "pre-failed", "neither-learned",
                          "diverged"}],
}
# Shallow stacks and few steps in the default suite (each inside META's range).
SMALL: dict[str, dict[str, float]] = {
    "prenorm-postnorm": {"num_layers": 4, "length": 3, "warmup": 8, "steps": 6,
                         "examples": 12},
}
