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


# --- normalization -------------------------------------------------------------------------

NORMS = ("none", "batchnorm", "layernorm")


def _nm_loss(r: Any, kind: str) -> float:
    return float(r.numbers[kind]["final_loss"])


def _nm_below(r: Any, kind: str) -> bool:
    return _nm_loss(r, kind) < LN2 - GAP


def _nm_stuck(r: Any) -> bool:
    return abs(_nm_loss(r, "none") - LN2) < 0.02


def _nm_init(r: Any, kind: str) -> list[float]:
    return r.layers(kind, "act_std/", 0)


def _nm_spread(r: Any) -> bool:
    """The step-1 record (the net before any update) gives each net's last/first spread."""
    return all(len(_nm_init(r, k)) == r.params["depth"] and _same(
        _div(_nm_init(r, k)[-1], _nm_init(r, k)[0]), r.numbers[k]["shrink"]) for k in NORMS)


def _nm_per_layer(r: Any) -> bool:
    stds, depth = _nm_init(r, "none"), r.params["depth"]
    return depth > 1 and _same(_div(stds[-1], stds[0]) ** (1.0 / (depth - 1)),
                               r.numbers["none"]["shrink"] ** (1.0 / (depth - 1)))


def _nm_pit(r: Any) -> dict[str, Any]:
    return dict(r.numbers["pitfall"])


def _nm_alone_same(r: Any) -> bool:
    pit = _nm_pit(r)
    return _finite(pit["alone_diff"], pit["alone_max"]) and (
        pit["alone_diff"] <= 1e-4 * pit["alone_max"] if pit["alone_max"] > 0
        else pit["alone_diff"] == 0)


NORMALIZATION: dict[str, Check] = {
    "losses": lambda r: all(r.of(k) for k in NORMS) and r.numbers["depth"] == r.params["depth"],
    "spread": _nm_spread,
    "per-layer": _nm_per_layer,
    "flat-layers": lambda r: any(0.0 in _nm_init(r, k) for k in NORMS),
    "diverged": lambda r: not all(_finite(_nm_loss(r, k)) for k in NORMS),
    "none-stuck": _nm_stuck,
    "none-learns": lambda r: _nm_below(r, "none"),
    "none-off-chance": lambda r: (_finite(_nm_loss(r, "none")) and not _nm_stuck(r)
                                  and not _nm_below(r, "none")),
    "batchnorm-rescues": lambda r: _nm_stuck(r) and _nm_below(r, "batchnorm"),
    "batchnorm-below": lambda r: _nm_below(r, "batchnorm") and not _nm_stuck(r),
    "batchnorm-not-below": lambda r: (_finite(_nm_loss(r, "batchnorm"))
                                      and not _nm_below(r, "batchnorm")),
    "batchnorm-lower": lambda r: (_nm_below(r, "none") and _nm_loss(r, "none")
                                  - _nm_loss(r, "batchnorm") > GAP),
    "batchnorm-same": lambda r: _nm_below(r, "none") and _nm_below(r, "batchnorm") and abs(
        _nm_loss(r, "none") - _nm_loss(r, "batchnorm")) <= GAP,
    "batchnorm-higher": lambda r: (_nm_below(r, "none") and _nm_loss(r, "batchnorm")
                                   - _nm_loss(r, "none") > GAP),
    "layernorm-below": lambda r: _nm_below(r, "layernorm"),
    "layernorm-not-below": lambda r: (_finite(_nm_loss(r, "layernorm"))
                                      and not _nm_below(r, "layernorm")),
    # The input layer has no norm, so at depth 1 the three nets are one and the same.
    "no-norm-layer": lambda r: r.params["depth"] == 1 and len(
        {_nm_loss(r, k) for k in NORMS}) == 1,
    "eval-alone-same": lambda r: r.params["depth"] > 1 and _nm_alone_same(r),
    "eval-alone-differs": lambda r: r.params["depth"] > 1 and not _nm_alone_same(r),
    "train-mode": lambda r: (r.params["depth"] > 1 and 0 <= _nm_pit(r)["changed"] <= 1
                             and r.numbers["eval_batch"] == r.params["eval_batch"]),
    # BatchNorm1d in train mode cannot normalise one value per channel.
    "batch-of-one-refused": lambda r: (r.params["depth"] > 1
                                       and _nm_pit(r)["batch_of_one"] == "refused"),
}


