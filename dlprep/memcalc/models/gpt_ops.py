"""Pieces of the GPT walk: sizes, the trained Linear policy's forward and backward,
embedding and loss, tensor by tensor as torch 2.13 on CPU allocates and frees them
(the records they fill are in ``gpt_state``; the norms are in ``gpt_norm``)."""

from __future__ import annotations

from dlprep.memcalc.config import Config
from dlprep.memcalc.models.gpt_state import Graph, Lin, Stop
from dlprep.memcalc.shape import GPT
from dlprep.memcalc.timeline import Timeline


def shape(cfg: Config) -> GPT:
    assert cfg.gpt is not None
    return cfg.gpt


class Sizes:
    """Bytes of the tensors one step makes. ``er``: the residual stream, norms and loss
    (fp32 under autocast); ``e``: Linear outputs and attention (half under autocast)."""

    def __init__(self, cfg: Config) -> None:
        g = shape(cfg)
        self.g = g
        self.amp = cfg.amp
        self.B, self.T = cfg.batch, cfg.seq
        self.er = 2 if cfg.half else 4
        self.e = 2 if cfg.half or cfg.amp else 4
        self.pb = cfg.param_bytes
        self.bt = self.B * self.T
        self.N = self.bt * g.d_model * self.er
        self.NL = self.bt * g.d_model * self.e
        self.N32 = self.bt * g.d_model * 4
        self.kv = self.bt * g.kv_heads * g.head_dim * self.e
        self.F = self.bt * g.ff * self.e
        self.S = self.B * g.n_head * self.T * self.T * self.e
        self.stat = self.bt * (2 if cfg.half else 4)
        self.V = g.vocab
        self.sdpa = cfg.attention == "sdpa"
        # matmul reshapes (B, H, T, hd) to (B*H, T, hd): a view unless all three exceed 1
        self.copies = self.B > 1 and g.n_head > 1 and self.T > 1
        # (B, H, T, d_h) transposed back to (B, T, H * d_h): a copy unless H, T or d_h is 1
        self.merge_copy = g.n_head > 1 and self.T > 1 and g.head_dim > 1
        self.kv_copy = g.kv_heads > 1 and self.T > 1 and g.head_dim > 1
        # Full fine-tuning: every Linear, norm and embedding trains (LoraSizes: none does).
        self.train = True
        self.nf4 = False
        # Hugging Face / nanoGPT code: wpe(torch.arange(T)), the loss inside forward().
        self.hf = cfg.code == "hf"

    def policy(self, name: str) -> str:
        """The policy of the block Linear called ``name`` (q, k, v, o, gate, up, down)."""
        return "trained"


def embed(t: Timeline, z: Sizes, gr: Graph) -> str:
    """The token embedding's output (plus learned positions): block 1's input. Looked
    up as ``wpe(torch.arange(T))`` (``z.hf``), the position embedding keeps its int64
    index for backward (``gr.keys["pos ids"]``: 8·T bytes saved), and forward() keeps
    it as a local until it returns (after the loss, which it computes)."""
    x = t.alloc(z.N, "token embedding")
    if z.g.max_pos:
        pe = None
        if z.hf:
            ids = gr.keys["pos ids"] = t.alloc(z.T * 8, "position ids (arange)")
            pe = t.alloc(z.T * z.g.d_model * z.er, "position embedding")
            if z.train:  # a frozen table (LoRA) records no backward: nothing saved
                t.save(ids)
        pos = t.alloc(z.N, "token + position embedding")
        t.drop(x)
        if pe is not None:
            t.drop(pe)
        x = pos
    return x


def loss(t: Timeline, z: Sizes, cfg: Config, gr: Graph, logits: str,
         h: str | None = None) -> None:
    """Cross-entropy from the logits; leaving autocast frees its cached casts (only those
    autograd saved live on). Records the loss's saved tensors in ``gr.keys``. ``h``: the
    head's input, still a local of forward() when the loss is computed there (``z.hf``;
    under autocast the fp32 final-norm output lives through the loss)."""
    src = t.alloc(z.bt * z.V * 4, "logits cast to float32") if z.amp else logits
    ls = t.alloc(z.bt * z.V * z.er, "log_softmax output")
    out = t.alloc(z.er, "loss")
    tw = t.alloc(z.er, "nll_loss total_weight")
    t.save(ls)
    t.save(tw)
    t.drop(tw)
    t.drop(ls)
    if z.amp:
        t.drop(src)
    if h is not None:  # forward() returns the loss: its locals go
        t.drop(h)
    t.drop(logits)
    if "pos ids" in gr.keys:
        t.drop(gr.keys["pos ids"])
    for k in gr.cache:
        t.drop(k)
    if cfg.dtype == "fp16-master":  # the static loss scale (rig.LOSS_SCALE)
        scaled = t.alloc(z.er, "loss x scale")
        t.drop(out)
        out = scaled
    gr.keys.update({"ls": ls, "tw": tw, "loss": out})


