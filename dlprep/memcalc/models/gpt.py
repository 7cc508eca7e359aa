"""The GPT family: forward and backward of ``gpt_rig``'s model replayed tensor by tensor.

Every event below was read off torch 2.13 on CPU with ``measure(cfg, "cpu", trace=True)``
(docs/memory.md, "Transformers"). ``N`` is one ``B x T x d`` activation; attention
scores are ``B x H x T x T``. Autograd runs nodes in reverse creation order; where two
gradients meet (the residual stream, q/k/v's shared input, a tied embedding) they are
summed out of place: a new tensor, both inputs freed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dlprep.memcalc.config import Config
from dlprep.memcalc.models.gpt_ops import (
    Graph,
    Layer,
    Lin,
    Sizes,
    embed,
    linear,
    loss,
    norm_fwd,
    shape,
)
from dlprep.memcalc.timeline import Timeline


def static(cfg: Config, t: Timeline) -> tuple[int, int]:
    """(buffers, input batch): the causal mask (math attention) and int64 ids/targets."""
    g = shape(cfg)
    mask = t.size(cfg.seq * cfg.seq) if g.causal and cfg.attention == "math" else 0
    return mask * g.n_layer, 2 * t.size(cfg.batch * cfg.seq * 8)


def forward(t: Timeline, cfg: Config) -> Graph:
    z = Sizes(cfg)
    g = z.g
    t.start("forward")
    gr = Graph()
    x = embed(t, z)
    for i in range(g.n_layer):
        before = t.saved_total
        L = Layer(x)
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
        h, final = norm_fwd(t, z, x, "final norm")
        gr.keys["final"] = final
        t.drop(x)
    else:
        h = x
    logits, gr.keys["head"] = linear(t, z, gr, h, g.d_model, g.vocab, "output head",
                                     cast=True, bias=False)
    t.drop(h)
    if t.no_grad:  # inference: the logits are the answer, no loss
        return gr
    loss(t, z, cfg, gr, logits)
    return gr


def _block(t: Timeline, z: Sizes, cfg: Config, gr: Graph, x: str, L: Layer,
           i: int, stop: bool) -> str | None:
    """One pre-norm block. ``stop``: checkpoint's recompute in backward, which ends at
    the block's last saved tensor (the down projection's input) and makes no output."""
    n = f"block {i + 1}" + (" (recomputed)" if stop else "")
    h, L.norm1 = norm_fwd(t, z, x, f"{n} norm 1")
    o = _attention(t, z, cfg, gr, h, L, n)
    t.drop(h)
    r = t.alloc(z.N, f"{n} residual after attention")
    t.drop(o)
    h, L.norm2 = norm_fwd(t, z, r, f"{n} norm 2")
    y = _mlp(t, z, gr, h, L, n, stop)
    t.drop(h)
    if y is None:
        t.drop(r)
        return None
    out = t.alloc(z.N, f"{n} residual after MLP")
    t.drop(y)
    t.drop(r)
    return out


def _attention(t: Timeline, z: Sizes, cfg: Config, gr: Graph, h: str, L: Layer,
               n: str) -> str:
    def trained(x: str, rg: bool, a: int, b: int, name: str, cast: bool
                ) -> tuple[str, bool, Lin]:
        out, rec = linear(t, z, gr, x, a, b, name, cast=cast)
        return out, True, rec

    o, _, drops = attention(t, z, trained, h, True, L, n)
    for key in drops:
        t.drop(key)
    return o


# A Linear's forward as a walk calls it: (x, x requires grad, d_in, d_out, label, cast the
# fp32 input under autocast) -> (output, output requires grad, its record).
LinearFwd = Callable[[str, bool, int, int, str, bool], tuple[str, bool, Lin]]


def attention(t: Timeline, z: Sizes, lin: LinearFwd, h: str, rg: bool, L: Layer,
              n: str) -> tuple[str, bool, list[str]]:
    """q/k/v, attention and the output projection, for every Linear policy: (o's output,
    whether it requires grad, the locals Python drops after ``h``). Each save depends on
    which of q/k/v requires grad (all of them unless a LoRA base is frozen upstream);
    matmul's reshape is a view at batch 1 or 1-wide heads (``z.copies``)."""
    g = z.g
    gqa = g.kv_heads != g.n_head
    kvd = g.kv_heads * g.head_dim
    d = g.d_model
    q, q_rg, L.q = lin(h, rg, d, d, f"{n} q", True)
    k, k_rg, L.k = lin(h, rg, d, kvd, f"{n} k", True)
    v, v_rg, L.v = lin(h, rg, d, kvd, f"{n} v", True)
    if gqa:  # expand + reshape copies each K/V head; the copy saves nothing
        kr = t.alloc(z.NL, f"{n} k repeated for grouped-query heads")
        t.drop(k)
        vr = t.alloc(z.NL, f"{n} v repeated for grouped-query heads")
        t.drop(v)
        k, v = kr, vr
    L.qkv_rg = (q_rg, k_rg, v_rg)
    any_rg = q_rg or k_rg or v_rg
    if z.sdpa:
        out = t.alloc(z.NL, f"{n} attention output")
        lse = t.alloc(z.B * g.n_head * z.T * 4, f"{n} attention logsumexp")
        if any_rg:
            for key in (q, k, v, out, lse):
                t.save(key)
        t.drop(lse)  # an internal output: only autograd keeps it
        L.attn = [q, k, v, out, lse]
        o, o_rg, L.o = lin(out, any_rg, d, d, f"{n} o", False)
        return o, o_rg, [q, k, v, out]
    qc = t.alloc(z.NL, f"{n} q copied for matmul") if z.copies else q
    kc = k if gqa or not z.copies else t.alloc(z.NL, f"{n} k transposed copy for matmul")
    if k_rg:
        t.save(qc)
    if q_rg:
        t.save(kc)
    scores = t.alloc(z.S, f"{n} scores q @ k^T")
    if qc != q:  # matmul's copies: only autograd keeps them
        t.drop(qc)
    if kc != k:
        t.drop(kc)
    s_rg = q_rg or k_rg
    p = softmax(t, z, scores, n)
    if s_rg:
        t.save(p)
    vc = v if gqa or not z.copies else t.alloc(z.NL, f"{n} v copied for matmul")
    if v_rg:
        t.save(p)
    if s_rg:
        t.save(vc)
    y = t.alloc(z.NL, f"{n} attention output")
    if vc != v:
        t.drop(vc)
    y_rg = s_rg or v_rg
    c = t.alloc(z.NL, f"{n} heads merged") if z.merge_copy else y
    o, o_rg, L.o = lin(c, y_rg, d, d, f"{n} o", False)
    if c != y:
        t.drop(c)
    L.attn = [qc, kc, p, vc]
    return o, o_rg, [q, k, v, p, y]


