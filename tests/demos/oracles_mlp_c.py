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

from verdict_oracles import kind_of_stack

Check = Callable[[Any], bool]
SAME_REL = 1e-4  # "the same outputs", as docs/demos.md states it


def _close(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))


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



# --- gpu-speedup ---------------------------------------------------------------------------

JOBS = ("matmul", "train")


def _gs_flops(r: Any, job: str) -> float:
    p = r.params
    if job == "matmul":
        return 2 * p["n"] ** 3
    h = p["num_hiddens"]
    return 6 * (784 * h + h * h + h * 10) * p["batch_size"]  # 784-H-H-10: 2 + 4 FLOPs/weight


def _gs_median_s(r: Any, run: str, job: str) -> float:
    """The median of a run's per-repeat times, each read back from its streamed GFLOP/s."""
    times = sorted(_gs_flops(r, job) / (g * 1e9) for g in r.series(f"{run} {job}", "gflops"))
    return times[len(times) // 2]


def _gs_cpu_s(r: Any, job: str) -> float:
    return min(_gs_median_s(r, f"cpu x{t}", job) for t in r.numbers["cpu_threads_tried"])


def _gs_gpu(r: Any) -> str | None:
    acc = r.numbers["accelerator"]
    return None if acc is None else acc["type"]


def _gs_up(r: Any, job: str) -> float:
    gpu = _gs_gpu(r)
    return math.nan if gpu is None else _gs_cpu_s(r, job) / _gs_median_s(r, gpu, job)


def _gs_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps is not None and mps.is_available())


def _gs_against(job: str) -> dict[str, Check]:
    return {f"{job}-faster": lambda r: _gs_up(r, job) > 1.1,
            f"{job}-as-fast": lambda r: 0.9 <= _gs_up(r, job) <= 1.1,
            f"{job}-slower": lambda r: _gs_up(r, job) < 0.9}


def _gs_wins(r: Any) -> bool:
    return _gs_gpu(r) is not None and min(_gs_up(r, job) for job in JOBS) >= 3


