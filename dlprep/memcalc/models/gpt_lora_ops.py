"""Pieces of the LoRA replay: a frozen base decides what autograd keeps.

An op saves a tensor only for a gradient someone needs (torch's generated autograd code
saves ``self`` of a matmul only if ``other`` requires grad, and so on). With the base
frozen, a tensor requires grad only downstream of an adapter, so the same block saves
less before the first adapter (block 1's input, the token embedding, requires none) and
a frozen Linear keeps nothing (its weight is already resident). Every rule here was read
off torch 2.13 on CPU with ``measure(cfg, "cpu", trace=True)`` against
``gpt_lora_rig``; QLoRA's 4-bit Linears follow bitsandbytes' ``MatMul4Bit`` and PEFT's
``lora.bnb.Linear4bit`` (sources in docs/memory.md), not a measurement.
"""

from __future__ import annotations

from typing import Any

from dlprep.memcalc.config import Config
from dlprep.memcalc.models.gpt_ops import Sizes, add_grads, keep
from dlprep.memcalc.timeline import Timeline


class LoraSizes(Sizes):
    def __init__(self, cfg: Config) -> None:
        super().__init__(cfg)
        assert cfg.lora is not None
        self.r = cfg.lora.rank
        self.targets = cfg.lora.targets
        self.nf4 = cfg.lora.nf4
        self.sdpa = cfg.attention == "sdpa"
        g = self.g
        # matmul reshapes (B, H, T, hd) to (B*H, T, hd): a view unless all three exceed 1
        self.copies = self.B > 1 and g.n_head > 1 and self.T > 1
        self.merge_copy = g.n_head > 1 and self.T > 1  # heads merged back to (B, T, d)
        self.kv_copy = g.kv_heads > 1 and self.T > 1


def norm_fwd(t: Timeline, z: Sizes, x: str, rg: bool, name: str) -> tuple[str, list[str]]:
    """A frozen pre-norm: it saves its input (and statistics) only if ``x`` requires grad."""
    if z.g.norm == "layernorm":
        out = t.alloc(z.N, f"{name} output")
        mean = t.alloc(z.stat, f"{name} mean")
        rstd = t.alloc(z.stat, f"{name} rstd")
        if rg:
            for k in (x, mean, rstd):
                t.save(k)
        t.drop(mean)
        t.drop(rstd)
        return out, [x, mean, rstd]
    # RMSNorm in fp32 (composite on CPU); ``x * rstd`` is kept only for a weight gradient,
    # which a frozen weight has not.
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
        for k in (src, src, rstd, rstd):
            t.save(k)
    t.drop(xr)
    if up:
        t.drop(src)
        half = t.alloc(z.N, f"{name} output cast to half")
        t.drop(out)
        out = half
    t.drop(rstd)
    return out, [src, rstd]


def norm_bwd(t: Timeline, z: Sizes, grad: str, saved: list[str], name: str,
             acc: str | None = None, frame: str | None = None) -> str:
    """Input gradient of a frozen norm (no weight gradient), added to ``acc``."""
    if z.g.norm == "layernorm":
        new = t.alloc(z.N, f"{name} backward")
        t.drop(grad)
        for k in saved:
            t.release(k)
        if frame is not None:
            t.release(frame)
        return new if acc is None else add_grads(t, acc, new, z.N, f"{name} grads added")
    x, rstd = saved
    up = z.er != 4
    if up:
        g32 = t.alloc(z.N32, f"{name} grad cast to float32")
        t.drop(grad)
        grad = g32
    a = t.alloc(z.N32, f"{name} grad x weight")
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


class Stop(Exception):
    """Checkpoint's recompute has saved the block's last tensor: it unwinds here."""


