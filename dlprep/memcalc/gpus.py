"""GPU capacities and the largest batch that fits one (pure Python).

Capacities are what the card reports (``nvidia-smi`` memory.total), not the spec sheet:
ECC on GDDR cards and the driver's reservation on HBM cards take their share first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from dlprep.memcalc.config import MAX_BATCH, Config, ConfigError
from dlprep.memcalc.estimate import Estimate, estimate
from dlprep.memcalc.units import human

GIB = 1024**3
MIB = 1024**2
MODAL = "nvidia-smi totals listed in github.com/modal-labs/modal-client pull request 2797"
# Read off nvidia-smi output (memory.total) quoted in several public logs and READMEs.
SMI = "nvidia-smi memory.total as quoted in public run logs"


@dataclass(frozen=True)
class Card:
    name: str
    spec_gb: int  # the spec-sheet size people copy ("24GB")
    reported_mib: int  # nvidia-smi memory.total
    source: str

    @property
    def capacity(self) -> int:
        return self.reported_mib * MIB


CARDS = [
    Card("T4", 16, 15360, MODAL + " (ECC on: 16 GiB x 15/16)"),
    Card("A10", 24, 23028, MODAL),
    Card("L4", 24, 23034, MODAL),
    Card("RTX 3090", 24, 24576, "nvidia-smi in github.com/noonghunna/club-3090 issue 1128"),
    Card("RTX 4090", 24, 24564, "nvidia-smi in github.com/RLinf/RLinf issue 255"),
    Card("RTX 3090 Ti", 24, 24564, SMI),
    Card("RTX A5000", 24, 24564, SMI),
    Card("A100-40GB", 40, 40960, MODAL),
    Card("L40S", 48, 46068, MODAL),
    Card("A40", 48, 46068, SMI + " (ECC on, the data-centre default)"),
    # The QLoRA paper's card (Dettmers et al. 2023 fine-tune 33B/65B models on one 48 GB
    # GPU); workstation cards ship with ECC off and report 12 MiB short of 48 GiB.
    Card("RTX A6000", 48, 49140, SMI + " (ECC off, the workstation default)"),
    Card("RTX 6000 Ada", 48, 49140, SMI + " (ECC off)"),
    Card("A100-80GB", 80, 81920, MODAL),
    Card("H100", 80, 81559, MODAL + "; also github.com/NVIDIA/nccl issue 1264"),
]
# A spec-sheet size alone ("24GB") is read as the card people most often mean by it.
SPEC_SIZES = {16: "T4", 24: "RTX 4090", 40: "A100-40GB", 48: "L40S", 80: "H100"}
# The CUDA context (kernels, cuBLAS handles) lives outside the caching allocator, so
# max_memory_allocated never shows it. An assumption, NOT calibrated on a GPU yet.
CUDA_CONTEXT = 512 * MIB
# Kept free for the caching allocator: reserved-but-unallocated blocks and fragmentation
# (torch.cuda.memory_reserved exceeds memory_allocated). A stated default, not measured.
MARGIN = 0.05
MAX_GPU = 2**50  # 1 PiB: anything larger is a typo, and would print as YiB
UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _card(name: str) -> Card:
    return next(c for c in CARDS if c.name == name)


def parse_gpu(text: str) -> tuple[str, int]:
    """``RTX 4090``, ``24GB`` (a spec-sheet size), ``23.5GiB`` or ``25e9B`` -> (label, bytes)."""
    wanted = _key(text)
    for card in CARDS:
        # "A100-80GB", "A100 80", "H100 80GB", "RTX 4090 24GB": the name, with or without
        # the spec-sheet size people append to it.
        key = _key(card.name)
        name = key.removesuffix(f"{card.spec_gb}gb")
        if wanted in (key, f"{name}{card.spec_gb}", f"{name}{card.spec_gb}gb") or (
                wanted == name and name == key):
            return card.name, card.capacity
    sizes = [c.name for c in CARDS if _key(c.name).removesuffix(f"{c.spec_gb}gb") == wanted]
    if len(sizes) > 1:
        raise ConfigError(f"--gpu {text.strip()} comes in more than one size: say "
                          f"{' or '.join(sizes)}")
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", text)
    if m and m.group(2).lower() in UNITS:
        value, unit = float(m.group(1)), m.group(2).lower()
        if value <= 0:
            raise ConfigError(f"--gpu size must be positive, got {text!r}")
        if value * (GIB if not unit else UNITS[unit]) > MAX_GPU:
            raise ConfigError(f"--gpu {text.strip()} is absurd: no GPU holds more than a few "
                              "hundred GB (limit 1 PiB)")
        if unit in ("gb", "") and value == int(value) and int(value) in SPEC_SIZES:
            card = _card(SPEC_SIZES[int(value)])
            return f"{text.strip()} ({card.name} as reported)", card.capacity
        size = int(value * (GIB if not unit else UNITS[unit]))  # a bare number means GiB
        return text.strip(), size
    names = ", ".join(c.name for c in CARDS)
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

    @property
    def headroom(self) -> int | None:
        """Bytes left under the usable budget at the found batch."""
        if self.estimate is None or self.estimate.peak is None or self.batch is None:
            return None
        return self.usable - self.estimate.peak


def usable_bytes(capacity: int) -> int:
    return int(capacity * (1 - MARGIN)) - CUDA_CONTEXT


def _cuda(cfg: Config, batch: int) -> Config:
    return replace(cfg, batch=batch, device="cuda")


def _peak(cfg: Config, batch: int) -> int:
    peak = estimate(_cuda(cfg, batch)).peak
    assert peak is not None
    return peak


def _envelope(cfg: Config, low: int) -> list[tuple[int, int]]:
    """Live bytes after every allocation are linear in the batch (the same tensors, each
    B-proportional or fixed) before the allocator's rounding: two replays give each
    line; the peak is their maximum."""
    a: list[int] = []
    b: list[int] = []
    estimate(_cuda(cfg, low), curve=a, exact_sizes=True)
    estimate(_cuda(cfg, low + 1), curve=b, exact_sizes=True)
    lines = sorted({(y1 - y0, y0) for y0, y1 in zip(a, b, strict=True)})
    hull: list[tuple[int, int]] = []  # keep the lines that are ever on top for B >= low
    for s, c in lines:
        while hull and hull[-1][0] == s:
            hull.pop()
        while len(hull) >= 2:
            (s1, c1), (s2, c2) = hull[-2], hull[-1]
            if (c1 - c2) * (s - s2) >= (c2 - c) * (s2 - s1):
                hull.pop()
            else:
                break
        hull.append((s, c))
    return hull


def largest_batch(cfg: Config, gpu: str, capacity: int) -> Fit:
    """Biggest batch whose CUDA peak fits under the capacity less the CUDA context and
    the allocator margin; peaks grow with the batch."""
    usable = usable_bytes(capacity)
    if usable <= 0:
        return Fit(gpu, capacity, usable, None, estimate(replace(cfg, device="cuda")),
                   "CUDA context", f"the assumed {CUDA_CONTEXT:,} B CUDA context alone "
                   "does not fit")
    if cfg.layers is None and cfg.gpt is None:
        est = estimate(replace(cfg, device="cuda"))
        fixed = est.weights + est.master_weights + est.gradients + est.optimizer_state
        verdict = "fit" if fixed <= usable else "do not fit"
        masters = " + master weights" if est.master_weights else ""
        return Fit(gpu, capacity, usable, None, est, "unknown",
                   f"weights{masters} + gradients + optimiser state ({fixed:,} B) {verdict}; the "
                   "largest batch needs activations: give --layers or --model")
    low = 2 if cfg.norm == "batchnorm" and cfg.layers and len(cfg.layers) > 2 else 1
    if _peak(cfg, low) > usable:
        est = estimate(_cuda(cfg, low))
        assert est.peak is not None
        states = est.weights + est.master_weights + est.gradients + est.optimizer_state
        moe = cfg.gpt is not None and cfg.gpt.n_experts > 0
        fix = ("a larger GPU (a 4-bit base is not modelled for experts)" if cfg.lora and moe
               else "store the base in 4 bits (--base-dtype nf4)" if cfg.lora is not None
               else "shard them (--gpus N --zero 3) or train adapters (--lora-rank)")
        hint = (f"; weights, gradients and optimiser state alone take {human(states)}: {fix}"
                if states > usable // 2 and not (cfg.lora and cfg.lora.nf4) else "")
        return Fit(gpu, capacity, usable, None, est, dominant(est),
                   f"even batch {low} (the table above) needs {human(est.peak)}, more than "
                   f"the {human(usable)} usable{hint}")
    # The lines start at batch 2: at batch 1 some reshapes are views, not copies (the
    # LoRA replay then allocates fewer tensors); from 2 on every batch makes the same ones.
    base = max(low, 2)
    hull = _envelope(cfg, base)

    def predicted(batch: int) -> int:
        return max(c + s * (batch - base) for s, c in hull)

    high, top = low, MAX_BATCH + 1
    while top - high > 1:  # invariant: high fits (as predicted), top does not
        mid = (high + top) // 2
        if predicted(mid) <= usable:
            high = mid
        else:
            top = mid
    # The 512-byte rounding adds a little to every tensor: settle on the exact replay,
    # galloping down to a batch that fits, then bisecting to the edge.
    step = 1
    fits = high
    while fits > low and _peak(cfg, fits) > usable:
        fits = max(low, high - step)
        step *= 2
    top = min(fits + max(step // 2, 1), MAX_BATCH + 1)
    while top <= MAX_BATCH and _peak(cfg, top) <= usable:
        fits, top = top, min(top + (top - fits) * 2, MAX_BATCH + 1)
    while top - fits > 1:
        mid = (fits + top) // 2
        if _peak(cfg, mid) <= usable:
            fits = mid
        else:
            top = mid
    high = fits
    est = estimate(_cuda(cfg, high))
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
        return "temporaries (gradients in flight)"
    return top
