"""LoRA's Linear policies for the GPT walk (frozen, adapter; QLoRA's 4-bit base): a
frozen base decides what autograd keeps.

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

from dlprep.memcalc.config import Config
from dlprep.memcalc.models.gpt_ops import Sizes, add_grads, keep
from dlprep.memcalc.models.gpt_state import Lin, Stop
from dlprep.memcalc.timeline import Timeline


class LoraSizes(Sizes):
    def __init__(self, cfg: Config) -> None:
        super().__init__(cfg)
        assert cfg.lora is not None
        self.r = cfg.lora.rank
        self.targets = cfg.lora.targets
        self.nf4 = cfg.lora.nf4
        self.train = False

    def policy(self, name: str) -> str:
        return "adapter" if name in self.targets else "frozen"


# The frozen and adapter policies' forward and backward (``gpt_ops.linear``/``linear_bwd``
# are the trained policy's): a trained Linear saves its input and its cached weight cast
# and makes a weight gradient; a frozen base saves nothing (its uncached cast only when x
# requires grad) and makes none. Same shape of code, different facts about torch.
def linear(t: Timeline, z: LoraSizes, cache: list[str], x: str, rg: bool, a: int, b: int,
           name: str, cast: bool = False, stop: bool = False,
           bias: bool | None = None) -> tuple[str, bool, Lin]:
    """``base(x) + B(A(x)) * alpha / r`` (PEFT's order) or the frozen base alone:
    (output, whether it requires grad, what its backward needs). The adapter path saves
    x (for A's gradient) and A(x) (for B's); the frozen base saves nothing (its weight is
    resident). Under autocast (``cast``: x is fp32) every matmul casts its operands to
    half: a frozen weight's cast is not cached (autocast caches leaves that require
    grad), so it dies after the matmul unless kept for the input gradient; A's and B's
    casts sit in ``cache`` until autocast exits. An NF4 base dequantises its weight into
    a temporary for the matmul; PEFT clones a 4-bit base's output before adding."""
    adapted = z.policy(name.rsplit(" ", 1)[-1]) == "adapter"
    cast = cast and z.amp
    rec = Lin(x, a, b, "adapter" if adapted else "frozen", cast=cast, rg=rg,
              bias=z.g.bias if bias is None else bias)  # an MoE router has none
    base = _base(t, z, rec, name, stop and not adapted)
    if not adapted:
        return base, rg, rec
    if z.nf4:
        clone = t.alloc(z.bt * b * z.e, f"{name} 4-bit output cloned (PEFT)")
        t.drop(base)
        base = clone
    if z.amp:
        rec.ac = t.alloc(z.r * a * 2, f"{name} A cast")
        cache.append(rec.ac)
        if rg:
            t.save(rec.ac)
        xa = rec.xa = t.alloc(z.bt * a * 2, f"{name} input cast for A") if cast else x
    else:
        xa = rec.xa = x
    t.save(xa)
    ah = rec.ah = t.alloc(z.bt * z.r * z.e, f"{name} A(x)")
    if xa != x:
        t.drop(xa)
    if z.amp:
        rec.bc = t.alloc(b * z.r * 2, f"{name} B cast")
        cache.append(rec.bc)
        t.save(rec.bc)
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


def _base(t: Timeline, z: LoraSizes, rec: Lin, name: str, stop: bool) -> str:
    a, b = rec.a, rec.b
    if z.amp:  # bias, weight and (fp32) input cast to half for this matmul alone
        bc = t.alloc(b * 2, f"{name} bias cast") if rec.bias else None
        wc = t.alloc(a * b * 2, f"{name} weight cast")
        if rec.rg:
            t.save(wc)
            rec.w = wc
        if stop:  # the frozen weight, saved before the matmul, was the recompute's last
            raise Stop(rec)
        xc = t.alloc(z.bt * a * 2, f"{name} input cast") if rec.cast else None
        out = t.alloc(z.bt * b * 2, f"{name} output")
        for k in (xc, wc, bc):
            if k is not None:
                t.drop(k)
        return out
    if stop:  # the frozen weight, saved before the matmul, was the recompute's last
        raise Stop(rec)
    if not z.nf4:
        return t.alloc(z.bt * b * z.e, f"{name} output")
    w = t.alloc(a * b * z.e, f"{name} 4-bit weight dequantised")
    out = t.alloc(z.bt * b * z.e, f"{name} output")
    t.drop(w)
    return out


