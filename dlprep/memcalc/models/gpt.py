"""The GPT family: forward and backward of ``gpt_rig``'s model replayed tensor by tensor.

Every event below was read off torch 2.13 on CPU with ``measure(cfg, "cpu", trace=True)``
(docs/memory.md, "Transformers"). ``N`` is one ``B x T x d`` activation; attention
scores are ``B x H x T x T``. Autograd runs nodes in reverse creation order; where two
gradients meet (the residual stream, q/k/v's shared input, a tied embedding) they are
summed out of place: a new tensor, both inputs freed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dlprep.memcalc.config import GPT, Config
from dlprep.memcalc.timeline import Timeline


@dataclass
class Graph:
    layers: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, Any] = field(default_factory=dict)
    cache: list[str] = field(default_factory=list)  # autocast's casts, freed when it exits
    recomputed: dict[int, int] = field(default_factory=dict)  # bytes saved again, per block
    per_block: int = 0  # bytes one block saves for backward


def shape(cfg: Config) -> GPT:
    assert cfg.gpt is not None
    return cfg.gpt


def static(cfg: Config, t: Timeline) -> tuple[int, int]:
    """(buffers, input batch): the causal mask (math attention) and int64 ids/targets."""
    g = shape(cfg)
    mask = t.size(cfg.seq * cfg.seq) if g.causal and cfg.attention == "math" else 0
    return mask * g.n_layer, 2 * t.size(cfg.batch * cfg.seq * 8)


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


def _norm_fwd(t: Timeline, z: Sizes, x: str, name: str) -> tuple[str, list[str]]:
    """Pre-norm of ``x``: returns (output, the tensors its backward releases)."""
    if z.g.norm == "layernorm":
        out = t.alloc(z.N, f"{name} output")
        mean = t.alloc(z.stat, f"{name} mean")
        rstd = t.alloc(z.stat, f"{name} rstd")
        for k in (x, mean, rstd):
            t.save(k)
        t.drop(mean)
        t.drop(rstd)
        return out, [x, mean, rstd]
    # RMSNorm is composite on CPU, computed in fp32 (a half input is cast up first):
    # x.pow(2).mean(-1) -> rsqrt -> x * rstd -> * weight (-> cast back to half).
    up = z.er != 4
    src = t.alloc(z.N32, f"{name} x.float()") if up else x
    sq = t.alloc(z.N32, f"{name} x^2")
    mean = t.alloc(z.bt * 4, f"{name} mean(x^2)")
    rstd = t.alloc(z.bt * 4, f"{name} rstd")
    t.drop(mean)
    t.drop(sq)
    xr = t.alloc(z.N32, f"{name} x * rstd")
    out = t.alloc(z.N32, f"{name} output")
    for k in (src, src, rstd, rstd, xr):  # pow and mul save x; mul and rsqrt save rstd
        t.save(k)
    t.drop(xr)
    if up:
        t.drop(src)
        half = t.alloc(z.N, f"{name} output cast to half")
        t.drop(out)
        out = half
    t.drop(rstd)
    return out, [src, rstd, xr]


def _norm_bwd(t: Timeline, z: Sizes, grad: str, saved: list[str], name: str,
              grads: list[str], acc: str | None = None, frame: str | None = None,
              recomputed: bool = False) -> str:
    """The norm's backward; ``acc`` is a gradient already waiting for its input ``x``
    (the residual branch), to which each input gradient is added as it arrives."""
    d = z.g.d_model
    if z.g.norm == "layernorm":
        new = t.alloc(z.N, f"{name} backward")
        keep(t, grads, t.alloc(d * z.pb, f"{name} weight grad"))
        if z.g.bias:
            keep(t, grads, t.alloc(d * z.pb, f"{name} bias grad"))
        t.drop(grad)
        for k in saved:
            t.release(k)
        if frame is not None:  # checkpoint's hold on the block input goes with its first op
            t.release(frame)
        return new if acc is None else _sum(t, acc, new, z.N, f"{name} grads added")
    x, rstd, xr = saved
    up = z.er != 4
    if up:
        g32 = t.alloc(z.N32, f"{name} grad cast to float32")
        t.drop(grad)
        grad = g32
    a = t.alloc(z.N32, f"{name} grad x weight")
    b = t.alloc(z.N32, f"{name} grad x (x * rstd)")
    if recomputed:  # what only the recompute holds dies before the weight grad's sum
        t.release(xr)
    wg = t.alloc(d * 4, f"{name} weight grad")
    t.drop(b)
    if up:
        w16 = t.alloc(d * z.pb, f"{name} weight grad cast to half")
        t.drop(wg)
        wg = w16
    keep(t, grads, wg)
    t.drop(grad)
    if not recomputed:
        t.release(xr)
    c = t.alloc(z.N32, f"{name} grad x rstd")
    dd = t.alloc(z.N32, f"{name} grad x x")
    s = t.alloc(z.bt * 4, f"{name} rstd grad")
    t.drop(dd)
    t.drop(a)
    t.release(x)
    t.release(rstd)
    if acc is not None and not up:
        c = _sum(t, acc, c, z.N, f"{name} grads added")
        acc = None
    p = t.alloc(z.bt * 4, f"{name} rstd^3")
    m1 = t.alloc(z.bt * 4, f"{name} -rstd^3 / 2")
    m2 = t.alloc(z.bt * 4, f"{name} mean(x^2) grad")
    for k in (m1, p, s):
        t.drop(k)
    t.release(rstd)
    dv = t.alloc(z.N32, f"{name} mean backward")
    t.drop(m2)
    pw = t.alloc(z.N32, f"{name} pow backward x")
    ms = t.alloc(z.N32, f"{name} pow backward 2x")
    pg = t.alloc(z.N32, f"{name} x^2 grad")
    for k in (ms, pw, dv):
        t.drop(k)
    t.release(x)
    if frame is not None:
        t.release(frame)
    out = _sum(t, c, pg, z.N32, f"{name} input grads summed")
    if up:
        half = t.alloc(z.N, f"{name} input grad cast to half")
        t.drop(out)
        out = half
    return out if acc is None else _sum(t, acc, out, z.N, f"{name} grads added")


def keep(t: Timeline, grads: list[str], key: str) -> None:
    """A parameter's gradient: AccumulateGrad keeps it as ``.grad`` at once."""
    grads.append(key)
    t.keep_as_grad(key)


