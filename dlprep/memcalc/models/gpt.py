"""The GPT family: forward and backward of ``gpt_rig``'s model replayed tensor by tensor.

Every event below was read off torch 2.13 on CPU with ``measure(cfg, "cpu", trace=True)``
(docs/memory.md, "Transformers"). ``N`` is one ``B x T x d`` activation; attention
scores are ``B x H x T x T``. Autograd runs nodes in reverse creation order; where two
gradients meet (the residual stream, q/k/v's shared input, a tied embedding) they are
summed out of place: a new tensor, both inputs freed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlprep.memcalc.config import GPT, Config
from dlprep.memcalc.timeline import Timeline


@dataclass
class Graph:
    layers: list[dict[str, list[str]]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
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


class _Sizes:
    def __init__(self, cfg: Config) -> None:
        g = shape(cfg)
        self.g = g
        self.B, self.T = cfg.batch, cfg.seq
        self.e = 2 if cfg.half else 4
        self.pb = cfg.param_bytes
        self.bt = self.B * self.T
        self.N = self.bt * g.d_model * self.e
        self.N32 = self.bt * g.d_model * 4
        self.kv = self.bt * g.kv_heads * g.head_dim * self.e
        self.F = self.bt * g.ff * self.e
        self.S = self.B * g.n_head * self.T * self.T * self.e
        self.stat = self.bt * (2 if cfg.half else 4)
        self.V = g.vocab


def _norm_fwd(t: Timeline, z: _Sizes, x: str, name: str) -> tuple[str, list[str]]:
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
    up = z.e != 4
    src = t.alloc(z.N32, f"{name} x.float()") if up else x
    sq = t.alloc(z.N32, f"{name} x^2")
    mean = t.alloc(z.bt * 4, f"{name} mean(x^2)")
    rstd = t.alloc(z.bt * 4, f"{name} rstd")
    t.drop(mean)
    t.drop(sq)
    xr = t.alloc(z.N32, f"{name} x * rstd")
    out = t.alloc(z.N32, f"{name} output")
    if up:
        half = t.alloc(z.N, f"{name} output cast to half")
        t.drop(out)
        out = half
    for k in (src, src, rstd, rstd, xr):  # pow and mul save x; mul and rsqrt save rstd
        t.save(k)
    for k in (rstd, xr, *([src] if up else [])):
        t.drop(k)
    return out, [src, rstd, xr]


def _norm_bwd(t: Timeline, z: _Sizes, grad: str, saved: list[str], name: str,
              grads: list[str], acc: str | None = None) -> str:
    """The norm's backward; ``acc`` is a gradient already waiting for its input ``x``
    (the residual branch), to which each input gradient is added as it arrives."""
    d = z.g.d_model
    if z.g.norm == "layernorm":
        new = t.alloc(z.N, f"{name} backward")
        _keep(t, grads, t.alloc(d * z.pb, f"{name} weight grad"))
        if z.g.bias:
            _keep(t, grads, t.alloc(d * z.pb, f"{name} bias grad"))
        t.drop(grad)
        for k in saved:
            t.release(k)
        return new if acc is None else _sum(t, acc, new, z.N, f"{name} grads added")
    x, rstd, xr = saved
    up = z.e != 4
    if up:
        g32 = t.alloc(z.N32, f"{name} grad cast to float32")
        t.drop(grad)
        grad = g32
    a = t.alloc(z.N32, f"{name} grad x weight")
    b = t.alloc(z.N32, f"{name} grad x (x * rstd)")
    wg = t.alloc(d * 4, f"{name} weight grad")
    t.drop(b)
    if up:
        w16 = t.alloc(d * z.pb, f"{name} weight grad cast to half")
        t.drop(wg)
        wg = w16
    _keep(t, grads, wg)
    t.drop(grad)
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
    out = _sum(t, c, pg, z.N32, f"{name} input grads summed")
    if up:
        half = t.alloc(z.N, f"{name} input grad cast to half")
        t.drop(out)
        out = half
    return out if acc is None else _sum(t, acc, out, z.N, f"{name} grads added")


def _keep(t: Timeline, grads: list[str], key: str) -> None:
    """A parameter's gradient: AccumulateGrad keeps it as ``.grad`` at once."""
    grads.append(key)
    t.keep_as_grad(key)


def _sum(t: Timeline, a: str, b: str, nbytes: int, label: str) -> str:
    out = t.alloc(nbytes, label)
    t.drop(a)
    t.drop(b)
    return out


