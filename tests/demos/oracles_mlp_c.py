"""Independent checks of the statements of vanishing-gradient, weight-init, gpu-memory,
gpu-speedup, data-parallel and vectorization, loaded by verdict_oracles.py for
test_verdict_fuzz.py.

Each check reads the run's step records (and, where a quantity is never streamed, its numbers)
with this file's own arithmetic, never the demo's or demos/_verdict.py's helpers. The timing
demos (vectorization, gpu-speedup) are checked against the times recorded in the run: a speed-up
is recomputed from the streamed per-repeat times, so a check is deterministic for a given run
even though the times themselves vary from run to run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]
SAME_REL = 1e-4  # "the same outputs", as docs/demos.md states it


def _close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-9)


# --- vectorization -------------------------------------------------------------------------

METHODS = ("loop", "numpy", "torch")


def _vz_best(r: Any, run: str) -> float:
    return min(r.series(run, "ms"))


def _vz_up(r: Any, method: str) -> float:
    return _vz_best(r, "loop") / _vz_best(r, method)


def _vz_same(r: Any) -> bool:
    n = r.numbers
    return all(n["max_diff"][m] <= SAME_REL * n["output_max"] for m in ("numpy", "torch"))


def _vz_shape(r: Any) -> bool:
    p, n = r.params, r.numbers
    dims = [p["batch_size"], p["num_inputs"], p["num_outputs"]]
    return n["shape"] == dims and n["multiply_adds"] == dims[0] * dims[1] * dims[2]


def _vz_against(method: str) -> dict[str, Check]:
    return {f"{method}-faster": lambda r: _vz_up(r, method) > 1.1,
            f"{method}-as-fast": lambda r: 0.9 <= _vz_up(r, method) <= 1.1,
            f"{method}-slower": lambda r: _vz_up(r, method) < 0.9}


VECTORIZATION: dict[str, Check] = {
    "same": lambda r: _vz_shape(r) and _vz_same(r),
    "differ": lambda r: _vz_shape(r) and not _vz_same(r),
    "times": lambda r: all(_close(r.numbers["best_ms"][m], _vz_best(r, m))
                           and r.numbers["repeats"][m] == len(r.of(m)) for m in METHODS),
    **_vz_against("numpy"),
    **_vz_against("torch"),
    "numpy-lag": lambda r: r.numbers["device"] == "cpu"
    and _vz_best(r, "numpy") > 10 * _vz_best(r, "torch"),
    "wins": lambda r: max(_vz_up(r, "numpy"), _vz_up(r, "torch")) >= 10,
    "no-win": lambda r: max(_vz_up(r, "numpy"), _vz_up(r, "torch")) < 10,
    "loop-won": lambda r: min(_vz_up(r, "numpy"), _vz_up(r, "torch")) < 0.9
    and max(_vz_up(r, "numpy"), _vz_up(r, "torch")) < 10,
}


CHECKS: dict[str, dict[str, Check]] = {
    "vectorization": VECTORIZATION,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "vectorization": [{"same", "differ"}, {"numpy-faster", "numpy-as-fast", "numpy-slower"},
                      {"torch-faster", "torch-as-fast", "torch-slower"}, {"wins", "no-win"},
                      {"wins", "loop-won"}],
}
# Small sizes for the default suite (each inside META's range).
SMALL: dict[str, dict[str, float]] = {
    # a Python loop over batch x inputs x outputs: keep the product in the thousands
    "vectorization": {"batch_size": 8, "num_inputs": 32, "num_outputs": 16, "steps": 5},
}