def _base_bwd(t: Timeline, z: LoraSizes, grad: str, rec: Lin, name: str,
              acc: str | None) -> str:
    """The frozen base's input gradient (no weight gradient), added to ``acc``."""
    a, b = rec.a, rec.b
    if z.nf4:
        w = t.alloc(a * b * z.e, f"{name} 4-bit weight dequantised again")
        new = t.alloc(z.bt * a * z.e, f"{name} input grad")
        t.drop(w)
    else:
        new = t.alloc(z.bt * a * z.e, f"{name} input grad")
    t.drop(grad)
    if rec.w is not None:
        t.release(rec.w)
    if rec.cast:  # the input cast's backward: back to fp32
        n32 = t.alloc(z.bt * a * 4, f"{name} input grad to float32")
        t.drop(new)
        new = n32
    return _accumulate(t, acc, new, name)


def _accumulate(t: Timeline, acc: str | None, new: str, name: str) -> str:
    if acc is None:
        return new
    return add_grads(t, acc, new, t.tensors[new].nbytes, f"{name} input grads added")


def scale_grad(t: Timeline, z: LoraSizes, grad: str, rec: Lin, name: str) -> str:
    """The adapter's first backward node, ``grad * alpha/r``: it saves nothing, so under
    checkpointing it runs before the block is recomputed."""
    m = t.alloc(z.bt * rec.b * z.e, f"{name} grad x alpha/r")
    if not rec.rg:  # the frozen base's branch needs no gradient: only this held it
        t.drop(grad)
    return m


def _param_grad(t: Timeline, z: LoraSizes, grads: list[str], half: str, n: int,
                name: str) -> None:
    """Under autocast the half gradient of A's (or B's) cast becomes the fp32 ``.grad``."""
    g32 = t.alloc(n * 4, f"{name} to float32")
    t.drop(half)
    keep(t, grads, g32)


def linear_bwd(t: Timeline, z: LoraSizes, grad: str, rec: Lin, name: str,
               grads: list[str], acc: str | None = None,
               m: str | None = None) -> str | None:
    """The input gradient (added to ``acc``, a gradient already waiting for the same
    input), or ``acc`` when the input requires none. Only adapters get ``.grad``.
    ``m``: ``scale_grad`` already ran."""
    a, b, rg = rec.a, rec.b, rec.rg
    if not rec.adapted:
        return _base_bwd(t, z, grad, rec, name, acc)
    if m is None:
        m = scale_grad(t, z, grad, rec, name)
    gb = t.alloc(b * z.r * (2 if z.amp else z.pb), f"{name} B grad")
    if not z.amp:
        keep(t, grads, gb)
    gah = t.alloc(z.bt * z.r * z.e, f"{name} A(x) grad")
    t.drop(m)
    if z.amp:
        t.release(rec.bc)
    t.release(rec.ah)
    if z.amp:
        _param_grad(t, z, grads, gb, b * z.r, f"{name} B grad")
    ga = t.alloc(z.r * a * (2 if z.amp else z.pb), f"{name} A grad")
    if not z.amp:
        keep(t, grads, ga)
    gx = t.alloc(z.bt * a * z.e, f"{name} input grad via A") if rg else None
    t.drop(gah)
    if z.amp and rg:
        t.release(rec.ac)
    t.release(rec.xa)
    if gx is not None:
        if rec.cast:
            g32 = t.alloc(z.bt * a * 4, f"{name} input grad via A to float32")
            t.drop(gx)
            gx = g32
        acc = _accumulate(t, acc, gx, name)
    if z.amp:
        _param_grad(t, z, grads, ga, z.r * a, f"{name} A grad")
    if gx is None:
        return acc
    return _base_bwd(t, z, grad, rec, name, acc)
