"""Mixtral's sparse MoE block in the GPT walk (``gpt_rig.moe``: Hugging Face's
``MixtralSparseMoeBlock`` with the router's top-k replaced by a fixed choice), forward
and backward, tensor by tensor as torch 2.13 on CPU allocates and frees them.

The routing assumption is stated, not measured: balanced, each expert gets
``B·T·k / E`` routed tokens (the first ``B·T·k mod E`` experts one more), a capacity
factor of 1 with no token dropped. Real routers are not balanced; an expert that gets
more tokens holds proportionally more (its activations scale with its token count).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dlprep.memcalc.models.gpt_lora_ops import LoraSizes
from dlprep.memcalc.models.gpt_lora_ops import linear as lora_linear
from dlprep.memcalc.models.gpt_lora_ops import linear_bwd as lora_linear_bwd
from dlprep.memcalc.models.gpt_ops import Sizes, add_grads, linear, linear_bwd
from dlprep.memcalc.models.gpt_state import Layer, Lin
from dlprep.memcalc.timeline import Timeline


def counts(z: Sizes) -> list[int]:
    """Routed tokens per expert under balanced routing (``gpt_rig.balanced_routes``)."""
    E, routed = z.g.n_experts, z.bt * z.g.top_k
    return [routed // E + (1 if e < routed % E else 0) for e in range(E)]


def route_buffers(z: Sizes, t: Timeline) -> int:
    """The forced choice (B·T x k) and each expert's token and slot indices, int64."""
    sizes = [z.bt * z.g.top_k] + [c for c in counts(z) for _ in range(2)]
    return sum(t.size(n * 8) for n in sizes)


@dataclass
class Routed:
    """One expert's forward, as its backward needs it."""

    z: Sizes  # the sizes with B·T replaced by this expert's token count
    mlp: Layer = field(default_factory=lambda: Layer(""))  # its SwiGLU's records
    y: str = ""  # the expert's output, saved by the weighting mul
    wi: str = ""  # its routing weights, saved by the same mul
    y2: str = ""  # the weighted output, which index_add_ saves
    y_rg: bool = True  # the expert's output requires grad (LoRA: x does, or an adapter)
    w_rg: bool = True  # its routing weights do (LoRA: the frozen router's input does)


# The dense block's MLP forward (``gpt._mlp`` on one expert's tokens): (t, sizes, cache,
# routed tokens, whether they require grad, the record to fill, label) -> (the expert's
# output, whether it requires grad).
MlpFwd = Callable[[Timeline, Sizes, list[str], str, bool, Layer, str], tuple[str, bool]]


@dataclass
class Moe:
    router: Lin = field(default_factory=lambda: Lin("", 0, 0))
    rg: bool = True  # the router's output requires grad (a frozen one's: if h does)
    probs: str = ""
    w: str = ""  # gathered weights (saved by the division)
    s: str = ""  # their sum (saved by the division)
    experts: list[Routed] = field(default_factory=list)


def _sub(z: Sizes, c: int) -> Sizes:
    zc = object.__new__(type(z))  # copy.copy, without its reduce protocol (per expert)
    zc.__dict__.update(z.__dict__)
    zc.bt, zc.F = c, c * z.g.ff * z.e
    return zc