def _sum(t: Timeline, a: str, b: str, nbytes: int, label: str) -> str:
    out = t.alloc(nbytes, label)
    t.drop(a)
    t.drop(b)
    return out


def linear(t: Timeline, z: Sizes, gr: Graph, x: str, a: int, b: int, name: str,
           cast: bool, bias: bool | None = None) -> tuple[str, dict[str, Any]]:
    """``x @ W.T + b``: (output, what its backward needs). Under autocast the bias and
    weight are cast to half (kept in autocast's cache) and so is an fp32 input
    (``cast``); the half input and weight copies are what it saves."""
    bias = z.g.bias if bias is None else bias
    rec: dict[str, Any] = {"in": x, "w": None, "cast": False, "a": a, "b": b, "bias": bias}
    if z.amp:
        if bias:
            gr.cache.append(t.alloc(b * 2, f"{name} bias cast"))
        w = t.alloc(a * b * 2, f"{name} weight cast")
        gr.cache.append(w)
        if cast:
            rec.update({"in": t.alloc(z.bt * a * 2, f"{name} input cast"), "cast": True})
        rec["w"] = w
        t.save(w)
    out = t.alloc(z.bt * b * z.e, f"{name} output")
    t.save(rec["in"])
    if rec["cast"]:
        t.drop(rec["in"])
    return out, rec


def linear_bwd(t: Timeline, z: Sizes, grad: str, rec: dict[str, Any], name: str,
               grads: list[str] | None, acc: str | None = None,
               recomputed: bool = False) -> tuple[str, str]:
    """(input grad, weight grad). addmm: input, weight, bias grads; mm (no bias): weight
    grad first. Under autocast each half grad is then cast to fp32: the input's first
    (where it meets ``acc``, a gradient already waiting for the same input), then the
    weight's and the bias's, which become ``.grad``. ``grads`` None: the weight grad is
    not a ``.grad`` yet (a tied embedding sums it later)."""
    a, b, bias = rec["a"], rec["b"], rec["bias"]
    wb = 2 if z.amp else z.pb
    gb = None
    saved = [k for k in (rec["in"], rec["w"]) if k is not None]
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
    if rec["cast"]:
        n32 = t.alloc(z.bt * a * 4, f"{name} input grad to float32")
        t.drop(new)
        new = n32
    if acc is not None:
        new = _sum(t, acc, new, t.tensors[new].nbytes, f"{name} input grads added")
    if z.amp:
        w32 = t.alloc(a * b * 4, f"{name} weight grad to float32")
        t.drop(gw)
        gw = w32
        if gb is not None:
            b32 = t.alloc(b * 4, f"{name} bias grad to float32")
            t.drop(gb)
            gb = b32
    for k in (gw, gb):
        if k is not None and (grads is not None or k is gb):
            keep(t, grads if grads is not None else [], k)
    return new, gw


