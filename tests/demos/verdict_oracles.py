"""Independent checks of each converted demo's statements, for tests/demos/test_verdict_fuzz.py.

Each check reads the run's step records (and, where a quantity is never streamed, its numbers)
and decides with this file's own reading of the vocabulary in docs/demos.md, not with
demos/_verdict.py: a bug in the shared helper must not be able to hide itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# The vocabulary's thresholds, as docs/demos.md states them.
TWICE = 2.0  # about level / grew / shrank
CLOSE = 0.05  # about equal
KILLED = 0.2  # killed
MARGIN = 0.1  # learned
SPIKE = 1.25  # spiked
SAME_REL = 1e-4  # the same outputs


@dataclass
class Records:
    """One fuzzed run: its Log records, numbers, validated params and step count."""

    logs: list[Any]
    numbers: dict[str, Any]
    params: dict[str, Any]
    steps: int

    def of(self, run: str) -> list[Any]:
        return [log for log in self.logs if log.run == run]

    def series(self, run: str, key: str) -> list[float]:
        return [float(log.metrics[key]) for log in self.of(run) if key in log.metrics]

    def layers(self, run: str, prefix: str, which: int) -> list[float]:
        """Per-layer values of the run's record ``which`` (0 first, -1 last), layer 1 first."""
        metrics = self.of(run)[which].metrics
        found = {int(k[len(prefix):]): v for k, v in metrics.items()
                 if k.startswith(prefix) and k[len(prefix):].isdigit()}
        return [float(found[i]) for i in sorted(found)]

    def blew_up(self, run: str, keys: Sequence[str] = ("loss",)) -> bool:
        return any(not math.isfinite(v) for key in keys for v in self.series(run, key))

    def completed(self, run: str) -> bool:
        return not self.blew_up(run) and self.of(run)[-1].step == self.steps


def close(a: float, b: float) -> bool:
    """The same recorded float (to rounding), NaN equal to NaN: a number copied from a run."""
    return a == b or math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def kind_of_stack(values: Sequence[float]) -> str:
    """level / grew / shrank / uneven, from first to last, with level over the whole stack."""
    if values and all(math.isfinite(v) and v > 0 for v in values) and (
            max(values) / min(values) <= TWICE):
        return "level"
    a, b = values[0], values[-1]
    if math.isnan(a) or math.isnan(b):
        return "uneven"
    if (a == 0 and b > 0) or (a > 0 and b / a > TWICE):
        return "grew"
    if (b == 0 and a > 0) or (b > 0 and a / b > TWICE):
        return "shrank"
    return "uneven"


def _broken(norms: Sequence[float]) -> bool:
    """Some layer's gradient norm is 0, inf or NaN: a break, not a size."""
    return any(v == 0 or not math.isfinite(v) for v in norms)


# --- exploding-gradient --------------------------------------------------------------------


def _eg_kind(r: Records) -> str:
    return kind_of_stack(r.layers("unclipped", "dL_dh/", 0)[::-1])  # output side first


def _eg_weights_flat(r: Records) -> bool:
    w = r.layers("unclipped", "dL_dW@init/", 0)
    return all(math.isfinite(v) for v in w) and w[0] <= TWICE * w[-1]


def _eg_diverged(r: Records, run: str) -> bool:
    return r.blew_up(run, ("loss", "|dL/dW|"))


def _eg_trained(r: Records) -> bool:
    losses = r.series("clipped", "loss")
    return (not _eg_diverged(r, "clipped") and losses[-1] < losses[0]
            and losses[-1] <= (1 - MARGIN) * r.numbers["mean_baseline"])


EXPLODING: dict[str, Callable[[Records], bool]] = {
    "dh-grew": lambda r: _eg_kind(r) == "grew",
    "dh-shrank": lambda r: _eg_kind(r) == "shrank",
    "dh-level": lambda r: _eg_kind(r) == "level",
    "dh-uneven": lambda r: _eg_kind(r) == "uneven",
    "dW-not-growing": lambda r: _eg_kind(r) == "grew" and _eg_weights_flat(r),
    "dh-broken": lambda r: _broken(r.layers("unclipped", "dL_dh/", 0)),
    "dW-broken": lambda r: _broken(r.layers("unclipped", "dL_dW@init/", 0)),
    "unclipped-diverged": lambda r: _eg_diverged(r, "unclipped"),
    "unclipped-finite": lambda r: not _eg_diverged(r, "unclipped") and r.completed("unclipped"),
    "clipped-diverged": lambda r: _eg_diverged(r, "clipped"),
    "clipped-finite": lambda r: not _eg_diverged(r, "clipped") and r.completed("clipped"),
    "clipping-kept-finite": lambda r: (_eg_diverged(r, "unclipped")
                                       and not _eg_diverged(r, "clipped")),
    "clipped-learned": _eg_trained,
    "clipped-not-learned": lambda r: not _eg_diverged(r, "clipped") and not _eg_trained(r),
    "exploded": lambda r: _eg_kind(r) == "grew" and _eg_diverged(r, "unclipped"),
    "diverged-without-growth": lambda r: _eg_kind(r) != "grew" and _eg_diverged(r, "unclipped"),
    "grew-no-blowup": lambda r: _eg_kind(r) == "grew" and not _eg_diverged(r, "unclipped"),
    "no-explosion": lambda r: _eg_kind(r) != "grew" and not _eg_diverged(r, "unclipped"),
}