def _linear_bwd(t: Timeline, z: _Sizes, grad: str, a: int, b: int, saved: str | None,
                name: str, grads: list[str]) -> str:
    """addmm: input, weight, bias grads; mm (no bias): weight grad first, then input."""
    if z.g.bias:
        new = t.alloc(z.bt * a * z.e, f"{name} input grad")
        _keep(t, grads, t.alloc(a * b * z.pb, f"{name} weight grad"))
        _keep(t, grads, t.alloc(b * z.pb, f"{name} bias grad"))
    else:
        _keep(t, grads, t.alloc(a * b * z.pb, f"{name} weight grad"))
        new = t.alloc(z.bt * a * z.e, f"{name} input grad")
    t.drop(grad)
    if saved is not None:
        t.release(saved)
    return new


def forward(t: Timeline, cfg: Config) -> Graph:
    z = _Sizes(cfg)
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
        L: dict[str, list[str]] = {}
        h, L["norm1"] = _norm_fwd(t, z, x, f"block {i + 1} norm 1")
        L["h1"] = [h]
        o = _attention(t, z, cfg, h, L, i)
        t.drop(h)
        r = t.alloc(z.N, f"block {i + 1} residual after attention")
        t.drop(o)
        h, L["norm2"] = _norm_fwd(t, z, r, f"block {i + 1} norm 2")
        L["h2"] = [h]
        y = _mlp(t, z, h, L, i)
        t.drop(h)
        out = t.alloc(z.N, f"block {i + 1} residual after MLP")
        t.drop(y)
        t.drop(r)
        t.drop(x)  # the caller's reference to the block input goes when the block returns
        x = out
        gr.layers.append(L)
        gr.per_block = t.saved_total - before
    if g.final_norm:
        h, final = _norm_fwd(t, z, x, "final norm")
        gr.layers.append({"final": final})
        t.drop(x)
    else:
        h = x
    logits = t.alloc(z.bt * z.V * z.e, "logits")
    t.save(h)
    t.drop(h)
    if t.no_grad:  # inference: the logits are the answer, no loss
        return gr
    ls = t.alloc(z.bt * z.V * z.e, "log_softmax output")
    loss = t.alloc(z.e, "loss")
    tw = t.alloc(z.e, "nll_loss total_weight")
    t.save(ls)
    t.save(tw)
    t.drop(tw)
    t.drop(ls)
    t.drop(logits)
    if cfg.dtype == "fp16-master":  # the static loss scale (rig.LOSS_SCALE)
        scaled = t.alloc(z.e, "loss x scale")
        t.drop(loss)
        loss = scaled
    gr.keys.update({"ls": ls, "tw": tw, "loss": loss, "head_in": h})
    return gr


def _attention(t: Timeline, z: _Sizes, cfg: Config, h: str, L: dict[str, list[str]],
               i: int) -> str:
    g, n = z.g, f"block {i + 1}"
    gqa = g.kv_heads != g.n_head
    q = t.alloc(z.N, f"{n} q")
    k = t.alloc(z.kv, f"{n} k")
    v = t.alloc(z.kv, f"{n} v")
    for _ in range(3):
        t.save(h)
    if gqa:  # expand + reshape copies each K/V head to the heads that share it
        kr = t.alloc(z.N, f"{n} k repeated for grouped-query heads")
        t.drop(k)
        vr = t.alloc(z.N, f"{n} v repeated for grouped-query heads")
        t.drop(v)
        k, v = kr, vr
    if cfg.attention == "sdpa":
        out = t.alloc(z.N, f"{n} attention output")
        lse = t.alloc(z.B * g.n_head * z.T * 4, f"{n} attention logsumexp")
        for key in (q, k, v, out, lse, out):
            t.save(key)
        L["attn"] = [q, k, v, out, lse]
        o = t.alloc(z.N, f"{n} attention projection")
        for key in (lse, out, q, k, v):
            t.drop(key)
        L["o_in"] = [out]
        return o
    qc = t.alloc(z.N, f"{n} q copied for matmul")
    kc = k if gqa else t.alloc(z.N, f"{n} k transposed copy for matmul")
    t.save(qc)
    t.save(kc)
    scores = t.alloc(z.S, f"{n} scores q @ k^T")
    scaled = t.alloc(z.S, f"{n} scores x 1/sqrt(head_dim)")
    t.drop(scores)
    if g.causal:
        masked = t.alloc(z.S, f"{n} masked scores")
        t.drop(scaled)
        scaled = masked
    p = t.alloc(z.S, f"{n} attention probabilities")
    t.drop(scaled)
    vc = v if gqa else t.alloc(z.N, f"{n} v copied for matmul")
    for key in (p, p, vc):
        t.save(key)
    y = t.alloc(z.N, f"{n} attention output")
    c = t.alloc(z.N, f"{n} heads merged")
    t.save(c)
    o = t.alloc(z.N, f"{n} attention projection")
    for key in dict.fromkeys((q, k, v, y, c, qc, kc, vc, p)):
        t.drop(key)
    L["attn"] = [qc, kc, p, vc]
    L["o_in"] = [c]
    return o


