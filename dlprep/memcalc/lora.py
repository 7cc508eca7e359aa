"""LoRA and QLoRA model states (pure Python; the arithmetic is exact, activations are not
replayed yet).

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

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.optim import state_tensors

TARGETS = ("q", "k", "v", "o", "gate", "up", "down")
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
    names = tuple(p.strip() for p in text.lower().split(",") if p.strip())
    bad = [p for p in names if p not in TARGETS]
    if not names or bad:
        raise ConfigError(f"--lora-targets takes names from {','.join(TARGETS)}; got {text!r}")
    return names


def lora(cfg: Config, rank: int, targets: tuple[str, ...], base_dtype: str) -> Lora:
    g = cfg.gpt
    if g is None:
        raise ConfigError("--lora-rank adapts a transformer's Linears: give --model or "
                          "--arch gpt")
    if rank <= 0 or rank > g.d_model:
        raise ConfigError(f"--lora-rank must be between 1 and d_model ({g.d_model})")
    linears = {name: (a, b) for name, a, b in g.linears()}
    missing = [t for t in targets if t not in linears]
    if missing:
        raise ConfigError(f"this model has no {', '.join(missing)} projection "
                          f"(its Linears: {', '.join(linears)})")
    pb = cfg.param_bytes
    adapters = [n for t in targets for n in (rank * linears[t][0], linears[t][1] * rank)]
    adapters *= g.n_layer
    per_block = sum(a * b for a, b in linears.values())
    base = cfg.n_params * pb
    quantised = 0
    if base_dtype == "nf4":
        quantised = per_block * g.n_layer
        base -= quantised * pb
        base += g.n_layer * sum(nf4_bytes(a * b) for a, b in linears.values())
    n_adapt = sum(adapters)
    masters = 4 * n_adapt if cfg.master else 0
    grads = n_adapt * pb + masters  # half grads + the fp32 copies the step reads
    state = sum(s for n in adapters for s in state_tensors(cfg, n))
    return Lora(rank, targets, base_dtype, base, quantised, n_adapt, n_adapt * pb, masters,
                grads, state)
