"""A GPT's shape and its LoRA adapters: the parameter tensors they make, in
``net.parameters()`` order (pure Python; ``config.Config`` says what to do with them)."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from math import prod
from typing import Any

Dims = tuple[int, ...]  # a tensor's shape

# The block's Linears in the order its forward runs them: the one place the order is
# written. ``GPT.linears`` (parameter shapes, LoRA's adapters, NF4, ZeRO) reads it; the
# walk (``models/gpt.py``) runs them in this order, which a test checks on its events, and
# the grids check both against the PyTorch rig (``models/gpt_rig.py``), which writes its
# block as ordinary model code. A GELU MLP has no gate; SwiGLU is down(silu(gate) * up).
ATTENTION_LINEARS = ("q", "k", "v", "o")
BLOCK_LINEARS = (*ATTENTION_LINEARS, "gate", "up", "down")


def _shape(option: str, default: Any = MISSING, flag: bool = False) -> Any:
    """A GPT shape field set by ``--<option>``; ``flag``: an on/off option that turns the
    field off (``--untied`` makes ``tied`` False)."""
    return field(default=default, metadata={"option": option, "flag": flag})


@dataclass(frozen=True)
class GPT:
    """A decoder-only (or, with ``causal`` False, encoder) transformer's shape.

    Blocks are pre-norm: ``x + attn(norm(x))`` then ``x + mlp(norm(x))``; a final norm
    and the output head (tied to the token embedding or its own matrix) feed
    cross-entropy over the vocabulary.
    """

    # Each shape field names the command-line option that sets it (``--n-layer`` ...): the
    # one list of GPT shape options (``SHAPE_OPTIONS``, ``shape_from``). A field without
    # one comes only from a preset or a config.json (BERT's extras).
    n_layer: int = _shape("n_layer")
    d_model: int = _shape("d_model")
    n_head: int = _shape("n_head")
    vocab: int = _shape("vocab")
    n_kv_head: int = _shape("n_kv_head", 0)  # 0: as many as n_head; fewer: grouped-query
    d_ff: int = _shape("d_ff", 0)  # 0: 4 x d_model
    max_pos: int = _shape("positions", 0)  # learned position rows; 0: none (RoPE, unsized)
    norm: str = _shape("norm", "layernorm")
    mlp: str = _shape("mlp", "gelu")
    tied: bool = _shape("untied", True, flag=True)
    bias: bool = _shape("no_bias", True, flag=True)  # biases in every Linear (and LayerNorm)
    causal: bool = _shape("encoder", True, flag=True)
    token_types: int = 0  # BERT's segment embedding rows
    embed_norm: bool = False  # BERT's LayerNorm on the embeddings
    pooler: bool = False  # BERT's d x d pooler (counted, not trained by a LM loss)
    final_norm: bool = True  # a norm before the head (pre-norm models; BERT has none)
    n_experts: int = _shape("experts", 0)  # Mixtral-style MoE: a router and this many
    top_k: int = _shape("top_k", 0)  # SwiGLU experts; top_k of them per token. 0: dense

    @property
    def kv_heads(self) -> int:
        return self.n_kv_head or self.n_head

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head

    @property
    def ff(self) -> int:
        return self.d_ff or 4 * self.d_model

    def linear_dims(self, name: str) -> tuple[int, int]:
        """(d_in, d_out) of the block Linear called ``name`` (``BLOCK_LINEARS``, router)."""
        return _linear_dims(self)[name]

    def linears(self) -> list[tuple[str, int, int]]:
        """(name, d_in, d_out) of one block's Linears, in forward order (``BLOCK_LINEARS``);
        an MoE block's router, then each expert's gate, up and down (all named alike)."""
        return list(_linears(self))

    def active_params(self) -> int:
        """Parameters one token uses: all of them in a dense model; with experts, the
        router and ``top_k`` of the ``n_experts`` experts' MLPs (Mixtral's "active")."""
        total = sum(self.param_shapes())
        if not self.n_experts:
            return total
        d = self.d_model
        expert = 3 * d * self.ff + (2 * self.ff + d if self.bias else 0)
        return total - self.n_layer * (self.n_experts - self.top_k) * expert

    def param_shapes(self) -> list[int]:
        """Element count of every parameter tensor, in ``net.parameters()`` order."""
        return list(gpt_shapes(self))

    def param_dims(self) -> list[Dims]:
        """Every parameter tensor's shape, in ``net.parameters()`` order."""
        return list(gpt_dims(self))

    def _dims(self) -> tuple[Dims, ...]:
        d = self.d_model
        norm: list[Dims] = [(d,), (d,)] if self.norm == "layernorm" and self.bias else [(d,)]
        out: list[Dims] = [(self.vocab, d)]
        if self.max_pos:
            out.append((self.max_pos, d))
        if self.token_types:
            out.append((self.token_types, d))
        if self.embed_norm:
            out += norm
        first_mlp = "router" if self.n_experts else "gate" if self.mlp == "swiglu" else "up"
        for _ in range(self.n_layer):
            for name, a, b in self.linears():
                if name in ("q", first_mlp):
                    out += norm  # the pre-norm before attention and before the MLP
                if name == "router":  # Mixtral's router (its "gate") has no bias
                    out.append((b, a))
                    continue
                out += [(b, a), (b,)] if self.bias else [(b, a)]
        if self.final_norm:
            out += norm
        if self.pooler:
            out += [(d, d), (d,)]
        if not self.tied:
            out.append((self.vocab, d))
        return tuple(out)