def _mlp(t: Timeline, z: _Sizes, h: str, L: dict[str, list[str]], i: int) -> str:
    n = f"block {i + 1}"
    if z.g.mlp == "gelu":
        u = t.alloc(z.F, f"{n} MLP up")
        t.save(h)
        a = t.alloc(z.F, f"{n} GELU")
        t.save(u)
        d = t.alloc(z.N, f"{n} MLP down")
        t.save(a)
        t.drop(u)
        t.drop(a)
        L["mlp"] = [u, a]
        return d
    gate = t.alloc(z.F, f"{n} MLP gate")
    t.save(h)
    act = t.alloc(z.F, f"{n} SiLU(gate)")
    t.save(gate)
    up = t.alloc(z.F, f"{n} MLP up")
    t.save(h)
    m = t.alloc(z.F, f"{n} SiLU(gate) * up")
    for key in (act, up):
        t.save(key)
    d = t.alloc(z.N, f"{n} MLP down")
    t.save(m)
    for key in (gate, act, up, m):
        t.drop(key)
    L["mlp"] = [gate, act, up, m]
    return d


def backward(t: Timeline, cfg: Config, gr: Graph) -> list[str]:
    z = _Sizes(cfg)
    g = z.g
    t.start("backward")
    grads: list[str] = []
    root = t.alloc(z.e, "root gradient (ones_like(loss))")
    first = t.alloc(z.e, "root gradient x scale") if cfg.dtype == "fp16-master" else None
    g1 = t.alloc(z.bt * z.V * z.e, "nll_loss backward")
    if first is not None:
        t.drop(first)
    t.release(gr.keys["tw"])
    grad = t.alloc(z.bt * z.V * z.e, "log_softmax backward")
    t.drop(g1)
    t.release(gr.keys["ls"])
    head = t.alloc(z.V * g.d_model * z.pb, "output head weight grad")
    if not g.tied:
        _keep(t, grads, head)
    new = t.alloc(z.N, "head input grad")
    t.drop(grad)
    t.release(gr.keys["head_in"])
    grad = new
    if g.final_norm:
        grad = _norm_bwd(t, z, grad, gr.layers[-1]["final"], "final norm", grads)
    for i in range(g.n_layer - 1, -1, -1):
        L = gr.layers[i]
        grad = _block_bwd(t, z, cfg, grad, L, i, grads)
    if g.max_pos:
        s = t.alloc(z.T * g.d_model * z.e, "position grad summed over the batch")
        _keep(t, grads, t.alloc(g.max_pos * g.d_model * z.pb, "position embedding grad"))
        t.drop(s)
    emb = t.alloc(g.vocab * g.d_model * z.pb, "token embedding grad")
    t.drop(grad)
    if g.tied:
        emb = _sum(t, head, emb, g.vocab * g.d_model * z.pb, "tied embedding grads summed")
    _keep(t, grads, emb)
    # BERT's extras (presets only; the rig has none): the segment embedding's and the
    # embedding norm's gradients. Its pooler is unused by a language-model loss: no grad.
    if g.token_types:
        _keep(t, grads, t.alloc(g.token_types * g.d_model * z.pb, "segment embedding grad"))
    if g.embed_norm:
        for w in ("weight", "bias"):
            _keep(t, grads, t.alloc(g.d_model * z.pb, f"embedding norm {w} grad"))
    for k in grads:
        t.keep_as_grad(k)
    t.drop(root)
    return grads