def forward(t: Timeline, z: Sizes, cache: list[str], h: str, n: str, mlp: MlpFwd,
            rg: bool = True) -> tuple[str, bool, Moe]:
    """The block's MoE MLP on the norm's output ``h`` (``rg``: h requires grad): (its
    output, whether that requires grad, the record). Each expert runs ``mlp``, the dense
    block's SwiGLU (``gpt._mlp``), on its tokens. Under LoRA the router is frozen: the
    routing saves nothing unless h requires grad, an expert's output only with an
    adapter or an input that requires grad (each op saves for the gradients needed)."""
    g = z.g
    d, E = g.d_model, g.n_experts
    m = Moe()
    if isinstance(z, LoraSizes):
        logits, m.rg, m.router = lora_linear(t, z, cache, h, rg, d, E, f"{n} router",
                                             cast=True, bias=False)
    else:
        logits, m.router = linear(t, z, cache, h, d, E, f"{n} router", cast=True, bias=False)
    src = logits
    if z.e != 4:  # softmax(dtype=float) casts half logits to fp32 first
        src = t.alloc(z.bt * E * 4, f"{n} router logits to float32")
    m.probs = t.alloc(z.bt * E * 4, f"{n} router softmax")
    _save(t, m.rg, m.probs)
    if src != logits:
        t.drop(src)
    t.drop(logits)
    k = g.top_k
    m.w = t.alloc(z.bt * k * 4, f"{n} routing weights gathered")
    _save(t, m.rg, m.probs)
    m.s = t.alloc(z.bt * 4, f"{n} routing weights summed")
    wn = t.alloc(z.bt * k * 4, f"{n} routing weights renormalised")
    _save(t, m.rg, m.w, m.s)
    t.drop(m.s)
    t.drop(m.w)
    if z.er != 4:  # .to(h.dtype) in a half model
        half = t.alloc(z.bt * k * z.er, f"{n} routing weights to half")
        t.drop(wn)
        wn = half
    out = t.alloc(z.N, f"{n} MoE output zeros")
    prev, out_rg = None, False
    for e, c in enumerate(counts(z)):
        r = _expert(t, _sub(z, c), cache, f"{n} expert {e + 1}", mlp, rg, m.rg)
        m.experts.append(r)
        if r.y_rg or r.w_rg:  # index_add_ keeps its source for backward
            t.save(r.y2)
            out_rg = True
        if prev is not None:  # the loop's local goes once rebound (no_grad: freed then)
            t.drop(prev)
        prev = r.y2
    if prev is not None:
        t.drop(prev)
    t.drop(wn)
    t.drop(m.probs)  # the locals go when the block returns; autograd keeps the rest
    return out, out_rg, m


def _save(t: Timeline, rg: bool, *keys: str) -> None:
    if rg:
        for key in keys:
            t.save(key)


def _expert(t: Timeline, z: Sizes, cache: list[str], n: str, mlp: MlpFwd, rg: bool,
            w_rg: bool) -> Routed:
    r = Routed(z, w_rg=w_rg)
    xs = t.alloc(z.bt * z.g.d_model * z.er, f"{n} routed tokens")
    y, r.y_rg = mlp(t, z, cache, xs, rg, r.mlp, n)
    t.drop(xs)
    r.wi = t.alloc(z.bt * z.er, f"{n} its routing weights")
    wide = 4 if z.amp else z.e  # half output x fp32 weight promotes under autocast
    y2 = t.alloc(z.bt * z.g.d_model * wide, f"{n} output x routing weight")
    _save(t, w_rg, y)  # the mul saves each side for the other's gradient
    _save(t, r.y_rg, r.wi)
    t.drop(y)
    t.drop(r.wi)
    r.y, r.y2 = y, y2
    return r


def backward(t: Timeline, z: Sizes, grad: str, m: Moe, n: str, grads: list[str] | None,
             mlp_bwd: Callable[..., str | None], ck: bool = False) -> str | None:
    """From the MoE output's gradient (shared with the residual: ``out`` has h's dtype)
    to the norm output's. Expert by expert, last first: each index_add_ hands its
    source the gradient rows of its tokens; the routing weights' and the tokens'
    gradients are scattered into zeros of their full size and summed out of place as
    they arrive. Then the renormalisation, gather, softmax and the router. ``mlp_bwd``:
    the dense SwiGLU backward (``gpt_grad.mlp_bwd``), run on each expert's tokens."""
    g, k = z.g, z.g.top_k
    acc_w: str | None = None
    acc_h: str | None = None
    for e in range(len(m.experts) - 1, -1, -1):
        r, ne = m.experts[e], f"{n} expert {e + 1}"
        zc = r.z
        src = t.alloc(zc.bt * g.d_model * z.er, f"{ne} output grad rows")
        if e == 0:  # the last index_add_ hands its own gradient to the zeros: none
            t.drop(grad)
        t.release(r.y2)
        wide = 4 if z.amp else z.e
        gy = t.alloc(zc.bt * g.d_model * wide, f"{ne} grad x routing weight") \
            if r.y_rg else None
        tmp = t.alloc(zc.bt * g.d_model * wide, f"{ne} grad x output") if r.w_rg else None
        if ck:  # what only the recompute holds dies before the node's casts and sums
            _release(t, r)
        if gy is not None and wide != zc.e:  # autocast: the fp32 product's gradient
            half = t.alloc(zc.bt * g.d_model * zc.e, f"{ne} output grad to half")
            t.drop(gy)
            gy = half
        gwi = t.alloc(zc.bt * z.er, f"{ne} routing weight grad") if tmp else None
        if tmp is not None:
            t.drop(tmp)
        t.drop(src)
        if not ck:
            _release(t, r)
        if gwi is not None:
            acc_w = _scatter(t, gwi, z.bt * k * z.er, acc_w, f"{ne} routing weight")
        gx = mlp_bwd(t, zc, gy, r.mlp, ne, _lin_bwd(t, zc, grads, ck)) if gy else None
        if gx is not None:
            acc_h = _scatter(t, gx, z.N, acc_h, f"{ne} token")
    if not m.rg:  # a frozen router whose input requires no grad: nothing flows back
        return acc_h
    assert acc_w is not None
    gp = _routing_bwd(t, z, acc_w, m, n, ck)
    return _lin_bwd(t, z, grads, ck)(gp, m.router, f"{n} router", acc_h)