# --- dying-relu ----------------------------------------------------------------------------


def _dr(r: Records, run: str, which: int) -> list[float]:
    return r.layers(run, "stuck/", which)


def _dr_killed(r: Records) -> bool:
    return mean(_dr(r, "relu", -1)) - mean(_dr(r, "relu", 0)) >= KILLED - 1e-9


def _dr_acc(r: Records, run: str) -> float:
    return float(r.of(run)[-1].metrics["val_acc"])


def _dr_learned(r: Records, run: str) -> bool:
    return _dr_acc(r, run) >= r.numbers["chance"] + MARGIN


def _dr_some(r: Records) -> bool:
    return _dr_learned(r, "relu") or _dr_learned(r, "leaky_relu")


def _dr_gap(r: Records) -> float:
    """ReLU's stuck share minus Leaky ReLU's, after training."""
    return mean(_dr(r, "relu", -1)) - mean(_dr(r, "leaky_relu", -1))


DYING: dict[str, Callable[[Records], bool]] = {
    "relu-killed": _dr_killed,
    "relu-not-killed": lambda r: not _dr_killed(r),
    "stuck-from-start": lambda r: not _dr_killed(r) and mean(_dr(r, "relu", 0)) > 0.5,
    "relu-per-layer": lambda r: len(_dr(r, "relu", -1)) == r.params["depth"],
    "relu-dead-layer": lambda r: 1.0 in _dr(r, "relu", -1),
    "relu-alive": lambda r: 1.0 not in _dr(r, "relu", -1),
    "leaky-fewer": lambda r: _dr_gap(r) > CLOSE,
    "leaky-more": lambda r: _dr_gap(r) < -CLOSE,
    "leaky-same": lambda r: abs(_dr_gap(r)) <= CLOSE,
    "accuracies": lambda r: _dr_acc(r, "relu") == r.numbers["relu"]["val_accuracy"],
    "neither-learned": lambda r: not _dr_some(r),
    "relu-lower": lambda r: _dr_some(r) and _dr_acc(r, "leaky_relu") - _dr_acc(r, "relu") > CLOSE,
    "leaky-lower": lambda r: _dr_some(r) and _dr_acc(r, "relu") - _dr_acc(r, "leaky_relu") > CLOSE,
    "accuracies-close": lambda r: (_dr_learned(r, "relu") and abs(
        _dr_acc(r, "relu") - _dr_acc(r, "leaky_relu")) <= CLOSE),
}


# --- warmup ---------------------------------------------------------------------------------


def _wu_peak_is_honest(r: Records, run: str) -> bool:
    """The streamed running peak never falls and is never below a logged loss."""
    peaks, losses = r.series(run, "peak"), r.series(run, "loss")
    return peaks == sorted(peaks) and all(
        p >= v or not math.isfinite(v) for p, v in zip(peaks, losses, strict=True))


def _wu_spiked(r: Records, run: str) -> bool:
    """Over the whole run: the running peak of the last record against the step-1 loss."""
    if r.blew_up(run):
        return True
    first = r.of(run)[0]
    assert first.step == 1
    return r.series(run, "peak")[-1] > SPIKE * first.metrics["loss"]


def _wu_warm(r: Records) -> bool:
    return r.params["warmup"] > 0


WARMUP: dict[str, Callable[[Records], bool]] = {
    "runs": lambda r: all(_wu_peak_is_honest(r, run)
                          for run in ("no-warmup", "warmup+cosine", "warmup+step")),
    "nothing-to-compare": lambda r: not _wu_warm(r),
    "warmup-prevented": lambda r: (_wu_warm(r) and _wu_spiked(r, "no-warmup")
                                   and not _wu_spiked(r, "warmup+cosine")),
    "no-spike": lambda r: _wu_warm(r) and not _wu_spiked(r, "no-warmup"),
    "warmup-also-spiked": lambda r: (_wu_warm(r) and _wu_spiked(r, "no-warmup")
                                     and _wu_spiked(r, "warmup+cosine")),
    "step-spiked": lambda r: (_wu_warm(r) and _wu_spiked(r, "warmup+step")
                              and not _wu_spiked(r, "warmup+cosine")),
}


