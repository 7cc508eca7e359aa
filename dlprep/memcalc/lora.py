"""LoRA and QLoRA model states (pure Python; the step itself is replayed by
``models/gpt_lora.py``).

LoRA (Hu et al., ICLR 2022) freezes the base weights -- no gradient, no optimiser state
-- and trains, for each targeted Linear of d_in -> d_out, A (r x d_in) and B (d_out x r):
r x (d_in + d_out) parameters. QLoRA (Dettmers et al., NeurIPS 2023) stores the frozen
Linear weights in 4-bit NormalFloat, blocks of 64 with one absmax constant each; double
quantisation stores those constants in 8 bits with one fp32 constant per 256 of them:
4 + 8/64 + 32/(64 x 256) = 4.127 bits per weight. Embeddings, norms, biases and the head
stay in the model's dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlprep.memcalc.config import LORA_TARGETS, Config, ConfigError
from dlprep.memcalc.estimate import CUDA_ROUNDING, static_parts
from dlprep.memcalc.timeline import Timeline
from dlprep.numparse import shown

TARGETS = LORA_TARGETS
DEFAULT_TARGETS = ("q", "v")  # PEFT's default for Llama-style models
NF4_BLOCK, NF4_BLOCK2 = 64, 256


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


def nf4_bytes(n: int) -> int:
    """One weight matrix of n elements in NF4 with double-quantised block constants."""
    blocks = -(-n // NF4_BLOCK)
    return -(-n // 2) + blocks + 4 * -(-blocks // NF4_BLOCK2)


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


def base_sizes(cfg: Config) -> list[int]:
    """Bytes of each frozen base tensor: with NF4, each block Linear's weight is one
    packed tensor of ``nf4_bytes`` (the quantisation state's small code tables aside)."""
    g, lo = cfg.gpt, cfg.lora
    assert g is not None and lo is not None
    pb = cfg.param_bytes
    shapes = list(cfg.param_shapes)
    if not lo.nf4:
        return [n * pb for n in shapes]
    packed: list[int] = []
    for _ in range(g.n_layer):
        for _, a, b in g.linears():
            shapes.remove(a * b)  # any tensor of that size: the multiset is what counts
            packed.append(nf4_bytes(a * b))
    return packed + [n * pb for n in shapes]


def weight_sizes(cfg: Config) -> list[int]:
    """The weights row: the frozen base, then the adapters in the model's dtype."""
    return base_sizes(cfg) + [n * cfg.param_bytes for n in cfg.trained_shapes]


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
