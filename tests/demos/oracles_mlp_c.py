"""Independent checks of the statements of vanishing-gradient and weight-init, loaded by
verdict_oracles.py for test_verdict_fuzz.py (the systems demos' are in oracles_systems.py).

Each check reads the run's step records (and, where a quantity is never streamed, its numbers)
with this file's own arithmetic, never the demo's or demos/_verdict.py's helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from verdict_oracles import close as _close
from verdict_oracles import kind_of_stack

Check = Callable[[Any], bool]


# --- vanishing-gradient --------------------------------------------------------------------

VG_LEARNED = 0.1  # nats: the demo's "learned" margin, as its docstring states


def _vg_run(r: Any, key: str) -> str:
    p = r.params
    if key == "relu+he":
        return f"relu+he-{p['depth']}L"
    return f"{p['activation']}-{p['shallow' if key == 'shallow' else 'depth']}L"


def _vg_init(r: Any, key: str) -> list[float]:
    """Weight-gradient norms at step 1 (the first record carries them), input first."""
    return r.layers(_vg_run(r, key), "grad_norm/", 0)


def _vg_ratio(r: Any, key: str) -> float:
    g = _vg_init(r, key)
    if g[-1] == 0:
        return 0.0 if g[0] == 0 else math.inf
    return g[0] / g[-1]


def _vg_finite(r: Any, key: str) -> bool:
    run = _vg_run(r, key)
    return not r.blew_up(run) and r.of(run)[-1].step == r.steps


def _vg_losses(r: Any, key: str) -> tuple[float, float]:
    """(first, final) loss; with one step the only record is the trained net."""
    run = _vg_run(r, key)
    first = r.series(run, "loss")[0] if r.steps > 1 else r.numbers[key]["first_loss"]
    final = r.series(run, "loss")[-1] if _vg_finite(r, key) else math.nan
    return first, final


def _vg_learned(r: Any, key: str) -> bool:
    first, final = _vg_losses(r, key)
    return _vg_finite(r, key) and first - final >= VG_LEARNED


def _vg_extra(r: Any) -> int:
    return r.params["depth"] - r.params["shallow"]


def _vg_shrunk(r: Any) -> bool:
    """The extra layers cut the first/last ratio more than 100-fold."""
    d, s = _vg_ratio(r, "deep"), _vg_ratio(r, "shallow")
    return d < 1e-2 * s if s > 0 else False


def _vg_worse(r: Any) -> bool:
    first, final = _vg_losses(r, "deep")
    return final > first + VG_LEARNED


def _vg_gap(r: Any) -> float:
    return _vg_losses(r, "deep")[1] - _vg_losses(r, "shallow")[1]


def _vg_both(r: Any) -> bool:
    return _vg_finite(r, "deep") and _vg_finite(r, "shallow")


def _vg_compared(r: Any) -> bool:
    return (_vg_extra(r) != 0 and _vg_both(r) and not _vg_worse(r)
            and (_vg_learned(r, "shallow") or _vg_learned(r, "deep")))


def _vg_effect(r: Any) -> bool:
    return (_vg_extra(r) > 0 and _vg_shrunk(r) and _vg_learned(r, "shallow")
            and _vg_finite(r, "deep") and _vg_gap(r) > VG_LEARNED)


def _vg_moved(r: Any) -> list[float]:
    moved = r.numbers["deep"]["relative_change"]
    assert len(moved) == r.params["depth"] + 1
    return moved


def _vg_moved_ok(r: Any) -> bool:
    return all(math.isfinite(m) for m in _vg_moved(r)) and max(_vg_moved(r)) > 0


def _vg_shrink_matches(r: Any) -> bool:
    d, s = _vg_ratio(r, "deep"), _vg_ratio(r, "shallow")
    want = (0.0 if d == 0 else math.inf) if s == 0 else d / s
    return _close(r.numbers["shrink"], want)


VANISHING: dict[str, Check] = {
    "ratios": lambda r: all(_close(r.numbers[k]["first_last_ratio"], _vg_ratio(r, k))
                            for k in ("shallow", "deep")),
    "same-depth": lambda r: _vg_extra(r) == 0,
    "depth-changed": lambda r: _vg_extra(r) != 0 and _vg_shrink_matches(r),
    "deep-broken": lambda r: any(v == 0 or not math.isfinite(v) for v in _vg_init(r, "deep")),
    "first-least": lambda r: _vg_moved_ok(r) and _vg_moved(r)[0] == min(_vg_moved(r)),
    "first-not-least": lambda r: _vg_moved_ok(r) and _vg_moved(r)[0] > min(_vg_moved(r)),
    "none-moved": lambda r: all(m == 0 for m in _vg_moved(r)),
    "diverged": lambda r: not _vg_both(r),
    "got-worse": lambda r: _vg_both(r) and _vg_worse(r),
    "neither-learned": lambda r: _vg_extra(r) != 0 and _vg_both(r) and not _vg_worse(r)
    and not _vg_learned(
        r, "shallow") and not _vg_learned(r, "deep"),
    "same-net": lambda r: _vg_extra(r) == 0 and _vg_both(r) and not _vg_worse(r),
    "far-less": lambda r: _vg_compared(r) and _vg_gap(r) > VG_LEARNED,
    "more": lambda r: _vg_compared(r) and _vg_gap(r) < -VG_LEARNED,
    "as-much": lambda r: _vg_compared(r) and abs(_vg_gap(r)) <= VG_LEARNED,
    "relu-trained": lambda r: _vg_finite(r, "relu+he") and _close(
        r.numbers["relu+he"]["final_loss"], _vg_losses(r, "relu+he")[1]),
    "relu-diverged": lambda r: not _vg_finite(r, "relu+he"),
    "effect": _vg_effect,
    "not-deeper": lambda r: _vg_extra(r) <= 0,
    "no-shrink": lambda r: _vg_extra(r) > 0 and not _vg_shrunk(r),
    "shallow-stuck": lambda r: _vg_extra(r) > 0 and _vg_shrunk(r) and not _vg_learned(
        r, "shallow"),
    "not-behind": lambda r: _vg_extra(r) > 0 and _vg_shrunk(r) and _vg_learned(r, "shallow")
    and not _vg_effect(r),
}


# --- weight-init ---------------------------------------------------------------------------

WI_NETS, WI_SYMMETRIC = ("tanh", "relu"), ("zero", "constant")
WI_SCHEMES = ("zero", "constant", "normal", "xavier", "he")


def _wi_stds(r: Any, net: str, scheme: str) -> list[float]:
    """Activation std per hidden layer at init: the step-1 record, measured before the first
    update (with one step the only record is the trained net, so the numbers hold it)."""
    if r.steps > 1:
        return r.layers(f"{net}/{scheme}", "act_std/", 0)
    return r.numbers[net][scheme]["activation_std_at_init"]


def _wi_kind(stds: list[float]) -> str:
    """The vocabulary's stack reading, from this file's own arithmetic."""
    if not any(stds):
        return "zero"
    return kind_of_stack(stds)


def _wi_final(r: Any, net: str, scheme: str) -> float:
    return r.series(f"{net}/{scheme}", "loss")[-1]


def _wi_identical(r: Any) -> int:
    return sum(r.numbers[a][s]["unit_spread"] < 1e-6 for a in WI_NETS for s in WI_SYMMETRIC)


def _wi_spreads(r: Any) -> list[float]:
    return [r.numbers[a][s]["unit_spread"] for a in WI_NETS for s in WI_SYMMETRIC]


def _wi_overflowed(r: Any) -> bool:
    """A zero/constant run whose trained net's activations or loss are inf/NaN in its record
    (their spread then cannot be measured), exactly where the numbers hold no finite spread."""
    bad = [any(not math.isfinite(v) for v in r.of(f"{a}/{s}")[-1].metrics.values())
           for a in WI_NETS for s in WI_SYMMETRIC]
    nan = [not math.isfinite(v) for v in _wi_spreads(r)]
    return any(nan) and all(b for b, x in zip(bad, nan, strict=True) if x)


def _wi_vanished(r: Any, net: str) -> bool:
    stds = _wi_stds(r, net, "normal")
    return stds[0] > 0 and stds[-1] < 1e-2 * stds[0]


def _wi_effect(r: Any) -> bool:
    return r.params["lr"] > 0 and _wi_identical(r) == 4 and all(
        _wi_vanished(r, a) for a in WI_NETS)


def _wi_per_layer(r: Any) -> float:
    stds = _wi_stds(r, "relu", "xavier")
    return (stds[-1] / stds[0]) ** (1 / max(1, len(stds) - 1)) if stds[0] else 0.0


def _wi_symmetric(r: Any) -> bool:
    """The sentence's count and final losses, from the unit spreads and the last records."""
    return _wi_identical(r) == len(r.numbers["identical"]) and all(
        _close(_wi_final(r, a, s), r.numbers[a][s]["final_loss"])
        for a in WI_NETS for s in WI_SYMMETRIC)


