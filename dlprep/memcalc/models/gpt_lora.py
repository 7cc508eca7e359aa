"""LoRA on the GPT family: ``gpt_lora_rig``'s step replayed tensor by tensor.

The base is frozen, so what a block saves depends on which tensors require grad (see
``gpt_lora_ops``): the token embedding requires none, and a tensor requires grad once
an adapter is upstream of it. Each block therefore carries ``rg`` flags; the first
block saves least. Frozen Linears, norms and embeddings get no gradient; only the
adapters' A and B do. Events not listed here follow ``gpt.py``.
"""

from __future__ import annotations

from dlprep.memcalc.config import Config
from dlprep.memcalc.models import gpt
from dlprep.memcalc.models.gpt_lora_ops import LoraSizes, Stop, linear
from dlprep.memcalc.models.gpt_ops import Graph, Layer, Lin, embed, loss, norm_fwd
from dlprep.memcalc.timeline import Timeline


def static(cfg: Config, t: Timeline) -> tuple[int, int]:
    return gpt.static(cfg, t)


def forward(t: Timeline, cfg: Config) -> Graph:
    z = LoraSizes(cfg)
    g = z.g
    t.start("forward")
    gr = Graph()
    x = embed(t, z)
    rg = False  # the frozen embedding's output requires no grad
    for i in range(g.n_layer):
        before = t.saved_total
        L = Layer(x, rg)
        if cfg.checkpointing:
            t.save(x)  # checkpoint() keeps the block input; inside, nothing is saved
            mode, t.no_grad = t.no_grad, True
            out, out_rg = block(t, z, gr.cache, x, rg, L, i)
            t.no_grad = mode
        else:
            out, out_rg = block(t, z, gr.cache, x, rg, L, i)
        t.drop(x)
        x, rg = out, out_rg
        gr.layers.append(L)
        gr.per_block = t.saved_total - before
    h, gr.keys["final"] = x, []
    if g.final_norm:
        h, gr.keys["final"] = norm_fwd(t, z, x, "final norm", rg, train=False)
        t.drop(x)
    # The head is frozen (tied or not): its input gradient needs only its weight
    # (resident, or under autocast a half cast kept for backward).
    head = Lin(h, g.d_model, z.V, "frozen", cast=z.amp)
    if z.amp:
        w = head.w = t.alloc(z.V * g.d_model * 2, "output head weight cast")
        t.save(w)
        xc = t.alloc(z.bt * g.d_model * 2, "output head input cast")
    logits = t.alloc(z.bt * z.V * z.e, "output head output")
    if z.amp:
        t.drop(xc)
        t.drop(w)
    t.drop(h)
    gr.keys["head"] = head
    if t.no_grad:
        return gr
    loss(t, z, cfg, gr, logits)
    return gr


def block(t: Timeline, z: LoraSizes, cache: list[str], x: str, rg: bool, L: Layer,
          i: int, stop: bool = False) -> tuple[str, bool]:
    """One pre-norm block: (output, whether it requires grad). ``stop``: checkpoint's
    recompute, which raises ``Stop`` once the block's last saved tensor is saved again
    (the down projection's weight, or its adapter's A(x))."""
    n = f"block {i + 1}" + (" (recomputed)" if stop else "")
    h, L.norm1 = norm_fwd(t, z, x, f"{n} norm 1", rg, train=False)
    o, o_rg, drops = _attention(t, z, cache, h, rg, L, n)
    t.drop(h)
    for k in drops:
        t.drop(k)
    r = t.alloc(z.N, f"{n} residual after attention")
    t.drop(o)
    r_rg = L.r_rg = rg or o_rg
    h2, L.norm2 = norm_fwd(t, z, r, f"{n} norm 2", r_rg, train=False)
    y, y_rg = _mlp(t, z, cache, h2, r_rg, L, n, stop)
    t.drop(h2)
    out = t.alloc(z.N, f"{n} residual after MLP")
    t.drop(y)
    t.drop(r)
    return out, r_rg or y_rg


def _attention(t: Timeline, z: LoraSizes, c_: list[str], h: str, rg: bool,
               L: Layer, n: str) -> tuple[str, bool, list[str]]:
    """GPT's attention with LoRA's Linears: (o's output, whether it requires grad, the
    locals Python drops after h)."""

    def adapted(x: str, x_rg: bool, a: int, b: int, name: str, cast: bool
                ) -> tuple[str, bool, Lin]:
        return linear(t, z, c_, x, x_rg, a, b, name, cast=cast)

    return gpt.attention(t, z, adapted, h, rg, L, n)


def _mlp(t: Timeline, z: LoraSizes, c_: list[str], h: str, rg: bool, L: Layer,
         n: str, stop: bool) -> tuple[str, bool]:
    g = z.g
    if g.mlp == "gelu":
        u, u_rg, L.up = linear(t, z, c_, h, rg, g.d_model, g.ff, f"{n} up", cast=True)
        if u_rg:  # GELU saves its input before it runs
            t.save(u)
        L.act, L.a_rg = [u], u_rg
        _stop_before_down(z, stop, u_rg)
        a = t.alloc(z.F, f"{n} GELU")
        t.drop(u)
    else:
        gate, g_rg, L.gate = linear(t, z, c_, h, rg, g.d_model, g.ff, f"{n} gate", cast=True)
        act = t.alloc(z.F, f"{n} SiLU(gate)")
        if g_rg:
            t.save(gate)
        t.drop(gate)
        up, u_rg, L.up = linear(t, z, c_, h, rg, g.d_model, g.ff, f"{n} up", cast=True)
        if u_rg:
            t.save(act)
        if g_rg:
            t.save(up)
        L.act, L.gu_rg, L.a_rg = [gate, act, up], (g_rg, u_rg), g_rg or u_rg
        _stop_before_down(z, stop, g_rg or u_rg)
        a = t.alloc(z.F, f"{n} SiLU(gate) * up")
        t.drop(act)
        t.drop(up)
    y, y_rg, L.down = linear(t, z, c_, a, L.a_rg, g.ff, g.d_model, f"{n} down",
                             stop=stop)
    t.drop(a)
    return y, y_rg


def _stop_before_down(z: LoraSizes, stop: bool, a_rg: bool) -> None:
    """A frozen 4-bit down projection saves nothing autograd's hooks see (bitsandbytes
    keeps its weight on the Function's context): the recompute ends at the activation."""
    if stop and "down" not in z.targets and (z.nf4 or not a_rg):
        raise Stop(None)


def recompute(t: Timeline, z: LoraSizes, L: Layer, i: int) -> None:
    """Checkpoint's recompute at the block's first unpack: rerun it from the kept input,
    saving this time, until its last save; then everything only Python held dies."""
    first = t._n
    try:
        block(t, z, [], L.inp, L.in_rg, L, i, stop=True)
    except Stop as end:
        if end.args[0] is not None:
            L.down = end.args[0]
    for key in [k for k in t.tensors if int(k.split(":", 1)[0]) > first]:
        tensor = t.tensors[key]
        for _ in range(tensor.refs - tensor.saves):
            t.drop(key)
