"""QLoRA's frozen 4-bit base, tensor by tensor (pure Python; the estimator's weights row
and ``lora.py`` both read it, so it depends on neither).

QLoRA (Dettmers et al., NeurIPS 2023) stores each frozen block Linear's weight in 4-bit
NormalFloat, blocks of 64 with one absmax constant each; double quantisation stores
those constants in 8 bits with one fp32 constant per 256 of them: 4 + 8/64 +
32/(64 x 256) = 4.127 bits per weight. Embeddings, norms, biases and the head stay in
the model's dtype.
"""

from __future__ import annotations

from dlprep.memcalc.config import Config

NF4_BLOCK, NF4_BLOCK2 = 64, 256


def nf4_bytes(n: int) -> int:
    """One weight matrix of n elements in NF4 with double-quantised block constants."""
    blocks = -(-n // NF4_BLOCK)
    return -(-n // 2) + blocks + 4 * -(-blocks // NF4_BLOCK2)


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