# --- mixed-precision -----------------------------------------------------------------------

WORSE = 1.25  # mixed-precision's "fell behind fp32": final loss above this x fp32's


def _mp_runs(r: Any) -> list[str]:
    low = r.params["dtype"]
    return [low, f"{low}+static", f"{low}+dynamic"]


def _mp_end(r: Any, run: str) -> list[float]:
    """Per layer, the share flushed at the run's last record (the last step)."""
    return r.layers(run, "flushed/", -1)


def _mp_mean(r: Any, run: str) -> float:
    shares = _mp_end(r, run)
    return sum(shares) / len(shares)


def _mp_loss(r: Any, run: str) -> float:
    return float(r.numbers[run]["final_loss"])


def _mp_within(r: Any, run: str) -> bool:
    base = _mp_loss(r, "fp32")
    return _finite(base) and _mp_loss(r, run) <= WORSE * base


def _mp_lost(r: Any) -> bool:
    return _mp_mean(r, r.params["dtype"]) > 0.01


def _mp_effect(r: Any) -> bool:
    low = r.params["dtype"]
    return (_mp_lost(r) and _finite(_mp_loss(r, "fp32")) and not _mp_within(r, low)
            and _mp_within(r, f"{low}+dynamic"))


def _mp_losses(r: Any) -> bool:
    """The flushed shares printed are the last step's per-layer shares, averaged here."""
    return all(_same(_mp_mean(r, run), r.numbers[run]["flushed"])
               and len(_mp_end(r, run)) == r.params["depth"] + 1
               and 0 <= r.numbers[run]["overflows"] <= r.steps for run in _mp_runs(r))


def _mp_range(r: Any) -> bool:
    """bf16's range contains fp16's: whatever bf16 flushes, fp16 flushes too."""
    rng = r.numbers["range"]
    return 0 <= rng["bf16_zero"] <= rng["fp16_zero"] <= 1 and rng["median"] > 0


MIXED: dict[str, Check] = {
    "losses": _mp_losses,
    "flushed-layers": lambda r: any(v >= 1.0 for run in _mp_runs(r) for v in _mp_end(r, run)),
    "range": _mp_range,
    "fp32-diverged": lambda r: not _finite(_mp_loss(r, "fp32")),
    "control": lambda r: r.params["dtype"] == "fp32" and all(
        v == 0 for log in r.logs for k, v in log.metrics.items() if k.startswith("flushed")),
    "dynamic-recovers": lambda r: _mp_effect(r) and _mp_mean(
        r, _mp_runs(r)[2]) < _mp_mean(r, _mp_runs(r)[0]),
    "dynamic-within": lambda r: _mp_effect(r) and _mp_mean(
        r, _mp_runs(r)[2]) >= _mp_mean(r, _mp_runs(r)[0]),
    "nothing-lost": lambda r: (r.params["dtype"] != "fp32" and not _mp_lost(r)
                               and _finite(_mp_loss(r, "fp32"))),
    "lost-but-within": lambda r: _mp_lost(r) and _mp_within(r, r.params["dtype"]),
    "dynamic-failed": lambda r: (_mp_lost(r) and _finite(_mp_loss(r, "fp32"))
                                 and not _mp_within(r, _mp_runs(r)[0])
                                 and not _mp_within(r, _mp_runs(r)[2])),
    "static-within": lambda r: r.params["dtype"] != "fp32" and _mp_within(r, _mp_runs(r)[1]),
    "static-not": lambda r: (r.params["dtype"] != "fp32" and _finite(_mp_loss(r, "fp32"))
                             and not _mp_within(r, _mp_runs(r)[1])),
}


