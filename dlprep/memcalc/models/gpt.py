"""The GPT family's forward, replayed tensor by tensor: full fine-tuning (``gpt_rig``'s
model) and LoRA/QLoRA (``gpt_lora_rig``'s) are one walk in which each Linear has a
policy (``Sizes.policy``: trained, frozen, adapter; the frozen base of QLoRA is 4-bit)
that owns its forward and backward bytes (``gpt_ops.linear``, ``gpt_lora_ops.linear``).

Every event below was read off torch 2.13 on CPU with ``measure(cfg, "cpu", trace=True)``
(docs/memory.md, "Transformers"). ``N`` is one ``B x T x d`` activation; attention
scores are ``B x H x T x T``. Autograd runs nodes in reverse creation order; where two
gradients meet (the residual stream, q/k/v's shared input, a tied embedding) they are
summed out of place: a new tensor, both inputs freed.
"""

from __future__ import annotations

from collections.abc import Callable

from dlprep.memcalc.config import Config
from dlprep.memcalc.models import gpt_moe
from dlprep.memcalc.models.gpt_lora_ops import LoraSizes
from dlprep.memcalc.models.gpt_lora_ops import linear as lora_linear
from dlprep.memcalc.models.gpt_norm import norm_fwd
from dlprep.memcalc.models.gpt_ops import (
    Sizes,
    embed,
    linear,
    loss,
    shape,
)
from dlprep.memcalc.models.gpt_state import Graph, Layer, Lin, Stop
from dlprep.memcalc.timeline import Timeline


def static(cfg: Config, t: Timeline) -> tuple[int, int]:
    """(buffers, input batch): the causal mask (math attention) and int64 ids/targets."""
    g = shape(cfg)
    mask = t.size(cfg.seq * cfg.seq) if g.causal and cfg.attention == "math" else 0
    routes = gpt_moe.route_buffers(sizes(cfg), t) if g.n_experts else 0
    return mask * g.n_layer + routes, 2 * t.size(cfg.batch * cfg.seq * 8)


def sizes(cfg: Config) -> Sizes:
    """Full fine-tuning (every Linear trained) or LoRA (a frozen base, adapters)."""
    return LoraSizes(cfg) if cfg.lora is not None else Sizes(cfg)


def forward(t: Timeline, cfg: Config) -> Graph:
    z = sizes(cfg)
    g = z.g
    t.start("forward")
    gr = Graph()
    x = embed(t, z, gr)
    rg = z.train  # a frozen embedding's output requires no grad
    for i in range(g.n_layer):
        before = t.saved_total
        L = Layer(x, rg)
        if cfg.checkpointing:
            # checkpoint() keeps the block input; inside, its hooks swap every saved
            # tensor for an empty holder: each tensor dies when Python lets go of it.
            t.save(x)
            mode, t.no_grad = t.no_grad, True
            out, out_rg = block(t, z, gr.cache, x, rg, L, i)
            t.no_grad = mode
        else:
            out, out_rg = block(t, z, gr.cache, x, rg, L, i)
        t.drop(x)  # the caller's reference to the block input goes when the block returns
        x, rg = out, out_rg
        gr.layers.append(L)
        gr.per_block = t.saved_total - before
    h, gr.keys["final"] = x, []
    if g.final_norm:
        h, gr.keys["final"] = norm_fwd(t, z, x, "final norm", rg, train=z.train)
        t.drop(x)
    logits = _head(t, z, gr, h)
    if t.no_grad or not z.hf:  # the rig's forward returns the logits; h goes with it
        t.drop(h)
    if t.no_grad:  # inference: the logits are the answer, no loss
        if "pos ids" in gr.keys:
            t.drop(gr.keys["pos ids"])
        return gr
    loss(t, z, cfg, gr, logits, h if z.hf else None)
    return gr


def _head(t: Timeline, z: Sizes, gr: Graph, h: str) -> str:
    """The output head (tied or not): trained, or frozen, when its input gradient needs
    only its weight (resident, or under autocast a half cast kept for backward)."""
    g = z.g
    if z.train:
        logits, gr.keys["head"] = linear(t, z, gr.cache, h, g.d_model, g.vocab,
                                         "output head", cast=True, bias=False)
        return logits
    head = gr.keys["head"] = Lin(h, g.d_model, z.V, "frozen", cast=z.amp)
    if z.amp:
        w = head.w = t.alloc(z.V * g.d_model * 2, "output head weight cast")
        t.save(w)
        xc = t.alloc(z.bt * g.d_model * 2, "output head input cast")
    logits = t.alloc(z.bt * z.V * z.e, "output head output")
    if z.amp:
        t.drop(xc)
        t.drop(w)
    return logits


def linears(t: Timeline, z: Sizes, cache: list[str]) -> LinearFwd:
    """Each block Linear's forward, by its policy (``Sizes.policy``), its widths read
    off the shape by its name (``GPT.linear_dims``): the label's last word."""

    def run(x: str, rg: bool, name: str, cast: bool, stop: bool = False
            ) -> tuple[str, bool, Lin]:
        which = name.rsplit(" ", 1)[-1]
        a, b = z.g.linear_dims(which)
        if z.policy(which) == "trained":
            out, rec = linear(t, z, cache, x, a, b, name, cast=cast, stop=stop)
            return out, True, rec
        assert isinstance(z, LoraSizes)
        return lora_linear(t, z, cache, x, rg, a, b, name, cast=cast, stop=stop)

    return run


