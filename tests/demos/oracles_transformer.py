"""Independent checks of the transformer demos' statements (attention-scaling, causal-mask,
positional-encoding, kv-cache), loaded by verdict_oracles.py for test_verdict_fuzz.py.

Each check reads the run's records and numbers with this file's own arithmetic: entropies
and Jacobian norms are re-averaged from the per-layer, per-head lists, work is summed from
the streamed steps, the cache's bytes come from the formula, not from the demo's helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

Check = Callable[[Any], bool]


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _flat(rows: Sequence[Sequence[float]]) -> list[float]:
    return [v for row in rows for v in row]


# --- attention-scaling ---------------------------------------------------------------------


def _as_entropy_ratio(r: Any) -> float:
    n = r.numbers
    return _mean(_flat(n["unscaled"]["entropy_init"])) / _mean(_flat(n["scaled"]["entropy_init"]))


def _as_gain_ratio(r: Any) -> float:
    n = r.numbers
    return _mean(n["unscaled"]["gain_init"]) / _mean(n["scaled"]["gain_init"])


def _as_finite(r: Any) -> bool:
    n = r.numbers
    logged = r.series("scaled", "loss") + r.series("unscaled", "loss")
    return n["scaled"]["finite"] and n["unscaled"]["finite"] and all(
        math.isfinite(v) for v in logged)


def _as_loss_ratio(r: Any) -> float:
    return r.numbers["unscaled"]["mean_loss"] / r.numbers["scaled"]["mean_loss"]


def _as_shape(r: Any) -> bool:
    n, layers, heads = r.numbers, r.params["num_layers"], 64 // r.params["d_k"]
    return all(len(n[a]["entropy_init"]) == layers and len(n[a]["logit_std"]) == layers
               and all(len(row) == heads for row in n[a]["entropy_init"])
               for a in ("scaled", "unscaled"))


ATTENTION: dict[str, Check] = {
    "spread": lambda r: _as_shape(r) and math.isclose(
        r.numbers["spread_ratio"], _mean(r.numbers["unscaled"]["logit_std"])
        / _mean(r.numbers["scaled"]["logit_std"]), rel_tol=1e-9),
    "entropy": _as_shape,
    "saturated": lambda r: _as_entropy_ratio(r) < 0.5,
    "not-saturated": lambda r: not _as_entropy_ratio(r) < 0.5,
    "gain-shrank": lambda r: _as_gain_ratio(r) < 0.5,
    "gain-kept": lambda r: not _as_gain_ratio(r) < 0.5,
    "diverged": lambda r: not _as_finite(r),
    "losses": _as_finite,
    "slower": lambda r: _as_finite(r) and _as_loss_ratio(r) > 1.25,
    "faster": lambda r: _as_finite(r) and _as_loss_ratio(r) < 0.8,
    "as-fast": lambda r: _as_finite(r) and 0.8 <= _as_loss_ratio(r) <= 1.25,
}


# --- causal-mask ---------------------------------------------------------------------------


def _cm_gap(r: Any) -> float:
    return r.numbers["teacher_accuracy"] - r.numbers["free_accuracy"]


CAUSAL: dict[str, Check] = {
    # A masked model puts exactly no attention on the future, in every layer.
    "future": lambda r: len(r.numbers["future"]) == r.params["num_layers"] and (
        not r.params["causal"] or all(f == 0 for f in r.numbers["future"])),
    "floor": lambda r: math.isclose(r.numbers["floor"], math.log(16)),
    # Below the causal floor is impossible for a model that reads only the past.
    "read-future": lambda r: (not r.params["causal"]
                             and r.numbers["random_loss"] < 0.5 * math.log(16)),
    "no-future": lambda r: not r.numbers["random_loss"] < 0.5 * math.log(16),
    "failed": lambda r: _cm_gap(r) > 0.5,
    "agree": lambda r: abs(_cm_gap(r)) <= 0.1,
    "apart": lambda r: abs(_cm_gap(r)) > 0.1 and _cm_gap(r) <= 0.5,
}


# --- positional-encoding -------------------------------------------------------------------

SIGNALS = ("learned", "sinusoidal", "rope")


def _pe_acc(r: Any, run: str) -> float:
    return r.series(run, "accuracy")[-1]


def _pe_gap(r: Any) -> float:
    return min(_pe_acc(r, s) for s in SIGNALS) - _pe_acc(r, "none")


def _pe_cap(r: Any) -> float:
    return r.numbers["ceiling"]


POSITIONAL: dict[str, Check] = {
    "accuracies": lambda r: all(_pe_acc(r, s) == r.numbers[s]["accuracy"]
                                for s in ("none", *SIGNALS)),
    # count's label is a function of the token and the bag, so its ceiling is exactly 1; so
    # is every task's at length 2, where the source is the one other token.
    "ceiling": lambda r: (_pe_cap(r) == 1.0) is (r.params["task"] == "count"
                                                 or r.params["length"] == 2)
    and 0 < _pe_cap(r) <= 1,
    "at-ceiling": lambda r: _pe_cap(r) < 1 and _pe_acc(r, "none") <= _pe_cap(r) + 0.05,
    "learned-free": lambda r: _pe_cap(r) == 1 and _pe_acc(r, "none") >= 0.9,
    "not-learned": lambda r: _pe_cap(r) == 1 and _pe_acc(r, "none") < 0.9,
    "above-ceiling": lambda r: _pe_cap(r) < 1 and _pe_acc(r, "none") > _pe_cap(r) + 0.05,
    "order-mattered": lambda r: _pe_gap(r) >= 0.3,
    "order-free": lambda r: _pe_gap(r) < 0.3,
    "all-solved": lambda r: all(_pe_acc(r, s) >= 0.9 for s in SIGNALS),
    "some-unsolved": lambda r: any(_pe_acc(r, s) < 0.9 for s in SIGNALS),
}


# --- kv-cache ------------------------------------------------------------------------------


def _kv_total(r: Any, run: str) -> float:
    return sum(r.series(run, "work"))


def _kv_tokens(r: Any) -> int:
    return min(r.params["new_tokens"], r.steps)


def _kv_quarters(r: Any, run: str) -> tuple[float, float]:
    times = r.series(run, "time_ms")[1:] or r.series(run, "time_ms")
    k = max(1, len(times) // 4)
    return sorted(times[:k])[k // 2], sorted(times[-k:])[k // 2]


def _kv_bytes(r: Any) -> bool:
    p = r.params
    seq = p["prompt"] + _kv_tokens(r)
    formula = 2 * p["num_layers"] * p["d_model"] * seq * p["batch"] * 4  # heads x head_dim
    streamed = sum(r.layers("cache", "kv_bytes/", -1))
    return r.numbers["cache_bytes"] == formula == streamed


KV: dict[str, Check] = {
    "identical": lambda r: r.numbers["mismatched_tokens"] == 0,
    "differ": lambda r: r.numbers["mismatched_tokens"] > 0,
    "work": lambda r: _kv_tokens(r) > 1 and _kv_total(r, "no-cache") == r.numbers[
        "no-cache"]["total_work"] and _kv_total(r, "cache") == r.numbers["cache"]["total_work"],
    "one-token": lambda r: _kv_tokens(r) == 1
    and _kv_total(r, "no-cache") == _kv_total(r, "cache"),
    "saves": lambda r: _kv_total(r, "no-cache") >= 2 * _kv_total(r, "cache"),
    "times": lambda r: _kv_tokens(r) >= 8,
    "time-grew": lambda r: _kv_tokens(r) >= 8 and _kv_quarters(r, "no-cache")[1]
    > 2 * _kv_quarters(r, "no-cache")[0],
    "time-flat": lambda r: _kv_tokens(r) >= 8 and max(_kv_quarters(r, "cache"))
    <= 2 * min(_kv_quarters(r, "cache")),
    "memory": _kv_bytes,
}


CHECKS: dict[str, dict[str, Check]] = {
    "attention-scaling": ATTENTION, "causal-mask": CAUSAL, "positional-encoding": POSITIONAL,
    "kv-cache": KV,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "attention-scaling": [{"saturated", "not-saturated"}, {"gain-shrank", "gain-kept"},
                          {"diverged", "losses"}, {"slower", "faster", "as-fast", "diverged"}],
    "causal-mask": [{"read-future", "no-future"}, {"failed", "agree", "apart"}],
    "positional-encoding": [{"at-ceiling", "learned-free", "not-learned", "above-ceiling"},
                            {"order-mattered", "order-free"}, {"all-solved", "some-unsolved"}],
    "kv-cache": [{"identical", "differ"}, {"work", "one-token"}, {"saves", "one-token"},
                 {"time-grew", "one-token"}],
}
# Small sizes for the default suite (each inside META's range), and fewer draws where one
# draw trains several models (positional-encoding trains four).
SMALL: dict[str, dict[str, float]] = {
    "attention-scaling": {"length": 4, "num_layers": 2, "steps": 3, "examples": 12},
    "causal-mask": {"length": 4, "num_layers": 2, "steps": 4},
    "positional-encoding": {"length": 6, "num_layers": 2, "steps": 2, "examples": 8},
    "kv-cache": {"new_tokens": 9, "prompt": 8, "batch": 2, "num_layers": 2, "steps": 9},
}