# --- overfitting ---------------------------------------------------------------------------


def _of_last(r: Any, run: str) -> Any:
    return r.of(run)[-1].metrics


def _of_best(r: Any, run: str) -> float:
    """The running best of the last record, never above a logged validation loss."""
    best = float(_of_last(r, run)["best_val"])
    assert all(best <= v for v in r.series(run, "val_loss") if math.isfinite(v))
    return best


def _of_fine(r: Any) -> bool:
    last = _of_last(r, "plain")
    return _finite(last["loss"], last["val_loss"])


def _of_rose(r: Any, factor: float) -> bool:
    val = _of_last(r, "plain")["val_loss"]
    return _of_fine(r) and val == r.numbers["plain"]["val_loss"] and (
        val > factor * _of_best(r, "plain"))


def _of_overfits(r: Any) -> bool:
    plain = r.numbers["plain"]
    return (_of_fine(r) and _of_last(r, "plain")["val_loss"] >= 1.25 * _of_best(r, "plain")
            and plain["test_loss"] - _of_last(r, "plain")["loss"] >= 0.1)


def _of_gap(r: Any, run: str) -> bool:
    row = r.numbers[run]
    return _same(row["gap"], row["test_loss"] - row["train_loss"])


def _of_early(r: Any, halted: bool) -> bool:
    """The last record is where the run stopped; restoring the best epoch's weights gives
    back the best validation loss seen."""
    early, step = r.numbers["early stopping"], r.of("early stopping")[-1].step
    restored = _same(early["val_loss"], _of_best(r, "early stopping")) and _of_gap(
        r, "early stopping")
    if halted:
        return (restored and step == early["epochs_run"] < r.steps
                and step - early["best_epoch"] >= r.params["patience"])
    return restored and step == r.steps


OVERFITTING: dict[str, Check] = {
    "plain-rose": lambda r: _of_rose(r, 1.1),
    "plain-flat": lambda r: _of_fine(r) and not _of_rose(r, 1.1),
    "plain-diverged": lambda r: not _of_fine(r),
    "overfits": _of_overfits,
    "not-overfit": lambda r: not _of_overfits(r),
    "test-plain": lambda r: _of_gap(r, "plain"),
    "test-dropout": lambda r: (_of_gap(r, "dropout")
                               and r.numbers["dropout_p"] == r.params["dropout"]),
    "remedy-not-learned": lambda r: any(
        r.numbers[k]["test_acc"] < r.numbers["chance"] + 0.1 for k in ("dropout", "early stopping"))
    and 0.5 <= r.numbers["chance"] <= 1,
    "early-halted": lambda r: _of_early(r, True),
    "early-ran-all": lambda r: _of_early(r, False),
}


# --- optimizers ----------------------------------------------------------------------------

RATES = {"SGD": (0.3, 1.0, 3.0), "SGD+momentum": (0.1, 0.3, 1.0),
         "RMSprop": (0.001, 0.003, 0.01), "Adam": (0.01, 0.03, 0.1)}
KEYS = {"SGD": "sgd", "SGD+momentum": "momentum", "RMSprop": "rmsprop", "Adam": "adam"}


def _op_reached(r: Any, run: str) -> float:
    """Updates a run needed: its last record's loss is below the target after step - 1
    updates (inf when it never got there)."""
    last = r.of(run)[-1]
    return float(last.step - 1) if last.metrics["loss"] < r.params["target_loss"] else math.inf


def _op_best(r: Any, label: str) -> float:
    return min(_op_reached(r, f"{label} lr={lr:g}") for lr in RATES[label])


def _op_raced(r: Any) -> bool:
    """Each optimizer races with the fewest updates any of its three rates needed."""
    return all((r.numbers[KEYS[label]]["steps"] is None and _op_best(r, label) == math.inf)
               or r.numbers[KEYS[label]]["steps"] == _op_best(r, label) for label in RATES)


