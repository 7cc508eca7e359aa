"""The GPT walk's norms (LayerNorm; RMSNorm, composite on CPU), forward and backward,
tensor by tensor as torch 2.13 on CPU allocates and frees them."""

from __future__ import annotations

from dlprep.memcalc.models.gpt_ops import Sizes, add_grads, keep
from dlprep.memcalc.timeline import Timeline


def norm_fwd(t: Timeline, z: Sizes, x: str, name: str, rg: bool = True,
             train: bool = True) -> tuple[str, list[str]]:
    """Pre-norm of ``x``: returns (output, the tensors its backward releases). Ops save a
    tensor only for a gradient someone needs: ``rg``, ``x`` requires grad (false before
    LoRA's first adapter); ``train``, the weight trains (false for LoRA's frozen base)."""
    if z.g.norm == "layernorm":
        out = t.alloc(z.N, f"{name} output")
        mean = t.alloc(z.stat, f"{name} mean")
        rstd = t.alloc(z.stat, f"{name} rstd")
        if rg or train:
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
    if rg:
        for k in (src, src, rstd, rstd):  # pow and mul save x; mul and rsqrt save rstd
            t.save(k)
    if train:  # ``* weight`` keeps x * rstd for the weight's gradient
        t.save(xr)
    t.drop(xr)
    if up:
        t.drop(src)
        half = t.alloc(z.N, f"{name} output cast to half")
        t.drop(out)
        out = half
    t.drop(rstd)
    return out, [src, rstd, xr] if train else [src, rstd]


def norm_bwd(t: Timeline, z: Sizes, grad: str, saved: list[str], name: str,
             grads: list[str] | None, acc: str | None = None, frame: str | None = None,
             recomputed: bool = False) -> str:
    """The norm's backward; ``acc`` is a gradient already waiting for its input ``x``
    (the residual branch), to which each input gradient is added as it arrives.
    ``grads`` None: a frozen norm, which makes no weight gradient."""
    d = z.g.d_model
    if z.g.norm == "layernorm":
        new = t.alloc(z.N, f"{name} backward")
        if grads is not None:
            keep(t, grads, t.alloc(d * z.pb, f"{name} weight grad"))
            if z.g.bias:
                keep(t, grads, t.alloc(d * z.pb, f"{name} bias grad"))
        t.drop(grad)
        for k in saved:
            t.release(k)
        if frame is not None:  # checkpoint's hold on the block input goes with its first op
            t.release(frame)
        return new if acc is None else add_grads(t, acc, new, z.N, f"{name} grads added")
    x, rstd = saved[:2]
    up = z.er != 4
    if up:
        g32 = t.alloc(z.N32, f"{name} grad cast to float32")
        t.drop(grad)
        grad = g32
    a = t.alloc(z.N32, f"{name} grad x weight")
    if grads is not None:
        xr = saved[2]
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
    else:
        t.drop(grad)
    c = t.alloc(z.N32, f"{name} grad x rstd")
    dd = t.alloc(z.N32, f"{name} grad x x")
    s = t.alloc(z.bt * 4, f"{name} rstd grad")
    t.drop(dd)
    t.drop(a)
    t.release(x)
    t.release(rstd)
    if acc is not None and not up:
        c = add_grads(t, acc, c, z.N, f"{name} grads added")
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
    out = add_grads(t, c, pg, z.N32, f"{name} input grads summed")
    if up:
        half = t.alloc(z.N, f"{name} input grad cast to half")
        t.drop(out)
        out = half
    return out if acc is None else add_grads(t, acc, out, z.N, f"{name} grads added")
