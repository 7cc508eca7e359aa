"""LoRA and QLoRA model states (pure Python; the step itself is replayed by
the GPT walk in ``models/``, its frozen and adapted Linears in ``gpt_lora_ops``; the
4-bit storage is sized by ``nf4.py``).

LoRA (Hu et al., ICLR 2022) freezes the base weights -- no gradient, no optimiser state
-- and trains, for each targeted Linear of d_in -> d_out, A (r x d_in) and B (d_out x r):
r x (d_in + d_out) parameters. QLoRA (Dettmers et al., NeurIPS 2023) stores the frozen
block Linears in 4-bit NormalFloat (``nf4.py``: 4.127 bits per weight).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlprep.memcalc.config import LORA_TARGETS, Config, ConfigError
from dlprep.memcalc.estimate import CUDA_ROUNDING, static_parts
from dlprep.memcalc.nf4 import base_sizes
from dlprep.memcalc.timeline import Timeline
from dlprep.numparse import shown

TARGETS = LORA_TARGETS
DEFAULT_TARGETS = ("q", "v")  # PEFT's default for Llama-style models


@dataclass
class Lora:
    rank: int
    targets: tuple[str, ...]
    base_dtype: str  # "nf4" or the model's dtype
    base_bytes: int  # frozen weights (quantised Linears + the rest)
    quantised_params: int
    adapter_params: int
    adapter_bytes: int
    master_weights: int
    gradients: int
    optimizer_state: int

    @property
    def model_states(self) -> int:
        return (self.base_bytes + self.adapter_bytes + self.master_weights + self.gradients
                + self.optimizer_state)


def parse_targets(text: str) -> tuple[str, ...]:
    # "q,,v" and "q,q" are typos, not a request: refused rather than read as "q,v" and "q"
    names = tuple(p.strip() for p in text.lower().split(","))
    bad = [p for p in names if p not in TARGETS]
    if bad:
        raise ConfigError(f"--lora-targets takes names from {','.join(TARGETS)}; got "
                          f"{shown(text)}")
    twice = sorted({p for p in names if names.count(p) > 1})
    if twice:
        raise ConfigError(f"--lora-targets names {', '.join(twice)} twice; got {shown(text)}")
    return names


def lora(cfg: Config) -> Lora:
    """Model states of ``cfg.lora`` on ``cfg.gpt`` (CUDA rounds each tensor to 512 B)."""
    g, lo = cfg.gpt, cfg.lora
    if g is None or lo is None:
        raise ConfigError("--lora-rank adapts a transformer's Linears: give --model or "
                          "--arch gpt")
    # The estimator's own static rows (one source): its weights are the base then the
    # adapters; its gradients, masters and state are the adapters' only.
    weights, masters, _, _, half_grads, state = static_parts(cfg)
    t = Timeline(0, CUDA_ROUNDING if cfg.device == "cuda" else 1)
    base = sum(t.size(s) for s in base_sizes(cfg))
    adapter_bytes = weights - base
    quantised = g.n_layer * sum(a * b for _, a, b in g.linears()) if lo.nf4 else 0
    n_adapt = sum(cfg.trained_shapes)
    grads = half_grads + masters  # half grads + the fp32 copies the step reads
    return Lora(lo.rank, lo.targets, "nf4" if lo.nf4 else cfg.dtype, base, quantised,
                n_adapt, adapter_bytes, masters, grads, state)
