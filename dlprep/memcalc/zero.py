"""Data parallelism over N GPUs with ZeRO stages 0-3 (FSDP full sharding = stage 3).

Model states follow Rajbhandari et al. 2020 (ZeRO, SC'20), section 5: stage 1
partitions the optimiser states (fp32 master weights and moments; here also the fp32
gradient copies the step reads), stage 2 also the gradients, stage 3 also the weights.
Each GPU then holds 1/N of a partitioned state. Activations are per GPU and not
partitioned (the batch is per GPU). The per-GPU peak applies that partitioning to what
the single-GPU replay has live at each phase's peak; stage 3 adds back the full weights
of the largest unit (a block, the embedding or the head), gathered while it runs. Not
modelled: communication buckets and their prefetch, activation partitioning or offload,
tensor and pipeline parallelism.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import Estimate

NOT_MODELLED = ("communication buffers (all-gather and reduce-scatter buckets, prefetch), "
                "activation partitioning and CPU offload, tensor and pipeline parallelism")


@dataclass
class Sharded:
    gpus: int
    stage: int
    weights: int
    gradients: int  # half (or fp32) gradients from backward
    master_weights: int
    grad_copies: int  # fp32 copies of half gradients for the step
    optimizer_state: int
    gathered: int  # stage 3: the largest unit's full weights, gathered while it runs
    peak: int | None  # per GPU; None without activations (a parameter count only)
    # A parameter count only: the per-GPU peaks of the assumed shapes' range (guess.py).
    peak_range: tuple[int, int] | None = None

    @property
    def model_states(self) -> int:
        """The ZeRO paper's model states: weights, gradients and optimiser states (K)."""
        return self.weights + self.gradients + self.master_weights + self.optimizer_state


def _part(nbytes: int, gpus: int, on: bool) -> int:
    return -(-nbytes // gpus) if on else nbytes


def shard(est: Estimate, gpus: int, stage: int, block_weights: int) -> Sharded:
    n = gpus
    half_grads = est.gradients - est.master_grads
    w = _part(est.weights, n, stage >= 3)
    g = _part(half_grads, n, stage >= 2)
    m = _part(est.master_weights, n, stage >= 1)
    c = _part(est.master_grads, n, stage >= 1)
    s = _part(est.optimizer_state, n, stage >= 1)
    gathered = block_weights if stage >= 3 and n > 1 else 0
    peak = None
    if est.peak is not None and est.phase_peaks:
        saving = (est.weights - w - gathered) + (est.master_weights - m) + \
            (est.optimizer_state - s)
        peaks = []
        for phase, total in est.phase_peaks.items():
            parts = est.phase_parts.get(phase, {})
            live_grads = parts.get("grad", 0)
            if phase == "step":
                copies = min(live_grads, est.master_grads)
                grads_saved = (copies - _part(copies, n, stage >= 1)) + \
                    (live_grads - copies - _part(live_grads - copies, n, stage >= 2))
                temps = parts.get("temp", 0)
                temps_saved = temps - _part(temps, n, stage >= 1)  # each rank steps its shard
            else:
                grads_saved = live_grads - _part(live_grads, n, stage >= 2)
                temps_saved = 0
            peaks.append(total - saving - grads_saved - temps_saved)
        peak = max(peaks)
    return Sharded(n, stage, w, g, m, c, s, gathered, peak)


def block_weights(cfg: Config) -> int:
    """Bytes of the largest unit stage 3 gathers at once: a GPT block, the token
    embedding or the untied head (Llama-3's 128k-token head outweighs a block), or an
    MLP layer."""
    if cfg.gpt is not None:
        g = cfg.gpt
        # (an MoE block: its router, without bias, and every expert)
        per = sum(a * b + (b if g.bias and name != "router" else 0)
                  for name, a, b in g.linears())
        return max(per, g.vocab * g.d_model) * cfg.param_bytes
    if cfg.layers is not None:
        pairs = zip(cfg.layers, cfg.layers[1:], strict=False)
        return max(a * b + b for a, b in pairs) * cfg.param_bytes
    return 0