def block(t: Timeline, z: Sizes, cache: list[str], x: str, rg: bool, L: Layer, i: int,
          stop: bool = False) -> tuple[str, bool]:
    """One pre-norm block: (output, whether it requires grad). ``stop``: checkpoint's
    recompute, which raises ``Stop`` once the block's last saved tensor is saved again
    (the down projection's input or weight, or its adapter's A(x))."""
    n = f"block {i + 1}" + (" (recomputed)" if stop else "")
    lin = linears(t, z, cache)
    h, L.norm1 = norm_fwd(t, z, x, f"{n} norm 1", rg, train=z.train)
    o, o_rg, drops = attention(t, z, lin, h, rg, L, n)
    t.drop(h)
    for k in drops:
        t.drop(k)
    r = t.alloc(z.N, f"{n} residual after attention")
    t.drop(o)
    r_rg = L.r_rg = rg or o_rg
    h2, L.norm2 = norm_fwd(t, z, r, f"{n} norm 2", r_rg, train=z.train)
    if z.g.n_experts:  # Mixtral's block
        y, y_rg, L.moe = gpt_moe.forward(t, z, cache, h2, n, _expert_mlp, r_rg)
        if stop:  # the last expert's index_add_ made the block's last save
            raise Stop(None)
    else:
        y, y_rg = _mlp(t, z, lin, h2, r_rg, L, n, stop)
    t.drop(h2)
    out = t.alloc(z.N, f"{n} residual after MLP")
    t.drop(y)
    t.drop(r)
    return out, r_rg or y_rg


# A Linear's forward as a walk calls it: (x, x requires grad, label ending in its name,
# cast the fp32 input under autocast[, stop]) -> (output, output requires grad, record).
LinearFwd = Callable[..., tuple[str, bool, Lin]]


def attention(t: Timeline, z: Sizes, lin: LinearFwd, h: str, rg: bool, L: Layer,
              n: str) -> tuple[str, bool, list[str]]:
    """q/k/v, attention and the output projection, for every Linear policy: (o's output,
    whether it requires grad, the locals Python drops after ``h``). Each save depends on
    which of q/k/v requires grad (all of them unless a LoRA base is frozen upstream);
    matmul's reshape is a view at batch 1 or 1-wide heads (``z.copies``)."""
    g = z.g
    gqa = g.kv_heads != g.n_head
    q, q_rg, L.q = lin(h, rg, f"{n} q", True)
    k, k_rg, L.k = lin(h, rg, f"{n} k", True)
    v, v_rg, L.v = lin(h, rg, f"{n} v", True)
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
        o, o_rg, L.o = lin(out, any_rg, f"{n} o", False)
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
    o, o_rg, L.o = lin(c, y_rg, f"{n} o", False)
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


def _mlp(t: Timeline, z: Sizes, lin: LinearFwd, h: str, rg: bool, L: Layer, n: str,
         stop: bool) -> tuple[str, bool]:
    """``down(gelu(up(h)))`` or ``down(silu(gate(h)) * up(h))``; temporaries die as
    Python lets go of them (kept only if autograd saved them)."""
    g = z.g
    if g.mlp == "gelu":
        u, u_rg, L.up = lin(h, rg, f"{n} up", True)
        if u_rg:  # GELU saves its input before it runs
            t.save(u)
        L.act, L.a_rg = [u], u_rg
        _stop_before_down(z, stop, u_rg)
        a = t.alloc(z.F, f"{n} GELU")
        t.drop(u)
    else:
        gate, g_rg, L.gate = lin(h, rg, f"{n} gate", True)
        act = t.alloc(z.F, f"{n} SiLU(gate)")
        if g_rg:
            t.save(gate)
        t.drop(gate)
        up, u_rg, L.up = lin(h, rg, f"{n} up", True)
        if u_rg:
            t.save(act)
        if g_rg:
            t.save(up)
        L.act, L.gu_rg, L.a_rg = [gate, act, up], (g_rg, u_rg), g_rg or u_rg
        _stop_before_down(z, stop, g_rg or u_rg)
        a = t.alloc(z.F, f"{n} SiLU(gate) * up")
        t.drop(act)
        t.drop(up)
    y, y_rg, L.down = lin(a, L.a_rg, f"{n} down", False, stop=stop)
    t.drop(a)
    return y, y_rg


def _expert_mlp(t: Timeline, z: Sizes, cache: list[str], x: str, rg: bool, L: Layer,
                n: str) -> tuple[str, bool]:
    """One MoE expert's SwiGLU on its routed tokens ``x`` (``z``: their sizes): the dense
    block's MLP, each Linear by its policy."""
    return _mlp(t, z, linears(t, z, cache), x, rg, L, n, False)


def _stop_before_down(z: Sizes, stop: bool, a_rg: bool) -> None:
    """A frozen down projection whose input needs no gradient, or a frozen 4-bit one
    (bitsandbytes keeps its weight on the Function's context, which checkpoint's hooks do
    not see), saves nothing: the recompute ends at the activation."""
    if stop and z.policy("down") == "frozen" and (z.nf4 or not a_rg):
        raise Stop(None)


def recompute(t: Timeline, z: Sizes, L: Layer, i: int) -> None:
    """Checkpoint's recompute at the block's first unpack: rerun it from the kept input,
    saving this time, until its last save; then everything only Python held (the
    recompute's own autocast casts too) dies."""
    first = t._n
    try:
        block(t, z, [], L.inp, L.in_rg, L, i, stop=True)
    except Stop as end:
        if end.args[0] is not None:
            L.down = end.args[0]
    made = []  # keys are numbered in creation order, and so is the dict: look at its end
    for key in reversed(t.tensors):
        if int(key.split(":", 1)[0]) <= first:
            break
        made.append(key)
    for key in reversed(made):
        tensor = t.tensors[key]
        for _ in range(tensor.refs - tensor.saves):
            t.drop(key)
