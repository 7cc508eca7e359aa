"""The GPT family's backward, replayed tensor by tensor (see ``gpt.py`` for the forward).

Nodes run in reverse creation order. A residual ``x + f(x)`` sends its gradient down
both branches: the same tensor, or under autocast a half copy for the half branch.
Where two gradients meet they are summed out of place (a new tensor, both freed).
"""

from __future__ import annotations

from dlprep.memcalc.config import Config
from dlprep.memcalc.models.gpt import _block
from dlprep.memcalc.models.gpt_ops import (
    Graph,
    Layer,
    Sizes,
    add_grads,
    keep,
    linear_bwd,
    loss_bwd,
    norm_bwd,
)
from dlprep.memcalc.timeline import Timeline


def backward(t: Timeline, cfg: Config, gr: Graph) -> list[str]:
    z = Sizes(cfg)
    g = z.g
    t.start("backward")
    grads: list[str] = []
    root, grad = loss_bwd(t, z, cfg, gr)
    grad, head = linear_bwd(t, z, grad, gr.keys["head"], "output head",
                            grads if not g.tied else None)
    if g.final_norm:
        grad = norm_bwd(t, z, grad, gr.keys["final"], "final norm", grads)
    for i in range(g.n_layer - 1, -1, -1):
        grad = _block_bwd(t, z, cfg, gr, grad, i, grads)
    if g.max_pos:
        s = t.alloc(z.T * g.d_model * z.er, "position grad summed over the batch")
        keep(t, grads, t.alloc(g.max_pos * g.d_model * z.pb, "position embedding grad"))
        t.drop(s)
    emb = t.alloc(g.vocab * g.d_model * z.pb, "token embedding grad")
    t.drop(grad)
    if g.tied:
        emb = add_grads(t, head, emb, g.vocab * g.d_model * z.pb, "tied embedding grads summed")
    keep(t, grads, emb)
    # BERT's extras (presets only; the rig has none): the segment embedding's and the
    # embedding norm's gradients. Its pooler is unused by a language-model loss: no grad.
    if g.token_types:
        keep(t, grads, t.alloc(g.token_types * g.d_model * z.pb, "segment embedding grad"))
    if g.embed_norm:
        for w in ("weight", "bias"):
            keep(t, grads, t.alloc(g.d_model * z.pb, f"embedding norm {w} grad"))
    t.drop(root)
    return grads


def branch(t: Timeline, z: Sizes, grad: str, n: str, both: bool = True) -> str:
    """AddBackward of ``x + f(x)``: f's gradient (a half copy under autocast); ``both``:
    x requires grad too and keeps ``grad`` (always, but before LoRA's first adapter),
    else only f's branch held it."""
    if z.amp:
        half = t.alloc(z.NL, f"{n} grad to half for the branch")
        if not both:
            t.drop(grad)
        return half
    if both:
        t.share(grad)
    return grad


