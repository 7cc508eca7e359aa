"""Independent checks of the second group of MLP demos' statements (residual, normalization,
mixed-precision, optimizers, overfitting), loaded by verdict_oracles.py for
test_verdict_fuzz.py.

Each check reads the run's step records (and, for what is never streamed, such as a loss
measured after the last update, its numbers) with this file's own arithmetic and its own
reading of the vocabulary in docs/demos.md, never with the demos' or _verdict's helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

Check = Callable[[Any], bool]
TWICE = 2.0  # about level / grew / shrank
LN2 = math.log(2)  # the loss of a 50/50 guess
GAP = 0.1  # residual's and normalization's "worse by more than" (seed noise is about 0.05)


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def _div(a: float, b: float) -> float:
    """a / b, 0 when both vanish and inf when b alone does (how the demos report ratios)."""
    if b == 0:
        return 0.0 if a == 0 else math.inf
    return a / b


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b or math.isclose(a, b, rel_tol=1e-6)


def _odd(values: Sequence[float]) -> bool:
    """Some layer's value is 0, inf or NaN."""
    return any(v == 0 or not math.isfinite(v) for v in values)


def _stack(first: float, last: float) -> str:
    if _finite(first, last) and first > 0 and last > 0 and (
            max(first, last) <= TWICE * min(first, last)):
        return "level"
    if math.isnan(first) or math.isnan(last):
        return "other"
    if last > TWICE * first:
        return "grew"
    if first > TWICE * last:
        return "shrank"
    return "other"


# --- residual ------------------------------------------------------------------------------


def _rs_depths(r: Any) -> list[int]:
    d = r.params["depth"]
    return sorted({min(2, d), max(1, d // 3), d})


def _rs_loss(r: Any, kind: str, which: int) -> float:
    return float(r.numbers[f"{kind}-{_rs_depths(r)[which]}"]["final_loss"])


def _rs_ok(r: Any) -> bool:
    return all(_finite(_rs_loss(r, k, i)) for k in ("plain", "residual")
               for i in range(len(_rs_depths(r))))


def _rs_worse(r: Any) -> bool:
    return _rs_loss(r, "plain", -1) - _rs_loss(r, "plain", 0) > GAP


def _rs_beaten(r: Any) -> bool:
    return _rs_loss(r, "plain", -1) - _rs_loss(r, "residual", -1) > GAP


def _rs_init_norms(r: Any, kind: str) -> list[float]:
    return r.layers(f"{kind}-{_rs_depths(r)[-1]}", "grad_norm/", 0)


def _rs_first_last(r: Any) -> bool:
    deep = _rs_depths(r)[-1]
    return all(_same(_div(_rs_init_norms(r, k)[0], _rs_init_norms(r, k)[-1]),
                     r.numbers[f"{k}-{deep}"]["first_last_at_init"])
               and len(_rs_init_norms(r, k)) == deep + 2 for k in ("plain", "residual"))


def _rs_spread(r: Any) -> tuple[float, float]:
    first = r.of(f"plain-{_rs_depths(r)[-1]}")[0].metrics
    return float(first["spread_in"]), float(first["spread_out"])


def _rs_factor(r: Any) -> bool:
    a, b = _rs_spread(r)
    deep = _rs_depths(r)[-1]
    return _same(_div(b, a) ** (1 / deep), r.numbers[f"plain-{deep}"]["signal_per_layer"])


RESIDUAL: dict[str, Check] = {
    "losses": lambda r: r.numbers["depths"] == _rs_depths(r) and all(
        r.of(f"{k}-{d}") for k in ("plain", "residual") for d in _rs_depths(r)),
    "diverged": lambda r: not _rs_ok(r),
    "degraded": lambda r: (_rs_ok(r) and len(_rs_depths(r)) > 1 and _rs_worse(r)
                           and _rs_beaten(r)),
    "plain-at-chance": lambda r: _rs_ok(r) and abs(_rs_loss(r, "plain", -1) - LN2) < 0.01,
    "no-skip-advantage": lambda r: _rs_ok(r) and _rs_worse(r) and not _rs_beaten(r),
    "no-degradation": lambda r: _rs_ok(r) and len(_rs_depths(r)) > 1 and not _rs_worse(r),
    "single-depth": lambda r: _rs_ok(r) and len(_rs_depths(r)) == 1,
    "residual-worse": lambda r: (_rs_ok(r) and len(_rs_depths(r)) > 1 and _rs_loss(
        r, "residual", -1) - _rs_loss(r, "residual", 0) > GAP),
    "gradients": _rs_first_last,
    "plain-gradient-break": lambda r: _odd(_rs_init_norms(r, "plain")),
    "residual-gradient-break": lambda r: _odd(_rs_init_norms(r, "residual")),
    "signal": _rs_factor,
    "signal-shrank": lambda r: _stack(*_rs_spread(r)) == "shrank",
    "signal-level": lambda r: _stack(*_rs_spread(r)) == "level",
    "signal-grew": lambda r: _stack(*_rs_spread(r)) == "grew",
}


CHECKS: dict[str, dict[str, Check]] = {"residual": RESIDUAL}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "residual": [{"diverged", "degraded", "no-skip-advantage", "no-degradation",
                  "single-depth"}, {"signal-shrank", "signal-level", "signal-grew"},
                 {"diverged", "plain-at-chance"}, {"diverged", "residual-worse"}],
}
# Small sizes and few steps for the default suite (each inside META's range).
SMALL: dict[str, dict[str, float]] = {
    "residual": {"depth": 9, "num_hiddens": 8, "steps": 12},
}
