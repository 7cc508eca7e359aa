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


# --- activations ---------------------------------------------------------------------------

ACT_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu")


def _ac_final(r: Any, a: str) -> float:
    return float(r.numbers[a]["final_loss"])  # after the last update: never streamed


def _ac_first(r: Any, a: str) -> float:
    first = r.of(a)[0]
    assert first.step == 1 and first.metrics["loss"] == r.numbers[a]["initial_loss"]
    return float(first.metrics["loss"])


def _ac_finite(r: Any) -> list[str]:
    return [a for a in ACT_NAMES if math.isfinite(_ac_final(r, a))]


def _ac_trained(r: Any) -> bool:
    return any(_ac_final(r, a) < _ac_first(r, a) - 0.01 for a in _ac_finite(r))


def _ac_behind(r: Any) -> float:
    others = sorted(_ac_final(r, a) for a in _ac_finite(r) if a != "sigmoid")
    if "sigmoid" not in _ac_finite(r) or not others:
        return math.nan
    k = len(others)
    middle = others[k // 2] if k % 2 else (others[k // 2 - 1] + others[k // 2]) / 2
    return _ac_final(r, "sigmoid") / middle if middle > 0 else math.nan


def _ac_sigmoid_last(r: Any) -> bool:
    finals = [_ac_final(r, a) for a in ACT_NAMES]
    return all(math.isfinite(v) for v in finals) and _ac_final(r, "sigmoid") >= max(finals)


def _ac_reached_is_honest(r: Any) -> bool:
    """steps_to_target agrees with every logged loss: none at or below the target before it,
    and none at all if it was never reached."""
    target = r.params["target"]
    for a in ACT_NAMES:
        got = r.numbers[a]["steps_to_target"]
        logged = [(log.step, log.metrics["loss"]) for log in r.of(a)]
        if any(v <= target and (got is None or step < got) for step, v in logged):
            return False
    return True


def _ac_shrank(r: Any) -> bool:
    g = r.layers("sigmoid", "grad_norm/", 0)  # step 1: at the initial weights
    return g[0] * TWICE < g[-1]


def _ac_saturated(r: Any) -> bool:
    s = 1 / (1 + math.exp(-4.0))
    return (math.isclose(r.numbers["sigmoid"]["derivative_at_4"], s * (1 - s), rel_tol=1e-4)
            and s * (1 - s) < 0.1 * 0.25)


ACTIVATIONS: dict[str, Check] = {
    "derivatives": _ac_saturated,
    "sigmoid-grad-shrank": _ac_shrank,
    "sigmoid-grad-not-shrank": lambda r: not _ac_shrank(r),
    "diverged": lambda r: len(_ac_finite(r)) < len(ACT_NAMES),
    "nothing-trained": lambda r: not _ac_trained(r),
    "race": lambda r: _ac_trained(r) and _ac_reached_is_honest(r),
    "far-behind": lambda r: _ac_trained(r) and _ac_sigmoid_last(r) and _ac_behind(r) >= 2,
    "behind-not-last": lambda r: _ac_trained(r) and _ac_behind(r) >= 2
    and not _ac_sigmoid_last(r),
    "no-handicap": lambda r: _ac_trained(r) and _ac_behind(r) < 2,
    "adam": lambda r: r.params["optimizer"] == "adam",
    "sgd": lambda r: r.params["optimizer"] == "sgd",
}


# --- batch-size ----------------------------------------------------------------------------

M0 = "full, momentum 0"


def _bs_runs(r: Any) -> list[str]:
    """The batch runs in order (smallest batch first), without the momentum-0 arm."""
    names: list[str] = []
    for log in r.logs:
        if log.run != M0 and log.run not in names:
            names.append(log.run)
    return names


def _bs_end(r: Any, run: str) -> dict:
    return dict(r.of(run)[-1].metrics)


def _bs_moved(r: Any) -> bool:
    return any(_bs_end(r, run)["changed"] > 0 for run in _bs_runs(r))


def _bs_raised(r: Any, run: str) -> float:
    return float(_bs_end(r, run)["raised"])


def _bs_effect(r: Any) -> bool:
    runs = _bs_runs(r)
    return _bs_raised(r, runs[0]) - _bs_raised(r, runs[-1]) >= 0.1


def _bs_setup(r: Any) -> bool:
    p, n = r.params, r.numbers
    for run in _bs_runs(r):
        got, end = n["runs"][run], _bs_end(r, run)
        size = got["batch_size"]
        if not (math.isclose(got["lr"], p["base_lr"] * size / p["base_batch"], rel_tol=1e-12)
                and got["updates"] == r.steps * -(-p["num_train"] // size) == r.of(run)[-1].step
                and got["raised"] == end["raised"] and got["changed"] == end["changed"]
                and (got["train_loss"] == end["loss"] or math.isnan(end["loss"]))):
            return False
    return True


def _bs_start(r: Any, run: str) -> float:
    return float(r.of(run)[0].metrics["start_loss"])


def _bs_accs(r: Any) -> dict[str, float]:
    return {run: r.numbers["runs"][run]["test_accuracy"] for run in _bs_runs(r)}


def _bs_learned(r: Any) -> bool:
    return max(_bs_accs(r).values()) >= r.numbers["chance"] + MARGIN


def _bs_under_trained(r: Any) -> bool:
    accs, runs = _bs_accs(r), _bs_runs(r)
    top = max(accs.values())
    best = [run for run in runs if accs[run] >= top - 0.01]
    full = runs[-1]
    end, lead = _bs_end(r, full)["loss"], _bs_end(r, best[0])["loss"]
    return (_bs_moved(r) and _bs_learned(r) and len(runs) > 1 and full not in best
            and end <= _bs_start(r, full) and end > lead + 0.05)


def _bs_m0_fewer(r: Any) -> bool:
    return bool(r.of(M0)) and _bs_raised(r, M0) <= _bs_raised(r, _bs_runs(r)[-1]) - 0.1


def _bs_full_raised(r: Any) -> bool:
    return _bs_moved(r) and _bs_raised(r, _bs_runs(r)[-1]) > 0


BATCH: dict[str, Check] = {
    "setup": _bs_setup,
    "nothing-changed": lambda r: not _bs_moved(r),
    "full-only": lambda r: _bs_moved(r) and len(_bs_runs(r)) == 1,
    "noisier": lambda r: _bs_moved(r) and len(_bs_runs(r)) > 1 and _bs_effect(r),
    "epoch-time": lambda r: len(_bs_runs(r)) > 1
    and r.numbers["runs"][_bs_runs(r)[-1]]["ms_per_epoch"] > 0,
    "no-noise-effect": lambda r: _bs_moved(r) and len(_bs_runs(r)) > 1 and not _bs_effect(r),
    "full-exact": _bs_full_raised,
    "momentum-overshoot": lambda r: _bs_full_raised(r) and r.params["momentum"] > 0
    and _bs_m0_fewer(r),
    "not-momentum": lambda r: _bs_full_raised(r) and bool(r.of(M0)) and not _bs_m0_fewer(r),
    "too-large": lambda r: _bs_full_raised(r) and r.params["momentum"] == 0,
    "no-one-learned": lambda r: _bs_moved(r) and not _bs_learned(r),
    "best": lambda r: _bs_moved(r) and _bs_learned(r) and len(_bs_runs(r)) > 1,
    "under-trained": _bs_under_trained,
    "unstable": lambda r: _bs_moved(r) and any(
        not _bs_end(r, run)["loss"] <= _bs_start(r, run) for run in _bs_runs(r)),
}


# --- backprop ------------------------------------------------------------------------------

BP_NODES = ("dL/dz", "dL/dW2", "dL/db2", "dL/da", "dL/dh", "dL/dW1", "dL/db1")
BP_UP = {"dL/dW2": "dL/dz", "dL/db2": "dL/dz", "dL/da": "dL/dz", "dL/dh": "dL/da",
         "dL/dW1": "dL/dh", "dL/db1": "dL/dh"}  # each gradient and the one it is computed from
BP_TOL = 1e-6


def _bp_below(node: str) -> set[str]:
    """Every gradient whose chain of upstreams passes through ``node``."""
    out = set()
    for name in BP_NODES:
        up = BP_UP.get(name)
        while up is not None:
            if up == node:
                out.add(name)
                break
            up = BP_UP.get(up)
    return out


def _bp_rows(r: Any) -> list[dict]:
    rows = [dict(log.metrics) for log in r.of("backward")]
    assert [log.step for log in r.of("backward")] == list(range(1, 8))
    return rows


def _bp_bad(r: Any) -> list[str]:
    return [name for name, row in zip(BP_NODES, _bp_rows(r), strict=True)
            if max(row["hand_vs_autograd"], row["hand_vs_numeric"]) > BP_TOL]


def _bp_refs(r: Any) -> float:
    return max(row["autograd_vs_numeric"] for row in _bp_rows(r))


def _bp_worst(r: Any) -> float:
    return float(r.of("sgd")[-1].metrics["worst"])


def _bp_diverged(r: Any) -> bool:
    return any(not math.isfinite(v) for key in ("loss", "rel_err/1", "rel_err/2")
               for v in r.series("sgd", key))


def _bp_start(r: Any) -> float:
    first = r.of("sgd")[0]
    assert first.step == 1
    return float(first.metrics["loss"])


def _bp_still(r: Any) -> bool:
    start, end = _bp_start(r), r.numbers["loss_end"]
    return math.isfinite(end) and abs(end - start) <= 1e-9 * max(1.0, start)


def _bp_effect(r: Any) -> bool:
    return not _bp_bad(r) and _bp_worst(r) <= BP_TOL


def _bp_first(r: Any) -> str | None:
    bad = _bp_bad(r)
    return bad[0] if bad else None


def _bp_alone(r: Any) -> list[str]:
    first = _bp_first(r)
    return [b for b in _bp_bad(r)[1:] if first and b not in _bp_below(first)]


BACKPROP: dict[str, Check] = {
    "all-agree": lambda r: not _bp_bad(r) and _bp_refs(r) <= BP_TOL,
    "failed": lambda r: not _bp_effect(r),
    "first-bad": lambda r: bool(_bp_bad(r)),
    "above-agree": lambda r: bool(_bp_bad(r)) and _bp_bad(r)[0] != BP_NODES[0],
    "loss-node": lambda r: _bp_first(r) == BP_NODES[0],
    "exactly": lambda r: bool(_bp_bad(r)) and bool(_bp_below(_bp_bad(r)[0])) and set(
        _bp_bad(r)) == {_bp_bad(r)[0]} | _bp_below(_bp_bad(r)[0]),
    "only-first": lambda r: len(_bp_bad(r)) == 1 and not _bp_below(_bp_bad(r)[0]),
    "fine-below": lambda r: bool(_bp_bad(r)) and bool(_bp_below(_bp_bad(r)[0]) - set(_bp_bad(r))),
    "alone": lambda r: bool(_bp_alone(r)),
    "no-descendants": lambda r: bool(_bp_alone(r)) and not _bp_below(_bp_bad(r)[0]),
    "refs-agree": lambda r: bool(_bp_bad(r)) and _bp_refs(r) <= BP_TOL,
    "refs-disagree": lambda r: _bp_refs(r) > BP_TOL,
    "loss-still": lambda r: not _bp_diverged(r) and _bp_still(r),
    "loss-diverged": _bp_diverged,
    "loss-fell": lambda r: not _bp_diverged(r) and not _bp_still(r)
    and r.numbers["loss_end"] < _bp_start(r),
    "loss-rose": lambda r: not _bp_diverged(r) and not _bp_still(r)
    and r.numbers["loss_end"] > _bp_start(r),
    "training-agreed": lambda r: not _bp_bad(r) and _bp_worst(r) <= BP_TOL,
    "training-drifted": lambda r: not _bp_bad(r) and _bp_worst(r) > BP_TOL,
    "harmless-bug": lambda r: _bp_effect(r) and r.params["bug"] != "none",
}


CHECKS: dict[str, dict[str, Check]] = {
    "backprop": BACKPROP,
    "batch-size": BATCH,
    "activations": ACTIVATIONS,
    "learning-rate": LEARNING_RATE,
    "adamw": ADAMW,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "backprop": [{"all-agree", "first-bad"}, {"all-agree", "failed"},
                 {"above-agree", "loss-node"}, {"exactly", "only-first", "fine-below"},
                 {"exactly", "alone"}, {"refs-agree", "refs-disagree"},
                 {"loss-still", "loss-diverged", "loss-fell", "loss-rose"},
                 {"training-agreed", "training-drifted", "first-bad"},
                 {"harmless-bug", "failed"}],
    "batch-size": [{"nothing-changed", "full-only", "noisier", "no-noise-effect"},
                   {"momentum-overshoot", "not-momentum", "too-large"},
                   {"no-one-learned", "best"}, {"no-one-learned", "under-trained"},
                   {"nothing-changed", "full-exact"}],
    "activations": [{"sigmoid-grad-shrank", "sigmoid-grad-not-shrank"},
                    {"nothing-trained", "race"}, {"far-behind", "behind-not-last", "no-handicap"},
                    {"nothing-trained", "far-behind"}, {"adam", "sgd"}],
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
    "backprop": {"n": 8, "num_hiddens": 4, "steps": 20},
    "batch-size": {"num_train": 64, "steps": 2},
    "activations": {"depth": 3, "num_hiddens": 4, "steps": 6},
    "learning-rate": {"num_hiddens": 16, "steps": 30},
    "adamw": {"num_hiddens": 8, "num_train": 32, "steps": 10},
}