def _block_bwd(t: Timeline, z: Sizes, cfg: Config, gr: Graph, grad: str, i: int,
               grads: list[str]) -> str:
    g, L, n = z.g, gr.layers[i], f"block {i + 1}"
    gb = branch(t, z, grad, n)
    ck = cfg.checkpointing
    if ck:  # the first unpack reruns the block from its kept input, saving this time
        before, cached = t.saved_total, len(gr.cache)
        _block(t, z, cfg, gr, L.inp, L, i, stop=True)
        for k in gr.cache[cached:]:  # the recompute's own autocast cache goes at the stop
            t.drop(k)
        del gr.cache[cached:]
        gr.recomputed[i] = t.saved_total - before
    gm, _ = linear_bwd(t, z, gb, L.down, f"{n} MLP down", grads, recomputed=ck)
    if g.mlp == "gelu":
        (u,) = L.act
        ga = t.alloc(z.F, f"{n} GELU backward")
        t.drop(gm)
        t.release(u)
        gh, _ = linear_bwd(t, z, ga, L.up, f"{n} MLP up", grads, recomputed=ck)
    else:
        gate, act, up = L.act
        gs = t.alloc(z.F, f"{n} grad x up")
        gup = t.alloc(z.F, f"{n} grad x SiLU(gate)")
        t.drop(gm)
        t.release(up)
        t.release(act)
        h1, _ = linear_bwd(t, z, gup, L.up, f"{n} MLP up", grads, recomputed=ck)
        gg = t.alloc(z.F, f"{n} SiLU backward")
        t.drop(gs)
        t.release(gate)
        gh, _ = linear_bwd(t, z, gg, L.gate, f"{n} MLP gate", grads, acc=h1,
                           recomputed=ck)
    grad = norm_bwd(t, z, gh, L.norm2, f"{n} norm 2", grads, acc=grad, recomputed=ck)
    go, _ = linear_bwd(t, z, branch(t, z, grad, n), L.o, f"{n} attention projection",
                       grads, recomputed=ck)
    dq, dk, dv, copies = _attention_bwd(t, z, cfg, go, L, n)
    kvd = g.kv_heads * g.head_dim
    acc: str | None = None
    for name, raw, width, copy in (("v", dv, kvd, copies), ("k", dk, kvd, copies),
                                   ("q", dq, g.d_model, not z.sdpa and z.merge_copy)):
        if copy:  # the head-split view's backward reshapes a transposed gradient
            c = t.alloc(z.bt * width * z.e, f"{n} {name} grad made contiguous")
            t.drop(raw)
            raw = c
        acc, _ = linear_bwd(t, z, raw, L.linear(name), f"{n} {name}", grads, acc=acc,
                            recomputed=ck)
    assert acc is not None
    return norm_bwd(t, z, acc, L.norm1, f"{n} norm 1", grads, acc=grad,
                     frame=L.inp if ck else None, recomputed=ck)


def _attention_bwd(t: Timeline, z: Sizes, cfg: Config, go: str, L: Layer,
                   n: str) -> tuple[str, str, str, bool]:
    """(dq, dk, dv, whether k and v grads need a contiguous copy) from the o input grad."""
    g = z.g
    gqa = g.kv_heads != g.n_head
    if cfg.attention == "sdpa":
        dq = t.alloc(z.NL, f"{n} attention backward dq")
        dk = t.alloc(z.NL, f"{n} attention backward dk")
        dv = t.alloc(z.NL, f"{n} attention backward dv")
        t.drop(go)
        for key in L.attn:
            t.release(key)
    else:
        qc, kc, p, vc = L.attn
        gc = t.alloc(z.NL, f"{n} merged-heads grad copy") if z.copies else go
        if gc != go:
            t.drop(go)
        dv = t.alloc(z.NL, f"{n} v grad (probabilities^T @ grad)")
        dp = t.alloc(z.S, f"{n} probabilities grad")
        t.drop(gc)
        t.release(vc)
        t.release(p)
        dmul = softmax_bwd(t, z, dp, p, n)
        dk = t.alloc(z.NL, f"{n} k grad")
        dq = t.alloc(z.NL, f"{n} q grad")
        t.drop(dmul)
        t.release(kc)
        t.release(qc)
    if gqa:
        dv = heads_summed(t, z, dv, f"{n} v")
        dk = heads_summed(t, z, dk, f"{n} k")
    kv_copy = (not z.sdpa or gqa) and (z.kv_copy if gqa else z.merge_copy)
    return dq, dk, dv, kv_copy


def softmax_bwd(t: Timeline, z: Sizes, dp: str, p: str, n: str) -> str:
    """From the probabilities' gradient back through softmax, the causal mask and the
    1/sqrt(head_dim) scale: the raw scores' gradient."""
    ds = t.alloc(z.S, f"{n} softmax backward")
    t.drop(dp)
    t.release(p)
    if z.g.causal:
        dm = t.alloc(z.S, f"{n} masked_fill backward")
        t.drop(ds)
        ds = dm
    dmul = t.alloc(z.S, f"{n} scale backward")
    t.drop(ds)
    return dmul


def heads_summed(t: Timeline, z: Sizes, grad: str, name: str) -> str:
    """The expand's backward sums the heads that shared each K/V head (grouped-query)."""
    out = t.alloc(z.kv, f"{name} grad summed over shared heads")
    t.drop(grad)
    return out