def forward(t: Timeline, cfg: Config) -> Graph:
    z = Sizes(cfg)
    g = z.g
    t.start("forward")
    gr = Graph()
    x = t.alloc(z.N, "token embedding")
    if g.max_pos:
        pos = t.alloc(z.N, "token + position embedding")
        t.drop(x)
        x = pos
    for i in range(g.n_layer):
        before = t.saved_total
        L: dict[str, Any] = {"in": x}
        if cfg.checkpointing:
            # checkpoint() keeps the block input; inside, its hooks swap every saved
            # tensor for an empty holder: each tensor dies when Python lets go of it.
            t.save(x)
            mode, t.no_grad = t.no_grad, True
            out = _block(t, z, cfg, gr, x, L, i, stop=False)
            t.no_grad = mode
        else:
            out = _block(t, z, cfg, gr, x, L, i, stop=False)
        assert out is not None
        t.drop(x)  # the caller's reference to the block input goes when the block returns
        x = out
        gr.layers.append(L)
        gr.per_block = t.saved_total - before
    if g.final_norm:
        h, final = _norm_fwd(t, z, x, "final norm")
        gr.keys["final"] = final
        t.drop(x)
    else:
        h = x
    logits, gr.keys["head"] = linear(t, z, gr, h, g.d_model, g.vocab, "output head",
                                     cast=True, bias=False)
    t.drop(h)
    if t.no_grad:  # inference: the logits are the answer, no loss
        return gr
    src = t.alloc(z.bt * z.V * 4, "logits cast to float32") if z.amp else logits
    ls = t.alloc(z.bt * z.V * z.er, "log_softmax output")
    loss = t.alloc(z.er, "loss")
    tw = t.alloc(z.er, "nll_loss total_weight")
    t.save(ls)
    t.save(tw)
    t.drop(tw)
    t.drop(ls)
    if z.amp:
        t.drop(src)
    t.drop(logits)
    for k in gr.cache:  # leaving autocast: only the saved weight casts live on
        t.drop(k)
    if cfg.dtype == "fp16-master":  # the static loss scale (rig.LOSS_SCALE)
        scaled = t.alloc(z.er, "loss x scale")
        t.drop(loss)
        loss = scaled
    gr.keys.update({"ls": ls, "tw": tw, "loss": loss})
    return gr


def _block(t: Timeline, z: Sizes, cfg: Config, gr: Graph, x: str, L: dict[str, Any],
           i: int, stop: bool) -> str | None:
    """One pre-norm block. ``stop``: checkpoint's recompute in backward, which ends at
    the block's last saved tensor (the down projection's input) and makes no output."""
    n = f"block {i + 1}" + (" (recomputed)" if stop else "")
    h, L["norm1"] = _norm_fwd(t, z, x, f"{n} norm 1")
    o = _attention(t, z, cfg, gr, h, L, n)
    t.drop(h)
    r = t.alloc(z.N, f"{n} residual after attention")
    t.drop(o)
    h, L["norm2"] = _norm_fwd(t, z, r, f"{n} norm 2")
    y = _mlp(t, z, gr, h, L, n, stop)
    t.drop(h)
    if y is None:
        t.drop(r)
        return None
    out = t.alloc(z.N, f"{n} residual after MLP")
    t.drop(y)
    t.drop(r)
    return out


