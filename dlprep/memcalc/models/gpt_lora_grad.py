"""The LoRA backward, replayed tensor by tensor (forward in ``gpt_lora.py``).

Gradients flow only where a tensor requires grad: through a frozen Linear to its input
(never to its weight), and stop at block 1's input (the frozen embedding's output).
A residual ``x + f(x)`` sends its gradient down both branches only if both require it.
The walk mirrors ``gpt_grad``'s but through LoRA's ``linear_bwd`` (only adapters get
``.grad``); the loss, norms, softmax, residual branch and head sums are GPT's own.
"""

from __future__ import annotations

from dlprep.memcalc.config import Config
from dlprep.memcalc.models.gpt_grad import branch, heads_summed, softmax_bwd
from dlprep.memcalc.models.gpt_lora import recompute
from dlprep.memcalc.models.gpt_lora_ops import LoraSizes, linear_bwd, scale_grad
from dlprep.memcalc.models.gpt_ops import Graph, Layer, loss_bwd, norm_bwd
from dlprep.memcalc.timeline import Timeline


def backward(t: Timeline, cfg: Config, gr: Graph) -> list[str]:
    z = LoraSizes(cfg)
    g = z.g
    t.start("backward")
    grads: list[str] = []
    root, grad = loss_bwd(t, z, cfg, gr)
    head = gr.keys["head"]
    new = t.alloc(z.bt * g.d_model * z.e, "output head input grad")  # no weight grad
    t.drop(grad)
    if head.w is not None:
        t.release(head.w)
    if head.cast:
        n32 = t.alloc(z.N32, "output head input grad to float32")
        t.drop(new)
        new = n32
    grad = new
    if g.final_norm:
        grad = norm_bwd(t, z, grad, gr.keys["final"], "final norm", None)
    out: str | None = grad
    for i in range(g.n_layer - 1, -1, -1):
        assert out is not None
        out = _block_bwd(t, z, cfg, gr, out, i, grads)
    assert out is None  # the token embedding's output requires no grad
    t.drop(root)
    return grads


def _block_bwd(t: Timeline, z: LoraSizes, cfg: Config, gr: Graph, grad: str, i: int,
               grads: list[str]) -> str | None:
    """The gradient for the block's input, or None where it requires none."""
    L, n = gr.layers[i], f"block {i + 1}"
    x_rg, r_rg = L.in_rg, L.r_rg
    frame = L.inp if cfg.checkpointing else None
    gb = branch(t, z, grad, n, both=r_rg)
    m = None
    if cfg.checkpointing:
        if L.down.adapted:
            m = scale_grad(t, z, gb, L.down, f"{n} down")
        before = t.saved_total
        recompute(t, z, L, i)
        gr.recomputed[i] = t.saved_total - before
    gh = _mlp_bwd(t, z, gb, L, n, grads, m)
    if not r_rg:  # only the MLP required grad: nothing before it does
        assert gh is None
        _end(t, frame)
        return None
    assert gh is not None
    grad = norm_bwd(t, z, gh, L.norm2, f"{n} norm 2", None, acc=grad)
    acc = _attention_side(t, z, branch(t, z, grad, n, both=x_rg), L, n, grads)
    if not x_rg:
        _end(t, frame)
        return None
    assert acc is not None
    return norm_bwd(t, z, acc, L.norm1, f"{n} norm 1", None, acc=grad, frame=frame)


def _end(t: Timeline, frame: str | None) -> None:
    """Checkpoint lets go of a block's kept input once the block's last node has run."""
    if frame is not None:
        t.release(frame)


def _mlp_bwd(t: Timeline, z: LoraSizes, grad: str, L: Layer, n: str,
             grads: list[str], m: str | None) -> str | None:
    g = z.g
    gm = linear_bwd(t, z, grad, L.down, f"{n} down", grads, m=m)
    if not L.a_rg:
        return None
    assert gm is not None
    if g.mlp == "gelu":
        (u,) = L.act
        ga = t.alloc(z.F, f"{n} GELU backward")
        t.drop(gm)
        t.release(u)
        return linear_bwd(t, z, ga, L.up, f"{n} up", grads)
    gate, act, up = L.act
    g_rg, u_rg = L.gu_rg
    gs = t.alloc(z.F, f"{n} grad x up") if g_rg else None
    gup = t.alloc(z.F, f"{n} grad x SiLU(gate)") if u_rg else None
    t.drop(gm)
    if g_rg:
        t.release(up)
    if u_rg:
        t.release(act)
    h1 = linear_bwd(t, z, gup, L.up, f"{n} up", grads) if gup is not None else None
    if gs is None:
        return h1
    gg = t.alloc(z.F, f"{n} SiLU backward")
    t.drop(gs)
    t.release(gate)
    return linear_bwd(t, z, gg, L.gate, f"{n} gate", grads, acc=h1)


def _attention_side(t: Timeline, z: LoraSizes, grad: str, L: Layer, n: str,
                    grads: list[str]) -> str | None:
    """From the residual's gradient through o, attention and q/k/v: the gradient for
    the norm's output (None where it requires none)."""
    g = z.g
    q_rg, k_rg, v_rg = L.qkv_rg
    go = linear_bwd(t, z, grad, L.o, f"{n} o", grads)
    if not (q_rg or k_rg or v_rg):
        return None
    assert go is not None
    dq, dk, dv = _attention_bwd(t, z, go, L, n)
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
        acc = linear_bwd(t, z, raw, L.linear(name), f"{n} {name}", grads, acc=acc)
    return acc


def _attention_bwd(t: Timeline, z: LoraSizes, go: str, L: Layer,
                   n: str) -> tuple[str | None, str | None, str | None]:
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
        dv = t.alloc(z.NL, f"{n} v grad (probabilities^T @ grad)") if v_rg else None
        dp = t.alloc(z.S, f"{n} probabilities grad") if s_rg else None
        t.drop(gc)
        if s_rg:
            t.release(vc)
        if v_rg:
            t.release(p)
        if dp is not None:
            dmul = softmax_bwd(t, z, dp, p, n)
            dk = t.alloc(z.NL, f"{n} k grad") if k_rg else None
            dq = t.alloc(z.NL, f"{n} q grad") if q_rg else None
            t.drop(dmul)
            if q_rg:
                t.release(kc)
            if k_rg:
                t.release(qc)
    if gqa and dv is not None:
        dv = heads_summed(t, z, dv, f"{n} v")
    if gqa and dk is not None:
        dk = heads_summed(t, z, dk, f"{n} k")
    return dq, dk, dv
