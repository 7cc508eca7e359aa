"""The GPT family's backward, replayed tensor by tensor (see ``gpt.py`` for the forward):
one walk for full fine-tuning and LoRA, each Linear through its policy's backward.

Gradients flow only where a tensor requires grad: with a frozen base, through a frozen
Linear to its input (never to its weight), and not into block 1's input (the frozen
embedding's output). Nodes run in reverse creation order. A residual ``x + f(x)``
sends its gradient down both branches (where both require it): the same tensor, or
under autocast a half copy for the half branch. Where two gradients meet they are
summed out of place (a new tensor, both freed).
"""

from __future__ import annotations

from collections.abc import Callable

from dlprep.memcalc.config import Config
from dlprep.memcalc.models import gpt_moe
from dlprep.memcalc.models.gpt import recompute, sizes
from dlprep.memcalc.models.gpt_lora_ops import LoraSizes, scale_grad
from dlprep.memcalc.models.gpt_lora_ops import linear_bwd as lora_linear_bwd
from dlprep.memcalc.models.gpt_norm import norm_bwd
from dlprep.memcalc.models.gpt_ops import (
    Sizes,
    add_grads,
    keep,
    linear_bwd,
    loss_bwd,
)
from dlprep.memcalc.models.gpt_state import Graph, Layer, Lin
from dlprep.memcalc.timeline import Timeline

# A Linear's backward as a walk calls it: (its output's gradient, its record, label, a
# gradient already waiting for its input) -> the input's gradient, or None (none needed).
LinearBwd = Callable[[str, Lin, str, str | None], str | None]


def backward(t: Timeline, cfg: Config, gr: Graph) -> list[str]:
    z = sizes(cfg)
    g = z.g
    t.start("backward")
    grads: list[str] = []
    train = grads if z.train else None  # where a trained norm's gradients go
    root, grad = loss_bwd(t, z, cfg, gr)
    head: str | None = None
    if z.train:
        grad, head = linear_bwd(t, z, grad, gr.keys["head"], "output head",
                                grads if not g.tied else None)
    else:
        grad = _frozen_head_bwd(t, z, grad, gr.keys["head"])
    if g.final_norm:
        grad = norm_bwd(t, z, grad, gr.keys["final"], "final norm", train)
    out: str | None = grad
    for i in range(g.n_layer - 1, -1, -1):
        assert out is not None
        out = _block_bwd(t, z, cfg, gr, out, i, grads)
    if z.train:
        assert out is not None and head is not None
        _embedding_bwd(t, z, out, head, grads, gr.keys.get("pos ids"))
    else:
        assert out is None  # the frozen token embedding's output requires no grad
    t.drop(root)
    return grads


def _frozen_head_bwd(t: Timeline, z: Sizes, grad: str, head: Lin) -> str:
    new = t.alloc(z.bt * z.g.d_model * z.e, "output head input grad")  # no weight grad
    t.drop(grad)
    if head.w is not None:
        t.release(head.w)
    if head.cast:
        n32 = t.alloc(z.N32, "output head input grad to float32")
        t.drop(new)
        new = n32
    return new


def _embedding_bwd(t: Timeline, z: Sizes, grad: str, head: str, grads: list[str],
                   ids: str | None) -> None:
    g = z.g
    if g.max_pos:
        s = t.alloc(z.T * g.d_model * z.er, "position grad summed over the batch")
        keep(t, grads, t.alloc(g.max_pos * g.d_model * z.pb, "position embedding grad"))
        t.drop(s)
        if ids is not None:  # wpe(arange(T)): the embedding's backward lets its index go
            t.release(ids)
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
               grads: list[str]) -> str | None:
    """The gradient for the block's input, or None where it requires none."""
    L, n = gr.layers[i], f"block {i + 1}"
    ck = cfg.checkpointing
    frame = L.inp if ck else None
    train = grads if z.train else None
    if L.moe is not None:  # the MoE output has the residual's dtype: the same gradient
        if L.r_rg:  # (shared when the residual's side requires grad too)
            t.share(grad)
        gb = grad
    else:
        gb = branch(t, z, grad, n, both=L.r_rg)
    m = None  # an adapted down projection's ``grad * alpha/r``, run before the recompute
    if ck:  # the first unpack reruns the block from its kept input, saving this time
        if L.down.adapted:
            assert isinstance(z, LoraSizes)
            m = scale_grad(t, z, gb, L.down, f"{n} down")
        before = t.saved_total
        recompute(t, z, L, i)
        gr.recomputed[i] = t.saved_total - before

    def lin(raw: str, rec: Lin, name: str, acc: str | None) -> str | None:
        if rec.policy == "trained":
            return linear_bwd(t, z, raw, rec, name, grads, acc=acc, recomputed=ck)[0]
        assert isinstance(z, LoraSizes)
        return lora_linear_bwd(t, z, raw, rec, name, grads, acc=acc,
                               m=m if rec is L.down else None)

    gh = mlp_bwd(t, z, gb, L, n, lin, grads, ck)
    if not L.r_rg:  # only the MLP required grad: nothing before it does
        assert gh is None
        _end(t, frame)
        return None
    assert gh is not None
    grad = norm_bwd(t, z, gh, L.norm2, f"{n} norm 2", train, acc=grad, recomputed=ck)
    acc = attention_side(t, z, branch(t, z, grad, n, both=L.in_rg), L, n, lin)
    if not L.in_rg:
        _end(t, frame)
        return None
    assert acc is not None
    return norm_bwd(t, z, acc, L.norm1, f"{n} norm 1", train, acc=grad, frame=frame,
                    recomputed=ck)


