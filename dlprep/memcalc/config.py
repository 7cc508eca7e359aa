"""What to size: a plain, validated description of one training step (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass

from dlprep.memcalc.optimizers import OPTIMIZERS as OPTIMIZER_TABLE
from dlprep.memcalc.shape import BLOCK_LINEARS, GPT, Adapters, Dims, gpt_shapes, numel

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

# Bytes per element of each storage dtype used below.
ITEMSIZE = {"fp32": 4, "fp16": 2, "bf16": 2, "int64": 8, "bool": 1}

# Anything past this is a typo, not a model: 10^13 elements is 40 TB in fp32.
MAX_ELEMENTS = 10**13
MAX_WIDTH = 10**9
MAX_BATCH = 10**9
# The replay walks every layer (and --gpu replays a few times): a million-layer typo would
# hang it. The deepest published transformers have about 120 blocks.
MAX_DEPTH = 1000


class ConfigError(ValueError):
    """A description that cannot be sized; the message is one line for the user."""


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
        if self.gpt is not None and (self.lora is not None or not self.gpt.pooler):
            # every parameter trains, or the adapters alone: cached counts either way
            return self.lora.shapes(self.gpt) if self.lora else self.param_shapes
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
            return sum(gpt_shapes(self.gpt))
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
    if cfg.lora is not None and cfg.lora.nf4:
        raise ConfigError("QLoRA's 4-bit base on a mixture of experts is not modelled "
                          "(bitsandbytes would quantise the router too); LoRA on it is")


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