def _wi_best(r: Any, printed: bool) -> bool:
    """The losses the sentence picks the lowest from are the runs' last records (NaN-aware),
    and a lowest exists (the sentence is printed) exactly when some run's loss is finite: an
    inf or NaN loss, wherever it comes in the list, is never the lowest."""
    agree = all(_close(_wi_final(r, a, s), r.numbers[a][s]["final_loss"])
                for a in WI_NETS for s in WI_SCHEMES)
    finite = [v for a in WI_NETS for s in WI_SCHEMES
              if not (math.isnan(v := _wi_final(r, a, s)) or math.isinf(v))]
    return agree and bool(finite) is printed


def _wi_small(net: str) -> dict[str, Check]:
    return {f"{net}-small-{k}": (lambda r, k=k: _wi_kind(_wi_stds(r, net, "normal")) == k)
            for k in ("shrank", "grew", "level", "uneven", "zero")}


WEIGHT_INIT: dict[str, Check] = {
    "symmetric-trained": lambda r: r.params["lr"] > 0 and _wi_symmetric(r),
    "symmetric-untrained": lambda r: r.params["lr"] == 0 and _wi_symmetric(r),
    **_wi_small("tanh"),
    **_wi_small("relu"),
    "xavier-kept": lambda r: kind_of_stack(_wi_stds(r, "tanh", "xavier")) == "level",
    "xavier-not-kept": lambda r: kind_of_stack(_wi_stds(r, "tanh", "xavier")) != "level",
    "he-kept": lambda r: kind_of_stack(_wi_stds(r, "relu", "he")) == "level",
    "he-not-kept": lambda r: kind_of_stack(_wi_stds(r, "relu", "he")) != "level",
    "xavier-relu-halves": lambda r: abs(_wi_per_layer(r) - math.sqrt(0.5)) <= 0.1,
    "xavier-relu-other": lambda r: abs(_wi_per_layer(r) - math.sqrt(0.5)) > 0.1,
    "best": lambda r: _wi_best(r, True),
    "no-finite": lambda r: _wi_best(r, False),
    "both-failures": _wi_effect,
    "no-effect": lambda r: not _wi_effect(r),
    "untrained": lambda r: r.params["lr"] == 0,
    "symmetry-broken": lambda r: any(math.isfinite(v) and v >= 1e-6 for v in _wi_spreads(r)),
    "overflowed": _wi_overflowed,
    "no-vanish": lambda r: not all(_wi_vanished(r, a) for a in WI_NETS),
}