SPEEDUP: dict[str, Check] = {
    "no-gpu": lambda r: _gs_gpu(r) is None and not _gs_available(),
    "gpu-not-chosen": lambda r: _gs_gpu(r) is None and _gs_available(),
    "gpu-figures": lambda r: _gs_gpu(r) is not None and all(math.isclose(
        r.numbers["gpu"][job]["ms"] / 1000, _gs_median_s(r, str(_gs_gpu(r)), job),
        rel_tol=1e-9) for job in JOBS),
    "cpu-figures": lambda r: all(math.isclose(r.numbers["cpu"][job]["ms"] / 1000,
                                              _gs_cpu_s(r, job), rel_tol=1e-9) for job in JOBS),
    **_gs_against("matmul"),
    **_gs_against("train"),
    "gpu-wins": _gs_wins,
    "gpu-no-win": lambda r: _gs_gpu(r) is not None and not _gs_wins(r),
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


# --- gpu-memory ----------------------------------------------------------------------------

GM_ROWS = ("weights", "masters", "inputs", "gradients", "state", "saved")


def _gm_end(r: Any, run: str, key: str) -> float:
    """Bytes of one component at the end of a step-1 phase: the phase's last streamed point."""
    return r.of(run)[-1].metrics[key] * 1e6


def _gm_is(a: float, b: float) -> bool:
    return abs(a - b) <= 0.5  # bytes streamed as MB: a float's rounding, never a whole byte


def _gm_params(r: Any) -> bool:
    widths = [int(w) for w in str(r.params["layers"]).replace("-", ",").split(",")]
    count = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    return r.numbers["params"] == count and r.numbers["batch"] == r.params["batch"]


def _gm_made(r: Any) -> float:
    return _gm_end(r, "optimizer step", "state_MB") - _gm_end(r, "backward", "state_MB")


def _gm_rows(r: Any) -> tuple[dict, dict, dict]:
    lo, mid, hi = (s["measured"] for s in r.numbers["sweep"])
    assert [s["batch"] for s in r.numbers["sweep"]] == [r.params["batch"] * k for k in (1, 2, 4)]
    return lo, mid, hi


def _gm_growing(r: Any) -> list[str]:
    lo, mid, hi = _gm_rows(r)
    return [row for row in GM_ROWS if not lo[row] == mid[row] == hi[row]]


def _gm_linear(r: Any) -> bool:
    """Only saved activations and the input batch change, by equal bytes per added example."""
    lo, mid, hi = _gm_rows(r)
    return set(_gm_growing(r)) <= {"saved", "inputs"} and all(
        hi[row] - mid[row] == 2 * (mid[row] - lo[row]) for row in GM_ROWS)


def _gm_affine(r: Any) -> bool:
    """Some growing row is not zero at batch 0 (extrapolated back from the first two sizes)."""
    lo, mid, _ = _gm_rows(r)
    return any(2 * lo[row] - mid[row] != 0 for row in _gm_growing(r))


def _gm_exact(r: Any) -> bool:
    n = r.numbers
    rows = [*GM_ROWS, "peak"]
    return all(s["measured"][row] == s["estimate"][row] for s in n["sweep"] for row in rows) \
        and all(s["measured"]["phase_peaks"][ph] == s["estimate"]["phase_peaks"][ph]
                for s in n["sweep"] for ph in ("forward", "backward", "step")) \
        and not any(n["phase_peak_errors"].values())


def _gm_fixed(r: Any) -> bool:
    lo, _, _ = _gm_rows(r)
    fixed = [row for row in GM_ROWS if row not in _gm_growing(r) and lo[row]]
    return r.numbers["fixed"] == fixed


GPU_MEMORY: dict[str, Check] = {
    "setup": _gm_params,
    "step-1": lambda r: _gm_end(r, "backward", "saved_MB") == 0 and _gm_is(
        _gm_end(r, "forward", "saved_MB"), r.numbers["first_step"]["forward"]["saved"])
    and _gm_is(_gm_end(r, "backward", "grads_MB") - _gm_end(r, "forward", "grads_MB"),
               r.numbers["grads_created_in_backward"]),
    "step-1-kept": lambda r: _gm_end(r, "backward", "saved_MB") > 0,
    "state-made": lambda r: _gm_made(r) > 0.5,
    "state-built": lambda r: _gm_made(r) <= 0.5 and r.of("setup")[-1].metrics["state_MB"] > 0,
    "no-state": lambda r: all(log.metrics.get("state_MB", 0) == 0 for log in r.logs),
    "weights": lambda r: _gm_is(r.of("setup")[-1].metrics["weights_MB"] * 1e6,
                                r.numbers["measured"]["weights"]),
    "estimate-exact": _gm_exact,
    "estimate-off": lambda r: not _gm_exact(r),
    "grow-proportional": lambda r: _gm_linear(r) and not _gm_affine(r),
    "grow-affine": lambda r: _gm_linear(r) and _gm_affine(r),
    "grow-other": lambda r: not _gm_linear(r),
    "fixed": _gm_fixed,
    "cuda": lambda r: "cuda" in r.numbers,
}


# --- data-parallel -------------------------------------------------------------------------


def _dp_first(r: Any) -> Any:
    first = r.of("rank0")[0]
    assert first.step == 1
    return first.metrics


def _dp_last(r: Any) -> Any:
    return r.of("rank0")[-1].metrics


def _dp_finite(r: Any) -> bool:
    return "error" not in r.numbers and all(
        math.isfinite(v) for key in ("drift", "grad_gap_after") for v in r.series("rank0", key))


def _dp_worst_after(r: Any) -> float:
    return max(r.series("rank0", "grad_gap_after") + r.series("rank1", "grad_gap_after"))


def _dp_moving(r: Any) -> bool:
    return _dp_finite(r) and r.numbers["weight_change"] != 0  # weights are never streamed


def _dp_identical(r: Any) -> bool:
    """One gradient (to float32 rounding), the combined batch's, and weights bit-for-bit."""
    return (_dp_worst_after(r) <= 1e-6 and _dp_first(r)["vs_single"] <= 1e-6
            and _dp_last(r)["drift"] == 0 and r.of("rank0")[-1].step == r.steps)


def _dp_sync(r: Any) -> bool:
    return bool(r.params["allreduce"]) and _dp_finite(r)


DATA_PARALLEL: dict[str, Check] = {
    "failed": lambda r: "error" in r.numbers,
    "shards-differ": lambda r: _dp_first(r)["grad_gap_before"] > 0 and _close(
        _dp_first(r)["grad_gap_before"], r.numbers["gap_before_step1"]),
    "shards-same": lambda r: _dp_first(r)["grad_gap_before"] == 0,
    "diverged": lambda r: "error" not in r.numbers and not _dp_finite(r),
    "same-gradient": lambda r: _dp_sync(r) and _dp_worst_after(r) == 0
    and _close(_dp_first(r)["vs_single"], r.numbers["vs_single_step1"]),
    "close-gradient": lambda r: _dp_sync(r) and _dp_worst_after(r) > 0,
    "weights-identical": lambda r: _dp_sync(r) and _dp_last(r)["drift"] == 0,
    "weights-differ": lambda r: _dp_sync(r) and _dp_last(r)["drift"] != 0,
    "own-gradient": lambda r: not r.params["allreduce"] and _dp_finite(r)
    and _close(_dp_last(r)["drift"], r.numbers["drift_final"]),
    "never-moved": lambda r: _dp_finite(r) and r.numbers["weight_change"] == 0
    and _dp_last(r)["drift"] == 0,
    "stay-identical": lambda r: _dp_sync(r) and _dp_moving(r) and _dp_identical(r),
    "not-identical": lambda r: _dp_sync(r) and _dp_moving(r) and not _dp_identical(r),
    "drifted": lambda r: not r.params["allreduce"] and _dp_moving(r) and _dp_last(r)["drift"] > 0,
    "no-drift": lambda r: not r.params["allreduce"] and _dp_moving(r)
    and _dp_last(r)["drift"] == 0,
}

CHECKS: dict[str, dict[str, Check]] = {
    "vectorization": VECTORIZATION, "vanishing-gradient": VANISHING, "gpu-speedup": SPEEDUP,
    "weight-init": WEIGHT_INIT, "gpu-memory": GPU_MEMORY,
    "data-parallel": DATA_PARALLEL,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "vectorization": [{"same", "differ"}, {"numpy-faster", "numpy-as-fast", "numpy-slower"},
                      {"torch-faster", "torch-as-fast", "torch-slower"}, {"wins", "no-win"},
                      {"wins", "loop-won"}],
    "vanishing-gradient": [
        {"same-depth", "depth-changed"}, {"first-least", "first-not-least", "none-moved"},
        {"diverged", "got-worse", "neither-learned", "same-net", "far-less", "more", "as-much"},
        {"relu-trained", "relu-diverged"},
        {"effect", "not-deeper", "no-shrink", "shallow-stuck", "not-behind"},
    ],
    "gpu-speedup": [{"no-gpu", "gpu-not-chosen", "gpu-figures"},
                    {"matmul-faster", "matmul-as-fast", "matmul-slower"},
                    {"train-faster", "train-as-fast", "train-slower"},
                    {"gpu-wins", "gpu-no-win", "no-gpu", "gpu-not-chosen"}],
    "weight-init": [{"symmetric-trained", "symmetric-untrained"},
                    *({f"{a}-small-{k}" for k in ("shrank", "grew", "level", "uneven", "zero")}
                      for a in ("tanh", "relu")),
                    {"xavier-kept", "xavier-not-kept"}, {"he-kept", "he-not-kept"},
                    {"xavier-relu-halves", "xavier-relu-other"}, {"best", "no-finite"},
                    {"both-failures", "no-effect"},
                    {"both-failures", "untrained"}, {"both-failures", "symmetry-broken"},
                    {"both-failures", "no-vanish"}],
    "gpu-memory": [{"step-1", "step-1-kept"}, {"state-made", "state-built", "no-state"},
                   {"estimate-exact", "estimate-off"},
                   {"grow-proportional", "grow-affine", "grow-other"}],
    "data-parallel": [{"shards-differ", "shards-same", "failed"},
                      {"diverged", "same-gradient", "close-gradient", "own-gradient", "failed"},
                      {"weights-identical", "weights-differ", "own-gradient"},
                      {"never-moved", "stay-identical", "not-identical", "drifted", "no-drift",
                       "diverged", "failed"}],
}
# Small sizes for the default suite (each inside META's range).
SMALL: dict[str, dict[str, Any]] = {
    # a Python loop over batch x inputs x outputs: keep the product in the thousands
    "vectorization": {"batch_size": 8, "num_inputs": 32, "num_outputs": 16, "steps": 5},
    "vanishing-gradient": {"depth": 10, "shallow": 3, "num_hiddens": 8, "steps": 20},
    # Every timed block lasts at least 10 ms by design (x 2 jobs x 2 CPU thread counts, plus
    # warm-up and calibration), whatever the size: 8 draws of 1-2 repeats, not 25.
    "gpu-speedup": {"n": 64, "batch_size": 8, "num_hiddens": 32, "steps": 2, "examples": 8},
    # ten nets per draw (five inits x two activations)
    "weight-init": {"depth": 4, "num_hiddens": 8, "steps": 4},
    # free-text layers: the nets to try (every one has a hidden layer, so checkpointing works);
    # the demo sizes the second step, so at least two (META min_steps)
    "gpu-memory": {"layers": ["784,16,10", "784-32-32-10", "20,40,40,40,3", "3,5,2"],
                   "batch": 16, "steps": 2},
    # Every draw spawns two worker processes that import torch (seconds of CPU each, the
    # costliest draw of the suite): 2 draws of the smallest nets and 1-2 steps, not 25 (the
    # default run of test_every_statement... and test_data_parallel.py cover both arms).
    "data-parallel": {"batch": 8, "num_hiddens": 8, "steps": 2, "examples": 2},
}