def _block_bwd(t: Timeline, z: _Sizes, cfg: Config, grad: str, L: dict[str, list[str]],
               i: int, grads: list[str]) -> str:
    g, n = z.g, f"block {i + 1}"
    d, ff = g.d_model, g.ff
    t.share(grad)  # x + mlp(...): the same gradient goes down both branches
    if g.mlp == "gelu":
        u, a = L["mlp"]
        ga = _linear_bwd(t, z, grad, ff, d, a, f"{n} MLP down", grads)
        gu = t.alloc(z.F, f"{n} GELU backward")
        t.drop(ga)
        t.release(u)
        gh = _linear_bwd(t, z, gu, d, ff, L["h2"][0], f"{n} MLP up", grads)
    else:
        gate, act, up, m = L["mlp"]
        gm = _linear_bwd(t, z, grad, ff, d, m, f"{n} MLP down", grads)
        gs = t.alloc(z.F, f"{n} grad x up")
        gup = t.alloc(z.F, f"{n} grad x SiLU(gate)")
        t.drop(gm)
        t.release(up)
        t.release(act)
        h1 = _linear_bwd(t, z, gup, d, ff, L["h2"][0], f"{n} MLP up", grads)
        gg = t.alloc(z.F, f"{n} SiLU backward")
        t.drop(gs)
        t.release(gate)
        h2 = _linear_bwd(t, z, gg, d, ff, L["h2"][0], f"{n} MLP gate", grads)
        gh = _sum(t, h1, h2, z.N, f"{n} MLP input grads summed")
    grad = _norm_bwd(t, z, gh, L["norm2"], f"{n} norm 2", grads, acc=grad)
    t.share(grad)  # x + attention(...)
    go = _linear_bwd(t, z, grad, d, d, L["o_in"][0], f"{n} attention projection", grads)
    dq, dk, dv, copies = _attention_bwd(t, z, cfg, go, L, n)
    kvd = g.kv_heads * g.head_dim
    h = L["h1"][0]
    outs = []
    for name, raw, width, copy in (("v", dv, kvd, copies), ("k", dk, kvd, copies),
                                   ("q", dq, d, cfg.attention == "math")):
        if copy:  # the head-split view's backward reshapes a transposed gradient
            c = t.alloc(z.bt * width * z.e, f"{n} {name} grad made contiguous")
            t.drop(raw)
            raw = c
        outs.append(_linear_bwd(t, z, raw, d, width, h, f"{n} {name}", grads))
        if len(outs) == 2:
            outs = [_sum(t, outs[0], outs[1], z.N, f"{n} {name} input grad added")]
    return _norm_bwd(t, z, outs[0], L["norm1"], f"{n} norm 1", grads, acc=grad)


def _attention_bwd(t: Timeline, z: _Sizes, cfg: Config, go: str, L: dict[str, list[str]],
                   n: str) -> tuple[str, str, str, bool]:
    """(dq, dk, dv, whether k and v grads need a contiguous copy) from the o input grad."""
    g = z.g
    gqa = g.kv_heads != g.n_head
    if cfg.attention == "sdpa":
        dq = t.alloc(z.N, f"{n} attention backward dq")
        dk = t.alloc(z.N, f"{n} attention backward dk")
        dv = t.alloc(z.N, f"{n} attention backward dv")
        t.drop(go)
        for key in L["attn"]:
            t.release(key)
    else:
        qc, kc, p, vc = L["attn"]
        gc = t.alloc(z.N, f"{n} merged-heads grad copy")
        t.drop(go)
        dv = t.alloc(z.N, f"{n} v grad (probabilities^T @ grad)")
        dp = t.alloc(z.S, f"{n} probabilities grad")
        t.drop(gc)
        t.release(vc)
        t.release(p)
        ds = t.alloc(z.S, f"{n} softmax backward")
        t.drop(dp)
        t.release(p)
        if g.causal:
            dm = t.alloc(z.S, f"{n} masked_fill backward")
            t.drop(ds)
            ds = dm
        dmul = t.alloc(z.S, f"{n} scale backward")
        t.drop(ds)
        dk = t.alloc(z.N, f"{n} k grad")
        dq = t.alloc(z.N, f"{n} q grad")
        t.drop(dmul)
        t.release(kc)
        t.release(qc)
    if gqa:  # the expand's backward sums the heads that shared each K/V head
        sv = t.alloc(z.kv, f"{n} v grad summed over shared heads")
        t.drop(dv)
        sk = t.alloc(z.kv, f"{n} k grad summed over shared heads")
        t.drop(dk)
        dk, dv = sk, sv
    return dq, dk, dv, cfg.attention == "math" or gqa