# The command-line option that sets each GPT shape field (``dlprep memcalc --n-layer``...),
# read off the fields: ``options.py`` refuses a shape option beside --model or for an MLP.
SHAPE_OPTIONS = {f.metadata["option"]: f.name for f in fields(GPT) if "option" in f.metadata}
# The options a GPT described by hand cannot do without (the fields with no default).
REQUIRED_SHAPE = tuple(f.metadata["option"] for f in fields(GPT) if f.default is MISSING)


def shape_from(o: dict[str, Any]) -> GPT:
    """A GPT from its shape options (``None`` or absent: the field's default)."""
    kw: dict[str, Any] = {}
    for f in fields(GPT):
        value = o.get(f.metadata.get("option", ""))
        if value is not None:
            kw[f.name] = not value if f.metadata["flag"] else value
    return GPT(**kw)


@dataclass(frozen=True)
class Adapters:
    """LoRA (Hu et al., ICLR 2022) on a GPT: the base is frozen, and each targeted Linear
    d_in -> d_out gains A (r x d_in) and B (d_out x r), trained. ``nf4``: QLoRA's 4-bit
    base (Dettmers et al., NeurIPS 2023). No adapter dropout (lora_dropout = 0)."""

    rank: int
    targets: tuple[str, ...] = ("q", "v")
    nf4: bool = False

    def dims(self, g: GPT) -> list[Dims]:
        """Every adapter tensor's shape in ``net.parameters()`` order: per block, per
        targeted Linear in forward order, A (r x d_in) then B (d_out x r)."""
        return list(_adapter_dims(self, g))

    def shapes(self, g: GPT) -> list[int]:
        """Element count of every adapter tensor (``dims``)."""
        return list(_adapter_shapes(self, g))


# A LoRA answer asks for the adapters' tensors from every row: once per shape.
@cache
def _adapter_dims(lo: Adapters, g: GPT) -> tuple[Dims, ...]:
    return tuple(n for _ in range(g.n_layer) for name, a, b in _linears(g)
                 if name in lo.targets for n in ((lo.rank, a), (b, lo.rank)))


@cache
def _adapter_shapes(lo: Adapters, g: GPT) -> tuple[int, ...]:
    return tuple(numel(x) for x in _adapter_dims(lo, g))


def numel(dims: Dims) -> int:
    return prod(dims)


# The walk asks for a Linear's widths at every Linear it replays, and every row asks for
# the block's Linears: compute them once per shape.
@cache
def _linear_dims(g: GPT) -> dict[str, tuple[int, int]]:
    d, kv, ff = g.d_model, g.kv_heads * g.head_dim, g.ff
    return {"q": (d, d), "k": (d, kv), "v": (d, kv), "o": (d, d), "gate": (d, ff),
            "up": (d, ff), "down": (ff, d), "router": (d, g.n_experts)}


@cache
def _linears(g: GPT) -> tuple[tuple[str, int, int], ...]:
    mlp = [n for n in BLOCK_LINEARS[len(ATTENTION_LINEARS):] if n != "gate" or g.mlp == "swiglu"]
    if g.n_experts:
        mlp = ["router", *(mlp * g.n_experts)]
    dims = _linear_dims(g)
    return tuple((n, *dims[n]) for n in (*ATTENTION_LINEARS, *mlp))


@cache
def gpt_dims(g: GPT) -> tuple[Dims, ...]:
    # A preset has hundreds of tensors and every row asks: compute them once per shape.
    return g._dims()


@cache
def gpt_shapes(g: GPT) -> tuple[int, ...]:
    return tuple(numel(x) for x in gpt_dims(g))