# --- linear-collapse -----------------------------------------------------------------------


def _lc_tasks(r: Records) -> list[str]:
    return ["halves"] if r.params["labels"] == "linear" else ["xor", "spirals"]


def _lc_end(r: Records, run: str) -> Any:
    return r.of(run)[-1].metrics


def _lc_same(r: Records) -> bool:
    """Each collapsed matrix reproduces its net up to SAME_REL of the largest output."""
    ends = [_lc_end(r, f"{t}/linear") for t in _lc_tasks(r)]
    return all(math.isfinite(e["matrix_gap"]) and e["matrix_gap"] <= SAME_REL * e["output_max"]
               for e in ends)


def _lc_effect(r: Records) -> bool:
    return all(_lc_end(r, f"{t}/relu")["acc"] - _lc_end(r, f"{t}/linear")["acc"] >= 0.2
               for t in _lc_tasks(r))


LINEAR: dict[str, Callable[[Records], bool]] = {
    "accuracies": lambda r: all(_lc_end(r, f"{t}/{a}")["acc"] == r.numbers[f"{t}/{a}"]["accuracy"]
                                for t in _lc_tasks(r) for a in ("linear", "relu")),
    "linear-at-coin": lambda r: any(
        abs(_lc_end(r, f"{t}/linear")["loss"] - math.log(2)) < 0.02 for t in _lc_tasks(r)),
    "same-outputs": _lc_same,
    "different-outputs": lambda r: not _lc_same(r),
    "effect": _lc_effect,
    "no-effect": lambda r: not _lc_effect(r),
}


CHECKS: dict[str, dict[str, Callable[[Records], bool]]] = {
    "exploding-gradient": EXPLODING,
    "dying-relu": DYING,
    "warmup": WARMUP,
    "linear-collapse": LINEAR,
}

# Statements of which at most one may be printed: printing two would contradict.
EXCLUSIVE: dict[str, list[set[str]]] = {
    "exploding-gradient": [
        {"dh-grew", "dh-shrank", "dh-level", "dh-uneven"},
        {"unclipped-diverged", "unclipped-finite"},
        {"clipped-diverged", "clipped-finite"},
        {"clipped-diverged", "clipped-learned"},
        {"clipped-diverged", "clipped-not-learned"},
        {"clipped-learned", "clipped-not-learned"},
        {"exploded", "diverged-without-growth", "grew-no-blowup", "no-explosion"},
        {"dW-not-growing", "dh-level"},
    ],
    "dying-relu": [
        {"relu-killed", "relu-not-killed"},
        {"relu-killed", "stuck-from-start"},
        {"relu-dead-layer", "relu-alive"},
        {"relu-dead-layer", "accuracies-close"},
        {"leaky-fewer", "leaky-more", "leaky-same"},
        {"neither-learned", "relu-lower", "leaky-lower", "accuracies-close"},
    ],
    "warmup": [
        {"nothing-to-compare", "warmup-prevented", "no-spike", "warmup-also-spiked"},
        {"warmup-also-spiked", "step-spiked"},
    ],
    "linear-collapse": [{"same-outputs", "different-outputs"}, {"effect", "no-effect"}],
}

# Sizes and steps the default suite draws at (each inside META's range); the nightly run
# (DLPREP_FUZZ_EXAMPLES) draws over META's whole range and the demo's default steps.
SMALL: dict[str, dict[str, float]] = {
    "exploding-gradient": {"depth": 16, "num_hiddens": 32, "steps": 30},
    "dying-relu": {"depth": 5, "num_hiddens": 32, "steps": 40},
    "warmup": {"depth": 3, "num_hiddens": 32, "steps": 40},
    "linear-collapse": {"depth": 8, "num_hiddens": 16, "steps": 40},
}


# --- the other demos' checks live beside this file, one oracles_<group>.py per group ------
# (each defines CHECKS, EXCLUSIVE and SMALL like the dicts above; loaded by path because
# tests/ is not a package, and merged here so test_verdict_fuzz.py sees one table).


def _load_group_oracles() -> None:
    import importlib.util
    import sys
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("oracles_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        for table, mine in ((CHECKS, module.CHECKS), (EXCLUSIVE, module.EXCLUSIVE),
                            (SMALL, module.SMALL)):
            assert not set(table) & set(mine), f"{path.name} checks a demo twice"
            table.update(mine)


_load_group_oracles()