def _op_fastest_other(r: Any) -> float:
    return min(_op_best(r, label) for label in ("SGD+momentum", "RMSprop", "Adam"))


def _op_sgd_slower(r: Any) -> bool:
    other = _op_fastest_other(r)
    return other < math.inf and _op_best(r, "SGD") >= 2 * max(1.0, other)


def _op_any(r: Any) -> bool:
    return min(_op_best(r, label) for label in RATES) < math.inf


def _op_adamw(r: Any) -> tuple[float, float]:
    lr = r.numbers["adam"]["best_lr"]
    return _op_reached(r, f"AdamW lr={lr:g}"), _op_best(r, "Adam")


def _op_alike(r: Any) -> bool:
    w, a = _op_adamw(r)
    if math.inf in (w, a):
        return w == a
    return abs(w - a) <= max(2.0, 0.1 * a)


OPTIMIZERS: dict[str, Check] = {
    "tried": _op_raced,
    "none-reached": lambda r: not _op_any(r),
    "fastest": _op_any,
    "sgd-slower": _op_sgd_slower,
    "sgd-fastest": lambda r: _op_any(r) and _op_best(r, "SGD") <= _op_fastest_other(r),
    "sgd-within": lambda r: (_op_fastest_other(r) < _op_best(r, "SGD") < math.inf
                             and not _op_sgd_slower(r)),
    "adamw-same": _op_alike,
    "adamw-different": lambda r: not _op_alike(r),
    "adamw-decay": lambda r: r.numbers["adamw"]["best_lr"] in RATES["Adam"],
}


CHECKS: dict[str, dict[str, Check]] = {"residual": RESIDUAL, "normalization": NORMALIZATION,
                                       "mixed-precision": MIXED, "overfitting": OVERFITTING,
                                       "optimizers": OPTIMIZERS}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "residual": [{"diverged", "degraded", "no-skip-advantage", "no-degradation",
                  "single-depth"}, {"signal-shrank", "signal-level", "signal-grew"},
                 {"diverged", "plain-at-chance"}, {"diverged", "residual-worse"}],
    "normalization": [{"none-stuck", "none-learns", "none-off-chance"},
                      {"batchnorm-rescues", "batchnorm-below", "batchnorm-not-below"},
                      {"batchnorm-lower", "batchnorm-same", "batchnorm-higher"},
                      {"layernorm-below", "layernorm-not-below"},
                      {"eval-alone-same", "eval-alone-differs"},
                      {"no-norm-layer", "eval-alone-same"},
                      {"no-norm-layer", "eval-alone-differs"}],
    "mixed-precision": [{"fp32-diverged", "control", "dynamic-recovers", "dynamic-within",
                         "nothing-lost", "lost-but-within", "dynamic-failed"},
                        {"static-within", "static-not", "control", "fp32-diverged"}],
    "overfitting": [{"plain-rose", "plain-flat", "plain-diverged"}, {"overfits", "not-overfit"},
                    {"early-halted", "early-ran-all"}, {"plain-flat", "overfits"}],
    "optimizers": [{"none-reached", "fastest"}, {"none-reached", "sgd-slower", "sgd-fastest",
                                                 "sgd-within"}, {"adamw-same", "adamw-different"}],
}
# Small sizes and few steps for the default suite (each inside META's range).
SMALL: dict[str, dict[str, float]] = {
    "residual": {"depth": 9, "num_hiddens": 8, "steps": 12},
    "normalization": {"depth": 8, "num_hiddens": 8, "steps": 12},
    "mixed-precision": {"depth": 3, "steps": 15},
    "overfitting": {"num_train": 64, "num_hiddens": 32, "patience": 30, "steps": 40},
    "optimizers": {"num_hiddens": 16, "steps": 40},
}
