"""The pure estimator: replay one training step (an MLP, a GPT, LoRA on a GPT), tensor
by tensor.

The family's module under ``models/`` walks forward and backward (``models.replay_of``),
``optim`` the optimiser step; every rule was read off torch 2.13 on CPU with
``measure(cfg, "cpu", trace=True)`` (see docs/memory.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlprep.memcalc.config import Config
from dlprep.memcalc.models import backward_of, replay_of
from dlprep.memcalc.nf4 import weight_sizes
from dlprep.memcalc.optim import state_sizes, step
from dlprep.memcalc.timeline import Peak, Timeline

# cuBLAS + cuBLASLt workspace from the caching allocator. Version-dependent and
# NOT calibrated on a GPU yet: torch's documented default CUBLAS_WORKSPACE_CONFIG
# ":4096:2:16:8" is 2 x 4 MiB + 8 x 16 KiB.
CUBLAS_WORKSPACE = 2 * 4096 * 1024 + 8 * 16 * 1024
CUDA_ROUNDING = 512


@dataclass
class Estimate:
    cfg: Config
    weights: int
    buffers: int
    inputs: int
    gradients: int
    optimizer_state: int
    saved_activations: int | None
    peak: int | None
    phase_peaks: dict[str, int] = field(default_factory=dict)
    at_peak: Peak | None = None
    step_temporaries: int = 0
    workspace: int = 0
    peak_floor: int = 0
    master_weights: int = 0
    master_grads: int = 0  # the fp32 gradient copies made for the step (in ``gradients``)
    # Checkpointing: bytes each hidden block's recompute saves again (live only while
    # that block's backward runs).
    recomputed: dict[int, int] = field(default_factory=dict)
    phase_parts: dict[str, dict[str, int]] = field(default_factory=dict)  # live at each peak
    saved_per_block: int = 0  # GPT: what one block saves for backward

    @property
    def temporaries(self) -> int | None:
        """Bytes at the peak that are neither state, inputs, gradients nor saved tensors."""
        if self.at_peak is None:
            return None
        return self.at_peak.parts.get("temp", 0)


def static_parts(cfg: Config) -> tuple[int, int, int, int, int, int]:
    """(weights, fp32 masters, buffers, inputs, half gradients, optimiser state) in bytes."""
    t = Timeline(0, CUDA_ROUNDING if cfg.device == "cuda" else 1)
    if cfg.lora is not None:
        sizes = weight_sizes(cfg)
    else:
        sizes = [n * cfg.param_bytes for n in cfg.param_shapes]
    weights = sum(t.size(s) for s in sizes)
    # Master copies of what the optimiser trains (a frozen LoRA base gets none).
    kept = cfg.trained_shapes if cfg.lora is not None else cfg.param_shapes
    masters = sum(t.size(n * 4) for n in kept) if cfg.master else 0
    state = sum(t.size(s) for s in state_sizes(cfg))
    buffers, inputs = replay_of(cfg).static(cfg, t) if cfg.layers or cfg.gpt else (0, 0)
    grads = sum(t.size(n * cfg.param_bytes) for n in cfg.trained_shapes) if cfg.lora \
        else weights
    return weights, masters, buffers, inputs, grads, state


def estimate(cfg: Config, log: list[str] | None = None,
             curve: list[int] | None = None, exact_sizes: bool = False) -> Estimate:
    """Every row, the peak and where it happens; activations need ``cfg.layers``."""
    weights, masters, buffers, inputs, grads, state = static_parts(cfg)
    rounding = CUDA_ROUNDING if cfg.device == "cuda" else 1
    if cfg.layers is None and cfg.gpt is None:
        # Without shapes only the step is known, and only for foreach kernels (their
        # temporaries are one list as large as the weights, however they are split).
        t = Timeline(weights + masters + grads + state, rounding)
        t.start("backward")
        copies = sum(t.tensors[k].nbytes for k in step(t, cfg))
        temps = t.peak.bytes - t.base - copies if cfg.foreach else 0
        return Estimate(cfg, weights, buffers, inputs, grads + copies, state, None, None,
                        step_temporaries=temps, peak_floor=t.base + copies + temps,
                        master_weights=masters, master_grads=copies)
    workspace = CUBLAS_WORKSPACE if cfg.device == "cuda" else 0
    if exact_sizes:  # no 512-byte rounding: every size is then linear in the batch
        rounding = 1
    t = Timeline(weights + masters + buffers + inputs + state + workspace, rounding)
    t.log, t.curve = log, curve
    family = replay_of(cfg)
    graph = family.forward(t, cfg)
    saved = t.saved_total  # the recompute's saves in backward are transient, not these
    grad_keys = backward_of(cfg)(t, cfg, graph)
    start = t.cur
    copy_keys = step(t, cfg)
    copies = sum(t.tensors[k].nbytes for k in copy_keys)
    total_grads = sum(t.tensors[k].nbytes for k in [*grad_keys, *copy_keys])
    return Estimate(cfg, weights, buffers, inputs, total_grads, state, saved,
                    t.peak.bytes, dict(t.phase_peaks), t.peak,
                    t.phase_peaks["step"] - start - copies, workspace,
                    master_weights=masters, master_grads=copies,
                    recomputed=dict(graph.recomputed), phase_parts=dict(t.phase_parts),
                    saved_per_block=getattr(graph, "per_block", 0))