def softmax(t: Timeline, z: Sizes, scores: str, n: str) -> str:
    """Math attention's probabilities from the raw scores: scaled, masked (causal) and
    softmaxed, each a new B x H x T x T tensor that frees the one before."""
    scaled = t.alloc(z.S, f"{n} scores x 1/sqrt(head_dim)")
    t.drop(scores)
    if z.g.causal:
        masked = t.alloc(z.S, f"{n} masked scores")
        t.drop(scaled)
        scaled = masked
    p = t.alloc(z.S, f"{n} attention probabilities")
    t.drop(scaled)
    return p


def _mlp(t: Timeline, z: Sizes, gr: Graph, h: str, L: Layer, n: str,
         stop: bool = False) -> str | None:
    """``down(gelu(up(h)))`` or ``down(silu(gate(h)) * up(h))``; temporaries die as
    Python lets go of them (kept only if autograd saved them)."""
    g = z.g
    if g.mlp == "gelu":
        u, L.up = linear(t, z, gr, h, g.d_model, g.ff, f"{n} MLP up", cast=True)
        a = t.alloc(z.F, f"{n} GELU")
        t.save(u)
        t.drop(u)
        L.act = [u]
    else:
        gate, L.gate = linear(t, z, gr, h, g.d_model, g.ff, f"{n} MLP gate", cast=True)
        act = t.alloc(z.F, f"{n} SiLU(gate)")
        t.save(gate)
        t.drop(gate)
        up, L.up = linear(t, z, gr, h, g.d_model, g.ff, f"{n} MLP up", cast=True)
        a = t.alloc(z.F, f"{n} SiLU(gate) * up")
        for key in (act, up):
            t.save(key)
            t.drop(key)
        L.act = [gate, act, up]
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
        L.down = replace(L.down, x=a, w=w)
        return None
    d, L.down = linear(t, z, gr, a, g.ff, g.d_model, f"{n} MLP down", cast=False)
    t.drop(a)
    return d
