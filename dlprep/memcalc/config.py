"""What to size: a plain, validated description of one training step (pure Python)."""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from math import prod
from typing import Any

from dlprep.memcalc.optimizers import OPTIMIZERS as OPTIMIZER_TABLE
from dlprep.numparse import parse_number, parse_whole, shown

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu", "silu", "leaky_relu")
NORMS = ("none", "batchnorm", "layernorm")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = tuple(OPTIMIZER_TABLE)
DTYPES = ("fp32", "fp16", "bf16", "amp-fp16", "amp-bf16", "fp16-master", "bf16-master")
DEVICES = ("cpu", "cuda")
GPT_NORMS = ("layernorm", "rmsnorm")
GPT_MLPS = ("gelu", "swiglu")
ATTENTIONS = ("math", "sdpa")
# How a GPT's training code is written (docs/memory.md, "Code styles"): memcalc's rig
# (positions sliced from the table, the loss outside forward) or Hugging Face's and
# nanoGPT's (wpe(torch.arange(T)), the loss computed inside forward()).
CODE_STYLES = ("memcalc", "hf")

Dims = tuple[int, ...]  # a tensor's shape

# Bytes per element of each storage dtype used below.
ITEMSIZE = {"fp32": 4, "fp16": 2, "bf16": 2, "int64": 8, "bool": 1}

# Anything past this is a typo, not a model: 10^13 elements is 40 TB in fp32.
MAX_ELEMENTS = 10**13
MAX_WIDTH = 10**9
MAX_BATCH = 10**9
# The replay walks every layer (and --gpu replays a few times): a million-layer typo would
# hang it. The deepest published transformers have about 120 blocks.
MAX_DEPTH = 1000


# The block's Linears in the order its forward runs them: the one place the order is
# written. ``GPT.linears`` (parameter shapes, LoRA's adapters, NF4, ZeRO) reads it; the
# walk (``models/gpt.py``) runs them in this order, which a test checks on its events, and
# the grids check both against the PyTorch rig (``models/gpt_rig.py``), which writes its
# block as ordinary model code. A GELU MLP has no gate; SwiGLU is down(silu(gate) * up).
ATTENTION_LINEARS = ("q", "k", "v", "o")
BLOCK_LINEARS = (*ATTENTION_LINEARS, "gate", "up", "down")


class ConfigError(ValueError):
    """A description that cannot be sized; the message is one line for the user."""


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
        d, kv, ff = self.d_model, self.kv_heads * self.head_dim, self.ff
        return {"q": (d, d), "k": (d, kv), "v": (d, kv), "o": (d, d), "gate": (d, ff),
                "up": (d, ff), "down": (ff, d), "router": (d, self.n_experts)}[name]

    def linears(self) -> list[tuple[str, int, int]]:
        """(name, d_in, d_out) of one block's Linears, in forward order (``BLOCK_LINEARS``);
        an MoE block's router, then each expert's gate, up and down (all named alike)."""
        mlp = [n for n in BLOCK_LINEARS[len(ATTENTION_LINEARS):]
               if n != "gate" or self.mlp == "swiglu"]
        if self.n_experts:
            mlp = ["router", *(mlp * self.n_experts)]
        return [(n, *self.linear_dims(n)) for n in (*ATTENTION_LINEARS, *mlp)]

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
        return list(_gpt_shapes(self))

    def param_dims(self) -> list[Dims]:
        """Every parameter tensor's shape, in ``net.parameters()`` order."""
        return list(_gpt_dims(self))

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
        return [n for _ in range(g.n_layer) for name, a, b in g.linears()
                if name in self.targets for n in ((self.rank, a), (b, self.rank))]

    def shapes(self, g: GPT) -> list[int]:
        """Element count of every adapter tensor (``dims``)."""
        return [numel(x) for x in self.dims(g)]


def numel(dims: Dims) -> int:
    return prod(dims)


@cache
def _gpt_dims(g: GPT) -> tuple[Dims, ...]:
    # A preset has hundreds of tensors and every row asks: compute them once per shape.
    return g._dims()


@cache
def _gpt_shapes(g: GPT) -> tuple[int, ...]:
    return tuple(numel(x) for x in _gpt_dims(g))


