"""Independent checks of the statements of vectorization, gpu-speedup, gpu-memory and
data-parallel, loaded by verdict_oracles.py for test_verdict_fuzz.py.

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

from verdict_oracles import SAME_REL
from verdict_oracles import close as _close

Check = Callable[[Any], bool]


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
    "vectorization": VECTORIZATION,
    "gpu-speedup": SPEEDUP,
    "gpu-memory": GPU_MEMORY,
    "data-parallel": DATA_PARALLEL,
}
EXCLUSIVE: dict[str, list[set[str]]] = {
    "vectorization": [{"same", "differ"}, {"numpy-faster", "numpy-as-fast", "numpy-slower"},
                      {"torch-faster", "torch-as-fast", "torch-slower"}, {"wins", "no-win"},
                      {"wins", "loop-won"}],
    "gpu-speedup": [{"no-gpu", "gpu-not-chosen", "gpu-figures"},
                    {"matmul-faster", "matmul-as-fast", "matmul-slower"},
                    {"train-faster", "train-as-fast", "train-slower"},
                    {"gpu-wins", "gpu-no-win", "no-gpu", "gpu-not-chosen"}],
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
    # Every timed block lasts at least 10 ms by design (x 2 jobs x 2 CPU thread counts, plus
    # warm-up and calibration), whatever the size: 8 draws of 1-2 repeats, not 25.
    "gpu-speedup": {"n": 64, "batch_size": 8, "num_hiddens": 32, "steps": 2, "examples": 8},
    # free-text layers: the nets to try (every one has a hidden layer, so checkpointing works);
    # the demo sizes the second step, so at least two (META min_steps)
    "gpu-memory": {"layers": ["784,16,10", "784-32-32-10", "20,40,40,40,3", "3,5,2"],
                   "batch": 16, "steps": 2},
    # Every draw spawns two worker processes that import torch (seconds of CPU each, the
    # costliest draw of the suite): 2 draws of the smallest nets and 1-2 steps, not 25 (the
    # default run of test_every_statement... and test_data_parallel.py cover both arms).
    "data-parallel": {"batch": 8, "num_hiddens": 8, "steps": 2, "examples": 2},
}