def _release(t: Timeline, r: Routed) -> None:
    """The weighting mul's saves: its weights (for y's gradient), y (for theirs)."""
    if r.y_rg:
        t.release(r.wi)
    if r.w_rg:
        t.release(r.y)


def _lin_bwd(t: Timeline, z: Sizes, grads: list[str] | None,
             ck: bool) -> Callable[[str, Lin, str, str | None], str | None]:
    """A Linear's backward by its policy (trained; LoRA's frozen or adapted)."""

    def lin(raw: str, rec: Lin, name: str, acc: str | None) -> str | None:
        if rec.policy == "trained":
            return linear_bwd(t, z, raw, rec, name, grads, acc=acc, recomputed=ck)[0]
        assert isinstance(z, LoraSizes) and grads is not None
        return lora_linear_bwd(t, z, raw, rec, name, grads, acc=acc)

    return lin


def _scatter(t: Timeline, rows: str, nbytes: int, acc: str | None, name: str) -> str:
    """Index backward: zeros of the full size, the rows put in (out of place), then
    summed with the gradient already waiting there."""
    zeros = t.alloc(nbytes, f"{name} grad zeros")
    full = t.alloc(nbytes, f"{name} grads put in place")
    t.drop(zeros)
    t.drop(rows)
    return full if acc is None else add_grads(t, acc, full, nbytes, f"{name} grads added")


def _routing_bwd(t: Timeline, z: Sizes, grad: str, m: Moe, n: str, ck: bool) -> str:
    """w / w.sum(): both sides' gradients (the sum's, -grad·w/s², first); the sum's
    gradient meets the division's at w; gather scatters it into the B·T x E zeros;
    then softmax's backward (to half for a half router)."""
    k, E = z.g.top_k, z.g.n_experts
    wk, w1, wE = z.bt * k * 4, z.bt * 4, z.bt * E * 4
    if z.er != 4:
        g32 = t.alloc(wk, f"{n} routing weights grad to float32")
        t.drop(grad)
        grad = g32
    tmp = [t.alloc(wk, f"{n} division backward {i}") for i in range(4)]
    for i in (2, 1, 0):
        t.drop(tmp[i])
    gself = t.alloc(wk, f"{n} routing weights grad / sum")
    if ck:  # recompute-only saves die before the sum's reduction
        t.release(m.s)
        t.release(m.w)
    gsum = t.alloc(w1, f"{n} routing weights sum grad")
    t.drop(tmp[3])
    t.drop(grad)
    if not ck:
        t.release(m.s)
        t.release(m.w)
    gw = add_grads(t, gself, gsum, wk, f"{n} routing weights grads added")
    zeros = t.alloc(wE, f"{n} gather backward zeros")
    full = t.alloc(wE, f"{n} gather backward scatter_add")
    t.drop(zeros)
    t.drop(gw)
    t.release(m.probs)
    gl = t.alloc(wE, f"{n} softmax backward")
    t.drop(full)
    t.release(m.probs)
    if z.e != 4:
        half = t.alloc(z.bt * E * z.e, f"{n} router logits grad to half")
        t.drop(gl)
        gl = half
    return gl