@dataclass(frozen=True)
class Config:
    """One training step of an MLP ``layers[0] -> ... -> layers[-1]`` (or just a count).

    Hidden blocks are ``Linear -> norm -> activation -> dropout``; the last Linear feeds
    the loss directly. ``params`` alone (no ``layers``) sizes weights, gradients and
    optimiser state but cannot size activations.
    """

    batch: int
    layers: tuple[int, ...] | None = None
    params: int | None = None
    gpt: GPT | None = None
    seq: int = 0  # tokens per sequence (GPT)
    attention: str = "math"  # GPT: explicit matmul-softmax, or fused SDPA
    activation: str = "relu"
    dropout: float = 0.0
    norm: str = "none"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    foreach: bool = True
    dtype: str = "fp32"
    weight_decay: float = 0.0
    device: str = "cpu"
    input_chw: tuple[int, int, int] | None = None
    channels: int | None = None
    checkpointing: bool = False
    lora: Adapters | None = None  # GPT: frozen base, trained low-rank adapters
    code: str = "memcalc"  # GPT: the training code's style (CODE_STYLES)

    def __post_init__(self) -> None:
        check(self)

    @property
    def amp(self) -> bool:
        return self.dtype.startswith("amp-")

    @property
    def master(self) -> bool:
        """Half model, fp32 master weights and fp32 state owned by the optimiser."""
        return self.dtype.endswith("-master")

    @property
    def half(self) -> bool:
        """The model itself (weights, activations, batch) is in half precision."""
        return self.dtype in ("fp16", "bf16") or self.master

    @property
    def param_bytes(self) -> int:
        """Bytes per parameter element (autocast keeps fp32 weights)."""
        return 2 if self.half else 4

    @property
    def state_bytes(self) -> int:
        """Bytes per optimiser-state element: fp32 except in plain pure half."""
        return 2 if self.dtype in ("fp16", "bf16") else 4

    @property
    def act_bytes(self) -> int:
        """Bytes per element of what Linear layers produce."""
        return 4 if self.dtype == "fp32" else 2

    @property
    def arch(self) -> str:
        return "gpt" if self.gpt is not None else "mlp"

    @property
    def trained_shapes(self) -> list[int]:
        """Element counts of ``trained_dims``."""
        if self.gpt is not None and self.lora is None and not self.gpt.pooler:
            return self.param_shapes  # every parameter trains: the cached counts
        return [numel(x) for x in self.trained_dims]

    @property
    def trained_dims(self) -> list[Dims]:
        """Parameters that get a gradient, so optimiser state: all but BERT's pooler,
        which a language-model loss never reaches (torch skips params without grad);
        with LoRA, the adapters alone."""
        if self.lora is not None and self.gpt is not None:
            return self.lora.dims(self.gpt)
        dims = self.param_dims
        if self.gpt is not None and self.gpt.pooler:
            d = self.gpt.d_model
            i = len(dims) - (1 if not self.gpt.tied else 0) - 2
            assert dims[i:i + 2] == [(d, d), (d,)]
            dims = dims[:i] + dims[i + 2:]
        return dims

    @property
    def n_params(self) -> int:
        if self.gpt is not None:
            return sum(_gpt_shapes(self.gpt))
        if self.layers is None:
            assert self.params is not None
            return self.params
        total = sum(a * b + b for a, b in zip(self.layers, self.layers[1:], strict=False))
        if self.norm != "none":
            total += 2 * sum(self.layers[1:-1])
        return total

    @property
    def param_shapes(self) -> list[int]:
        """Element count of every parameter tensor, in ``net.parameters()`` order."""
        if self.gpt is not None:
            return self.gpt.param_shapes()
        return [numel(x) for x in self.param_dims]

    @property
    def param_dims(self) -> list[Dims]:
        """Every parameter tensor's shape (``--params`` alone: one vector of that many)."""
        if self.gpt is not None:
            return self.gpt.param_dims()
        if self.layers is None:
            return [(self.n_params,)]
        dims: list[Dims] = []
        pairs = list(zip(self.layers, self.layers[1:], strict=False))
        for i, (a, b) in enumerate(pairs):
            dims += [(b, a), (b,)]
            if i < len(pairs) - 1 and self.norm != "none":
                dims += [(b,), (b,)]
        return dims