def linear(t: Timeline, z: LoraSizes, x: str, rg: bool, a: int, b: int, name: str,
           stop: bool = False) -> tuple[str, bool, dict[str, Any]]:
    """``base(x) + B(A(x)) * alpha / r`` (PEFT's order) or the frozen base alone:
    (output, whether it requires grad, what its backward needs). The adapter path saves
    x (for A's gradient) and A(x) (for B's); the frozen base saves nothing (its weight is
    resident). An NF4 base dequantises its weight into a temporary for the matmul, and
    PEFT clones a 4-bit base's output before adding the adapter's."""
    adapted = name.rsplit(" ", 1)[-1] in z.targets
    rec: dict[str, Any] = {"in": x, "rg": rg, "a": a, "b": b, "adapted": adapted}
    if stop and not adapted:  # its weight, saved before the matmul, was the last save
        raise Stop(rec)
    base = _base(t, z, a, b, name)
    if not adapted:
        return base, rg, rec
    if z.nf4:
        clone = t.alloc(z.bt * b * z.e, f"{name} 4-bit output cloned (PEFT)")
        t.drop(base)
        base = clone
    ah = t.alloc(z.bt * z.r * z.e, f"{name} A(x)")
    t.save(x)
    rec["ah"] = ah
    if stop:  # B's matmul saves A(x) and B before it runs: the recompute's last save
        t.save(ah)
        raise Stop(rec)
    ba = t.alloc(z.bt * b * z.e, f"{name} B(A(x))")
    t.save(ah)
    t.drop(ah)
    m = t.alloc(z.bt * b * z.e, f"{name} adapter x alpha/r")
    t.drop(ba)
    out = t.alloc(z.bt * b * z.e, f"{name} base + adapter")
    t.drop(m)
    t.drop(base)
    return out, True, rec


def _base(t: Timeline, z: LoraSizes, a: int, b: int, name: str) -> str:
    if not z.nf4:
        return t.alloc(z.bt * b * z.e, f"{name} output")
    w = t.alloc(a * b * z.e, f"{name} 4-bit weight dequantised")
    out = t.alloc(z.bt * b * z.e, f"{name} output")
    t.drop(w)
    return out


def _base_bwd(t: Timeline, z: LoraSizes, a: int, b: int, name: str) -> str:
    if not z.nf4:
        return t.alloc(z.bt * a * z.e, f"{name} input grad")
    w = t.alloc(a * b * z.e, f"{name} 4-bit weight dequantised again")
    new = t.alloc(z.bt * a * z.e, f"{name} input grad")
    t.drop(w)
    return new


def scale_grad(t: Timeline, z: LoraSizes, grad: str, rec: dict[str, Any], name: str) -> str:
    """The adapter's first backward node, ``grad * alpha/r``: it saves nothing, so under
    checkpointing it runs before the block is recomputed."""
    m = t.alloc(z.bt * rec["b"] * z.e, f"{name} grad x alpha/r")
    if not rec["rg"]:  # the frozen base's branch needs no gradient: only this held it
        t.drop(grad)
    return m


def linear_bwd(t: Timeline, z: LoraSizes, grad: str, rec: dict[str, Any], name: str,
               grads: list[str], acc: str | None = None,
               m: str | None = None) -> str | None:
    """The input gradient (added to ``acc``, a gradient already waiting for the same
    input), or ``acc`` when the input requires none. Only adapters get ``.grad``.
    ``m``: ``scale_grad`` already ran."""
    a, b, rg = rec["a"], rec["b"], rec["rg"]
    if not rec["adapted"]:
        new = _base_bwd(t, z, a, b, name)
        t.drop(grad)
        return new if acc is None else add_grads(t, acc, new, z.bt * a * z.e,
                                                 f"{name} input grads added")
    if m is None:
        m = scale_grad(t, z, grad, rec, name)
    keep(t, grads, t.alloc(b * z.r * z.pb, f"{name} B grad"))
    gah = t.alloc(z.bt * z.r * z.e, f"{name} A(x) grad")
    t.drop(m)
    t.release(rec["ah"])
    keep(t, grads, t.alloc(z.r * a * z.pb, f"{name} A grad"))
    gx = t.alloc(z.bt * a * z.e, f"{name} input grad via A") if rg else None
    t.drop(gah)
    t.release(rec["in"])
    if gx is None:
        return acc
    nbytes = z.bt * a * z.e
    acc = gx if acc is None else add_grads(t, acc, gx, nbytes, f"{name} input grads added")
    new = _base_bwd(t, z, a, b, name)
    t.drop(grad)
    return add_grads(t, acc, new, nbytes, f"{name} input grads added")
