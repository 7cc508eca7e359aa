"""GPU capacities and the largest batch that fits one (pure Python)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dlprep.memcalc.config import MAX_BATCH, Config, ConfigError
from dlprep.memcalc.estimate import Estimate, estimate

GIB = 1024**3
# Nominal capacities; the driver keeps a little of each for itself.
GPUS: dict[str, int] = {
    "T4": 16 * GIB,
    "V100-16GB": 16 * GIB,
    "V100-32GB": 32 * GIB,
    "RTX3090": 24 * GIB,
    "RTX4090": 24 * GIB,
    "L4": 24 * GIB,
    "A10": 24 * GIB,
    "L40S": 48 * GIB,
    "A100-40GB": 40 * GIB,
    "A100-80GB": 80 * GIB,
    "H100": 80 * GIB,
    "H200": 141 * GIB,
}
# The CUDA context (kernels, cuBLAS handles) lives outside the caching allocator, so
# max_memory_allocated never shows it. An assumption, NOT calibrated on a GPU yet.
CUDA_CONTEXT = 512 * 1024**2
UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def parse_gpu(text: str) -> tuple[str, int]:
    """``24GB``, ``80GiB``, ``A100-80GB`` or ``rtx 4090`` -> (label, bytes)."""
    wanted = _key(text)
    for name, size in GPUS.items():
        if _key(name) == wanted:
            return name, size
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", text)
    if m and m.group(2).lower() in UNITS:
        size = int(float(m.group(1)) * UNITS[m.group(2).lower()])
        if size <= 0:
            raise ConfigError(f"--gpu size must be positive, got {text!r}")
        if not m.group(2):
            size = int(float(m.group(1)) * GIB)  # a bare number means GiB
        return text.strip(), size
    names = ", ".join(GPUS)
    raise ConfigError(f"--gpu must be a size like 24GB or one of: {names}; got {text!r}")


@dataclass
class Fit:
    gpu: str
    capacity: int
    usable: int
    batch: int | None
    estimate: Estimate | None
    dominant: str
    reason: str


def _peak(cfg: Config, batch: int) -> int:
    peak = estimate(replace(cfg, batch=batch, device="cuda")).peak
    assert peak is not None
    return peak


def largest_batch(cfg: Config, gpu: str, capacity: int) -> Fit:
    """Biggest batch whose CUDA peak plus the context fits; peaks grow with the batch."""
    usable = capacity - CUDA_CONTEXT
    if usable <= 0:
        return Fit(gpu, capacity, usable, None, None, "CUDA context",
                   f"the assumed {CUDA_CONTEXT:,} B CUDA context alone does not fit")
    if cfg.layers is None:
        est = estimate(replace(cfg, device="cuda"))
        fixed = est.weights + est.master_weights + est.gradients + est.optimizer_state
        verdict = "fit" if fixed <= usable else "do not fit"
        masters = " + master weights" if est.master_weights else ""
        return Fit(gpu, capacity, usable, None, est, "unknown",
                   f"weights{masters} + gradients + optimiser state ({fixed:,} B) {verdict}; the "
                   "largest batch needs activations: give --layers")
    low = 2 if cfg.norm == "batchnorm" and len(cfg.layers) > 2 else 1
    if _peak(cfg, low) > usable:
        est = estimate(replace(cfg, batch=low, device="cuda"))
        return Fit(gpu, capacity, usable, None, est, dominant(est),
                   f"even batch {low} needs more than the {usable:,} usable bytes")
    high = low
    while high < MAX_BATCH and _peak(cfg, min(high * 2, MAX_BATCH)) <= usable:
        high = min(high * 2, MAX_BATCH)
    top = min(high * 2, MAX_BATCH)
    while top - high > 1:  # invariant: high fits, top does not (or is the limit)
        mid = (high + top) // 2
        if _peak(cfg, mid) <= usable:
            high = mid
        else:
            top = mid
    est = estimate(replace(cfg, batch=high, device="cuda"))
    return Fit(gpu, capacity, usable, high, est, dominant(est), "")


def dominant(est: Estimate) -> str:
    parts = {
        "weights": est.weights,
        "master weights": est.master_weights,
        "gradients": est.gradients,
        "optimizer state": est.optimizer_state,
        "saved activations": est.at_peak.parts.get("saved", 0) if est.at_peak else 0,
        "temporaries": est.temporaries or 0,
    }
    top = max(parts, key=lambda k: parts[k])
    if top == "temporaries" and est.at_peak and est.at_peak.phase == "backward":
        return "temporaries (activation gradients in flight)"
    return top