def check(cfg: Config) -> None:
    if not isinstance(cfg.batch, int) or cfg.batch <= 0:
        raise ConfigError(f"batch must be a positive integer, got {cfg.batch!r}")
    if cfg.batch > MAX_BATCH:
        raise ConfigError(f"batch {cfg.batch} is absurdly large (limit {MAX_BATCH:.0e})")
    if cfg.gpt is not None:
        check_gpt(cfg, cfg.gpt)
    elif cfg.code != "memcalc":
        raise ConfigError("--code-style is for transformers: an MLP has one shape of code")
    elif cfg.layers is None and cfg.params is None:
        raise ConfigError("give --layers (MLP widths) or --params (a parameter count)")
    if cfg.layers is not None:
        if len(cfg.layers) < 2:
            raise ConfigError("--layers needs at least an input and an output width, e.g. 784,10")
        if any(w <= 0 for w in cfg.layers):
            raise ConfigError("every layer width must be a positive integer")
        if any(w > MAX_WIDTH for w in cfg.layers):
            raise ConfigError(f"a layer width over {MAX_WIDTH:.0e} is absurd")
        if len(cfg.layers) > MAX_DEPTH + 1:
            raise ConfigError(f"--layers gives {len(cfg.layers) - 1:,} layers; memcalc sizes "
                              f"at most {MAX_DEPTH:,}")
    if OPTIMIZER_TABLE.get(cfg.optimizer) and OPTIMIZER_TABLE[cfg.optimizer].factored \
            and cfg.layers is None and cfg.gpt is None:
        raise ConfigError(f"--optimizer {cfg.optimizer} factors each matrix's second moment "
                          "by its rows and columns: give --layers or a GPT shape, not --params")
    if cfg.params is not None and not 0 < cfg.params <= MAX_ELEMENTS:
        raise ConfigError(f"--params must be between 1 and {MAX_ELEMENTS:.0e}")
    for name, value, allowed in (
        ("activation", cfg.activation, ACTIVATIONS),
        ("norm", cfg.norm, NORMS),
        ("loss", cfg.loss, LOSSES),
        ("optimizer", cfg.optimizer, OPTIMIZERS),
        ("dtype", cfg.dtype, DTYPES),
        ("device", cfg.device, DEVICES),
    ):
        if value not in allowed:
            raise ConfigError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.norm == "batchnorm" and cfg.batch < 2 and cfg.layers and len(cfg.layers) > 2:
        raise ConfigError("batchnorm needs a batch of at least 2 in training")
    if not 0 <= cfg.weight_decay < float("inf"):  # also refuses nan
        raise ConfigError(f"weight decay must be a finite number >= 0, got {cfg.weight_decay}")
    if cfg.layers is not None and cfg.n_params > MAX_ELEMENTS:
        raise ConfigError(f"{cfg.n_params:.3g} parameters is absurd (limit {MAX_ELEMENTS:.0e})")
    if cfg.input_chw is not None and cfg.channels is None:
        raise ConfigError("--input CxHxW needs --channels C (the channels of the activation map)")
    if cfg.channels is not None and cfg.input_chw is None:
        raise ConfigError("--channels C needs --input CxHxW (the image the conv layer sees)")
    if cfg.channels is not None and cfg.channels <= 0:
        raise ConfigError("--channels must be a positive integer")
    if cfg.checkpointing and cfg.gpt is None and (cfg.layers is None or len(cfg.layers) < 3):
        raise ConfigError("--checkpointing recomputes hidden blocks: give --layers with at "
                          "least one hidden width, e.g. 784,512,10")


def check_gpt(cfg: Config, g: GPT) -> None:
    for name, value in (("--n-layer", g.n_layer), ("--d-model", g.d_model),
                        ("--n-head", g.n_head), ("--vocab", g.vocab), ("--seq", cfg.seq)):
        if not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if value > MAX_WIDTH:
            raise ConfigError(f"{name} {value} is absurd (limit {MAX_WIDTH:.0e})")
    if g.n_layer > MAX_DEPTH:
        raise ConfigError(f"--n-layer {g.n_layer:,} is absurd (memcalc sizes at most "
                          f"{MAX_DEPTH:,} blocks; the deepest published models have ~120)")
    if g.d_model % g.n_head:
        raise ConfigError(f"--d-model {g.d_model} must be a multiple of --n-head {g.n_head}")
    if g.n_kv_head < 0:
        raise ConfigError(f"--n-kv-head must be 0 (as many as --n-head) or positive, got "
                          f"{g.n_kv_head}")
    if g.n_head % g.kv_heads:
        raise ConfigError(f"--n-head {g.n_head} must be a multiple of --n-kv-head "
                          f"{g.n_kv_head} (grouped-query attention shares each K/V head)")
    if g.kv_heads == 1 and g.n_head > 1:
        raise ConfigError("--n-kv-head 1 (multi-query attention) is not modelled: its K/V "
                          "repeat is a view, not a copy; use 2 or more")
    if g.d_ff < 0 or g.max_pos < 0:
        raise ConfigError("--d-ff and the position table must not be negative")
    if g.max_pos and cfg.seq > g.max_pos:
        raise ConfigError(f"--seq {cfg.seq} is longer than the {g.max_pos} learned positions")
    for what, choice, allowed in (("norm", g.norm, GPT_NORMS), ("mlp", g.mlp, GPT_MLPS),
                                  ("attention", cfg.attention, ATTENTIONS),
                                  ("code style", cfg.code, CODE_STYLES)):
        if choice not in allowed:
            raise ConfigError(f"unknown {what} {choice!r}; choose from {', '.join(allowed)}")
    if cfg.layers is not None or cfg.params is not None:
        raise ConfigError("a GPT is sized from its shape: drop --layers and --params")
    if cfg.dropout:
        raise ConfigError("--dropout is not modelled for GPT blocks (modern LLMs train "
                          "without it)")
    if cfg.loss != "cross_entropy":
        raise ConfigError("a GPT is trained with cross-entropy over the vocabulary")
    check_moe(cfg, g)
    if sum(g.param_shapes()) > MAX_ELEMENTS:
        raise ConfigError(f"{sum(g.param_shapes()):.3g} parameters is absurd")
    if cfg.lora is not None:
        check_lora(cfg, g, cfg.lora)