def _attention(t: Timeline, z: Sizes, cfg: Config, gr: Graph, h: str, L: dict[str, Any],
               n: str) -> str:
    g = z.g
    gqa = g.kv_heads != g.n_head
    kvd = g.kv_heads * g.head_dim
    q, L["q"] = linear(t, z, gr, h, g.d_model, g.d_model, f"{n} q", cast=True)
    k, L["k"] = linear(t, z, gr, h, g.d_model, kvd, f"{n} k", cast=True)
    v, L["v"] = linear(t, z, gr, h, g.d_model, kvd, f"{n} v", cast=True)
    if gqa:  # expand + reshape copies each K/V head to the heads that share it
        kr = t.alloc(z.NL, f"{n} k repeated for grouped-query heads")
        t.drop(k)
        vr = t.alloc(z.NL, f"{n} v repeated for grouped-query heads")
        t.drop(v)
        k, v = kr, vr
    if cfg.attention == "sdpa":
        out = t.alloc(z.NL, f"{n} attention output")
        lse = t.alloc(z.B * g.n_head * z.T * 4, f"{n} attention logsumexp")
        for key in (q, k, v, out, lse):
            t.save(key)
        t.drop(lse)  # an internal output: only autograd keeps it
        L["attn"] = [q, k, v, out, lse]
        o, L["o"] = linear(t, z, gr, out, g.d_model, g.d_model, f"{n} attention projection",
                           cast=False)
        for key in (out, q, k, v):
            t.drop(key)
        return o
    qc = t.alloc(z.NL, f"{n} q copied for matmul")
    kc = k if gqa else t.alloc(z.NL, f"{n} k transposed copy for matmul")
    t.save(qc)
    t.save(kc)
    scores = t.alloc(z.S, f"{n} scores q @ k^T")
    t.drop(qc)  # matmul's copies: only autograd keeps them
    if not gqa:
        t.drop(kc)
    scaled = t.alloc(z.S, f"{n} scores x 1/sqrt(head_dim)")
    t.drop(scores)
    if g.causal:
        masked = t.alloc(z.S, f"{n} masked scores")
        t.drop(scaled)
        scaled = masked
    p = t.alloc(z.S, f"{n} attention probabilities")
    t.drop(scaled)
    vc = v if gqa else t.alloc(z.NL, f"{n} v copied for matmul")
    for key in (p, p, vc):
        t.save(key)
    y = t.alloc(z.NL, f"{n} attention output")
    if not gqa:
        t.drop(vc)
    c = t.alloc(z.NL, f"{n} heads merged")
    o, L["o"] = linear(t, z, gr, c, g.d_model, g.d_model, f"{n} attention projection",
                       cast=False)
    t.drop(c)
    for key in (q, k, v, y, p):
        t.drop(key)
    L["attn"] = [qc, kc, p, vc]
    return o


def _mlp(t: Timeline, z: Sizes, gr: Graph, h: str, L: dict[str, Any], n: str,
         stop: bool = False) -> str | None:
    """``down(gelu(up(h)))`` or ``down(silu(gate(h)) * up(h))``; temporaries die as
    Python lets go of them (kept only if autograd saved them)."""
    g = z.g
    if g.mlp == "gelu":
        u, L["up"] = linear(t, z, gr, h, g.d_model, g.ff, f"{n} MLP up", cast=True)
        a = t.alloc(z.F, f"{n} GELU")
        t.save(u)
        t.drop(u)
        L["act"] = [u]
    else:
        gate, L["gate"] = linear(t, z, gr, h, g.d_model, g.ff, f"{n} MLP gate", cast=True)
        act = t.alloc(z.F, f"{n} SiLU(gate)")
        t.save(gate)
        t.drop(gate)
        up, L["up"] = linear(t, z, gr, h, g.d_model, g.ff, f"{n} MLP up", cast=True)
        a = t.alloc(z.F, f"{n} SiLU(gate) * up")
        for key in (act, up):
            t.save(key)
            t.drop(key)
        L["act"] = [gate, act, up]
    if stop:  # the recompute stops once the down projection's last input is saved
        w = None
        if z.amp:  # autocast casts the bias and weight before the matmul could run
            if g.bias:
                gr.cache.append(t.alloc(g.d_model * 2, f"{n} MLP down bias cast"))
            w = t.alloc(g.ff * g.d_model * 2, f"{n} MLP down weight cast")
            gr.cache.append(w)
            t.save(w)
        t.save(a)
        t.drop(a)
        L["down"] = dict(L["down"], **{"in": a, "w": w})
        return None
    d, L["down"] = linear(t, z, gr, a, g.ff, g.d_model, f"{n} MLP down", cast=False)
    t.drop(a)
    return d


def backward(t: Timeline, cfg: Config, gr: Graph) -> list[str]:
    from dlprep.memcalc.models.gpt_grad import backward as run

    return run(t, cfg, gr)