CHECKS: dict[str, dict[str, Check]] = {
    "vanishing-gradient": VANISHING,
    "weight-init": WEIGHT_INIT,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "vanishing-gradient": [
        {"same-depth", "depth-changed"}, {"first-least", "first-not-least", "none-moved"},
        {"diverged", "got-worse", "neither-learned", "same-net", "far-less", "more", "as-much"},
        {"relu-trained", "relu-diverged"},
        {"effect", "not-deeper", "no-shrink", "shallow-stuck", "not-behind"},
    ],
    "weight-init": [{"symmetric-trained", "symmetric-untrained"},
                    *({f"{a}-small-{k}" for k in ("shrank", "grew", "level", "uneven", "zero")}
                      for a in ("tanh", "relu")),
                    {"xavier-kept", "xavier-not-kept"}, {"he-kept", "he-not-kept"},
                    {"xavier-relu-halves", "xavier-relu-other"}, {"best", "no-finite"},
                    {"both-failures", "no-effect"},
                    {"both-failures", "untrained"}, {"both-failures", "symmetry-broken"},
                    {"both-failures", "no-vanish"}],
}
# Small sizes for the default suite (each inside META's range).
SMALL: dict[str, dict[str, Any]] = {
    "vanishing-gradient": {"depth": 10, "shallow": 3, "num_hiddens": 8, "steps": 20},
    # ten nets per draw (five inits x two activations)
    "weight-init": {"depth": 4, "num_hiddens": 8, "steps": 4},
}