def check_moe(cfg: Config, g: GPT) -> None:
    """A Mixtral-style block: SwiGLU experts, top-k of them per token, routed so that
    every expert gets its share of the B x T x top_k routed tokens (balanced routing)."""
    if not g.n_experts and not g.top_k:
        return
    if g.n_experts > 4096:  # Mixtral has 8, the largest published MoEs a few hundred
        raise ConfigError(f"--experts {g.n_experts:,} is absurd (memcalc walks each expert)")
    if not 0 < g.top_k <= g.n_experts:
        raise ConfigError(f"--top-k must be between 1 and --experts (an MoE block routes "
                          f"each token to k of its experts), got {g.top_k} of {g.n_experts}")
    if g.mlp != "swiglu":
        raise ConfigError("mixture-of-experts blocks are sized with SwiGLU experts "
                          "(Mixtral's): add --mlp swiglu")
    if cfg.lora is not None:
        raise ConfigError("LoRA on a mixture of experts is not modelled (which experts' "
                          "Linears it adapts is a choice memcalc does not size)")


LORA_TARGETS = BLOCK_LINEARS


def check_lora(cfg: Config, g: GPT, lo: Adapters) -> None:
    if not isinstance(lo.rank, int) or not 0 < lo.rank <= g.d_model:
        raise ConfigError(f"--lora-rank must be between 1 and d_model ({g.d_model}), "
                          f"got {lo.rank!r}")
    names = [name for name, _, _ in g.linears()]
    bad = [t for t in lo.targets if t not in LORA_TARGETS]
    if bad or not lo.targets:
        raise ConfigError(f"--lora-targets takes names from {','.join(LORA_TARGETS)}; "
                          f"got {','.join(lo.targets)!r}")
    if cfg.amp and lo.nf4:
        raise ConfigError("QLoRA computes in the dtype its 4-bit weights are dequantised "
                          "to: choose --dtype bf16 (or fp16, *-master), not autocast")
    missing = [t for t in lo.targets if t not in names]
    if missing:
        raise ConfigError(f"this model has no {', '.join(missing)} projection "
                          f"(its Linears: {', '.join(names)})")



def parse_count(text: str, what: str) -> int:
    """``1e6``, ``1_000_000``, ``1,000,000``, ``7B``, ``350M`` -> int; else a ConfigError."""
    raw = text.strip()
    scale = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
    factor = 1
    if raw and raw[-1].lower() in scale:
        factor, raw = scale[raw[-1].lower()], raw[:-1]
    try:
        value = parse_number(raw) * factor
    except ValueError as exc:
        raise ConfigError(f"{what} must be a number like 1e6 or 350M: {exc}") from None
    if value <= 0 or value != int(value):
        raise ConfigError(f"{what} must be a positive whole number, got {text.strip()!r}")
    return int(value)


def parse_layers(text: str) -> tuple[int, ...]:
    # "784,512,10", "784 512 10" and "784x512x10" all work; an empty or non-numeric width
    # between separators ("784,x,10", "784,,10") is an error, never silently dropped.
    parts = re.split(r"\s*[,x]\s*|\s+", text.strip().lower())
    widths = [_width(p) for p in parts]
    if len(parts) < 2 or not all(widths):
        raise ConfigError("--layers must be comma-separated widths like 784,512,10, got "
                          f"{shown(text)}")
    return tuple(widths)


def parse_chw(text: str) -> tuple[int, int, int]:
    sizes = [_width(p) for p in text.lower().split("x")]
    if len(sizes) != 3 or not all(sizes):
        raise ConfigError(f"--input must be CxHxW with positive integers, e.g. 1x28x28, "
                          f"got {shown(text)}")
    c, h, w = sizes
    return c, h, w


def _width(text: str) -> int:
    """A positive whole number of plain digits, else 0 (``"²"`` and 5,000 digits are 0)."""
    if not re.fullmatch(r"\s*\d+\s*", text, re.ASCII):
        return 0
    try:
        return max(parse_whole(text), 0)
    except ValueError:
        return 0