def _end(t: Timeline, frame: str | None) -> None:
    """Checkpoint lets go of a block's kept input once the block's last node has run."""
    if frame is not None:
        t.release(frame)


def mlp_bwd(t: Timeline, z: Sizes, grad: str, L: Layer, n: str,
            lin: LinearBwd, grads: list[str] | None = None, ck: bool = False) -> str | None:
    """Back through down, the activation and up (and gate), for every Linear policy: the
    gradient for the norm's output (None where it requires none)."""
    if L.moe is not None:
        return gpt_moe.backward(t, z, grad, L.moe, n, grads, mlp_bwd, ck)
    gm = lin(grad, L.down, f"{n} down", None)
    if not L.a_rg:
        return None
    assert gm is not None
    if z.g.mlp == "gelu":
        (u,) = L.act
        ga = t.alloc(z.F, f"{n} GELU backward")
        t.drop(gm)
        t.release(u)
        return lin(ga, L.up, f"{n} up", None)
    gate, act, up = L.act
    g_rg, u_rg = L.gu_rg
    gs, gup = product_bwd(t, gm, (act, g_rg, z.F, f"{n} grad x up"),
                          (up, u_rg, z.F, f"{n} grad x SiLU(gate)"))
    h1 = lin(gup, L.up, f"{n} up", None) if gup is not None else None
    if gs is None:
        return h1
    gg = t.alloc(z.F, f"{n} SiLU backward")
    t.drop(gs)
    t.release(gate)
    return lin(gg, L.gate, f"{n} gate", h1)


def attention_side(t: Timeline, z: Sizes, grad: str, L: Layer, n: str,
                   lin: LinearBwd) -> str | None:
    """From the residual's gradient through o, attention and q/k/v, for every Linear
    policy: the gradient for the norm's output (None where it requires none)."""
    g = z.g
    q_rg, k_rg, v_rg = L.qkv_rg
    go = lin(grad, L.o, f"{n} o", None)
    if not (q_rg or k_rg or v_rg):
        return None
    assert go is not None
    dq, dk, dv = attention_bwd(t, z, go, L, n)
    kvd = g.kv_heads * g.head_dim
    gqa = g.kv_heads != g.n_head
    kv_copy = (not z.sdpa or gqa) and (z.kv_copy if gqa else z.merge_copy)
    acc: str | None = None
    for name, raw, width, copy in (("v", dv, kvd, kv_copy), ("k", dk, kvd, kv_copy),
                                   ("q", dq, g.d_model, not z.sdpa and z.merge_copy)):
        if raw is None:
            continue
        if copy:  # the head-split view's backward reshapes a transposed gradient
            c = t.alloc(z.bt * width * z.e, f"{n} {name} grad made contiguous")
            t.drop(raw)
            raw = c
        acc = lin(raw, L.linear(name), f"{n} {name}", acc)
    return acc


def attention_bwd(t: Timeline, z: Sizes, go: str, L: Layer,
                  n: str) -> tuple[str | None, str | None, str | None]:
    """(dq, dk, dv) from o's input gradient; None for one that requires no grad."""
    g = z.g
    q_rg, k_rg, v_rg = L.qkv_rg
    gqa = g.kv_heads != g.n_head
    dq = dk = dv = None
    if z.sdpa:  # the CPU flash kernel computes all three; the unneeded die at once
        grads = [t.alloc(z.NL, f"{n} attention backward d{w}") for w in "qkv"]
        for key, need in zip(grads, (q_rg, k_rg, v_rg), strict=True):
            if not need:
                t.drop(key)
        t.drop(go)
        for key in L.attn:
            t.release(key)
        dq, dk, dv = (key if need else None
                      for key, need in zip(grads, (q_rg, k_rg, v_rg), strict=True))
    else:
        qc, kc, p, vc = L.attn
        s_rg = q_rg or k_rg
        gc = t.alloc(z.NL, f"{n} merged-heads grad copy") if z.copies else go
        if gc != go:
            t.drop(go)
        dv, dp = product_bwd(t, gc, (vc, v_rg, z.NL, f"{n} v grad (probabilities^T @ grad)"),
                             (p, s_rg, z.S, f"{n} probabilities grad"))
        if dp is not None:
            dmul = softmax_bwd(t, z, dp, p, n)
            dk, dq = product_bwd(t, dmul, (kc, k_rg, z.NL, f"{n} k grad"),
                                 (qc, q_rg, z.NL, f"{n} q grad"))
    if gqa and dv is not None:
        dv = heads_summed(t, z, dv, f"{n} v")
    if gqa and dk is not None:
        dk = heads_summed(t, z, dk, f"{n} k")
    return dq, dk, dv


def product_bwd(t: Timeline, grad: str, a: tuple[str, bool, int, str],
                b: tuple[str, bool, int, str]) -> tuple[str | None, str | None]:
    """Backward of a product of two saved operands, each given as (saved key, requires
    grad, bytes of its gradient, label): a's gradient is made if it requires one (from
    ``grad`` and b, so b is released), then b's (from a); ``grad`` dies after both."""
    (a_key, a_rg, a_bytes, a_label), (b_key, b_rg, b_bytes, b_label) = a, b
    da = t.alloc(a_bytes, a_label) if a_rg else None
    db = t.alloc(b_bytes, b_label) if b_rg else None
    t.drop(grad)
    if a_rg:
        t.release(b_key)
    if b_rg:
        t.release(a_key)
    return da, db


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