def loss_bwd(t: Timeline, z: Sizes, cfg: Config, gr: Graph) -> tuple[str, str]:
    """(the root gradient, which lives to the end, the logits' gradient)."""
    root = t.alloc(z.er, "root gradient (ones_like(loss))")
    first = t.alloc(z.er, "root gradient x scale") if cfg.dtype == "fp16-master" else None
    g1 = t.alloc(z.bt * z.V * z.er, "nll_loss backward")
    if first is not None:
        t.drop(first)
    t.release(gr.keys["tw"])
    grad = t.alloc(z.bt * z.V * z.er, "log_softmax backward")
    t.drop(g1)
    t.release(gr.keys["ls"])
    if z.amp:
        half = t.alloc(z.bt * z.V * 2, "logits grad to half")
        t.drop(grad)
        grad = half
    return root, grad


def keep(t: Timeline, grads: list[str], key: str) -> None:
    """A parameter's gradient: AccumulateGrad keeps it as ``.grad`` at once."""
    grads.append(key)
    t.keep_as_grad(key)


def add_grads(t: Timeline, a: str, b: str, nbytes: int, label: str) -> str:
    out = t.alloc(nbytes, label)
    t.drop(a)
    t.drop(b)
    return out


def linear(t: Timeline, z: Sizes, cache: list[str], x: str, a: int, b: int, name: str,
           cast: bool, bias: bool | None = None, stop: bool = False) -> tuple[str, Lin]:
    """A trained ``x @ W.T + b``: (output, what its backward needs). Under autocast the
    bias and weight are cast to half (kept in autocast's ``cache``) and so is an fp32
    input (``cast``); the half input and weight copies are what it saves. ``stop``:
    checkpoint's recompute ends once this Linear's input is saved (``Stop``)."""
    bias = z.g.bias if bias is None else bias
    rec = Lin(x, a, b, bias=bias)
    if z.amp:
        if bias:
            cache.append(t.alloc(b * 2, f"{name} bias cast"))
        w = t.alloc(a * b * 2, f"{name} weight cast")
        cache.append(w)
        if cast:
            rec.x, rec.cast = t.alloc(z.bt * a * 2, f"{name} input cast"), True
        rec.w = w
        t.save(w)
    if stop:  # autocast's casts come before the matmul could run; then the input's save
        t.save(rec.x)
        raise Stop(rec)
    out = t.alloc(z.bt * b * z.e, f"{name} output")
    t.save(rec.x)
    if rec.cast:
        t.drop(rec.x)
    return out, rec


def linear_bwd(t: Timeline, z: Sizes, grad: str, rec: Lin, name: str,
               grads: list[str] | None, acc: str | None = None,
               recomputed: bool = False) -> tuple[str, str]:
    """(input grad, weight grad). addmm: input, weight, bias grads; mm (no bias): weight
    grad first. Under autocast each half grad is then cast to fp32: the input's first
    (where it meets ``acc``, a gradient already waiting for the same input), then the
    weight's and the bias's, which become ``.grad``. ``grads`` None: the weight grad is
    not a ``.grad`` yet (a tied embedding sums it later)."""
    a, b, bias = rec.a, rec.b, rec.bias
    wb = 2 if z.amp else z.pb
    gb = None
    saved = [k for k in (rec.x, rec.w) if k is not None]
    if bias:
        new = t.alloc(z.bt * a * z.e, f"{name} input grad")
        gw = t.alloc(a * b * wb, f"{name} weight grad")
        if recomputed:  # what only the recompute holds dies before the bias grad's sum
            for k in saved:
                t.release(k)
            saved = []
        gb = t.alloc(b * wb, f"{name} bias grad")
    else:
        gw = t.alloc(a * b * wb, f"{name} weight grad")
        new = t.alloc(z.bt * a * z.e, f"{name} input grad")
    t.drop(grad)
    for k in saved:
        t.release(k)
    if rec.cast:
        n32 = t.alloc(z.bt * a * 4, f"{name} input grad to float32")
        t.drop(new)
        new = n32
    if acc is not None:
        new = add_grads(t, acc, new, t.tensors[new].nbytes, f"{name} input grads added")
    if z.amp:
        w32 = t.alloc(a * b * 4, f"{name} weight grad to float32")
        t.drop(gw)
        gw = w32
        if gb is not None:
            b32 = t.alloc(b * 4, f"{name} bias grad to float32")
            t.drop(gb)
            gb = b32
    for made in (gw, gb):
        if made is not None and (grads is not None or made is gb):
            keep(t, grads if grads is not None else [], made)
    return new, gw
