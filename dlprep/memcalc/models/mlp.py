"""The MLP family: forward and backward replayed tensor by tensor (pure Python).

Every rule below was read off torch 2.13 on CPU with ``measure(cfg, "cpu", trace=True)``
(see docs/memory.md); the grid tests hold the replay to the byte against the real thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dlprep.memcalc.config import Config
from dlprep.memcalc.timeline import Timeline

# What each activation keeps for backward: its output or its input.
SAVES_OUTPUT = {"relu": True, "sigmoid": True, "tanh": True,
                "gelu": False, "silu": False, "leaky_relu": False}


@dataclass
class Graph:
    """Keys the backward replay needs, per hidden block and per layer."""

    linear: list[dict[str, str | None]] = field(default_factory=list)
    blocks: list[dict[str, list[str]]] = field(default_factory=list)
    loss: dict[str, str | None] = field(default_factory=dict)
    # Checkpointed blocks: the block input their frame keeps (None for X).
    frames: dict[int, str | None] = field(default_factory=dict)
    recomputed: dict[int, int] = field(default_factory=dict)  # bytes saved again, per block


def static(cfg: Config, t: Timeline) -> tuple[int, int]:
    """(buffers, input batch) in bytes: BatchNorm's running stats, X and y."""
    assert cfg.layers is not None
    buffers = 0
    if cfg.norm == "batchnorm":
        for b in cfg.layers[1:-1]:
            buffers += 2 * t.size(b * cfg.param_bytes) + t.size(8)
    x_bytes = 2 if cfg.half else 4
    inputs = t.size(cfg.batch * cfg.layers[0] * x_bytes)
    if cfg.loss == "cross_entropy":
        inputs += t.size(cfg.batch * 8)
    else:
        inputs += t.size(cfg.batch * cfg.layers[-1] * x_bytes)
    return buffers, inputs


def loss_scaled(cfg: Config) -> bool:
    """fp16 master-weight training multiplies the loss by a static scale (measure.py)."""
    return cfg.dtype == "fp16-master"


def forward(t: Timeline, cfg: Config) -> Graph:
    assert cfg.layers is not None
    B, amp, half = cfg.batch, cfg.amp, cfg.half
    e = cfg.act_bytes
    t.start("forward")
    g = Graph()
    h: str | None = None  # None is the input batch X: never freed, never counted as saved
    pairs = list(zip(cfg.layers, cfg.layers[1:], strict=False))
    cache: list[str] = []
    for i, (a, b) in enumerate(pairs):
        last = i == len(pairs) - 1
        ckpt = cfg.checkpointing and not last
        if ckpt:
            # checkpoint() saves the block input for the recompute; inside the block its
            # hooks swap every saved tensor for an empty holder, so nothing else stays.
            g.frames[i] = h
            if h is not None:
                t.save(h)
        rec: dict[str, str | None] = {"in": h, "W": None}
        if amp:
            # Autocast casts bias, weight, then (fp32) input; weights stay in its cache.
            cache.append(t.alloc(b * 2, f"Linear {i + 1} bias cast"))
            w = t.alloc(a * b * 2, f"Linear {i + 1} weight cast")
            cache.append(w)
            x = t.alloc(B * a * 2, f"Linear {i + 1} input cast") if h is None else h
            out = t.alloc(B * b * 2, f"Linear {i + 1} output")
            if not ckpt:
                t.save(x)
                # The weight is needed only for the input's gradient: not in layer 1.
                if h is not None:
                    t.save(w)
            rec.update({"in": x, "W": w if h is not None else None})
            if h is None:
                t.drop(x)
        else:
            out = t.alloc(B * b * e, f"Linear {i + 1} output")
            if h is not None and not ckpt:
                t.save(h)
        if h is not None:
            t.drop(h)
        g.linear.append(rec)
        h = out
        if last:
            break
        h, blk = _block(t, cfg, i, b, h, save=not ckpt, stop=False)
        g.blocks.append(blk)
    assert h is not None
    C = cfg.layers[-1]
    es = 4 if not half else 2  # the loss runs in float32 under autocast
    src = t.alloc(B * C * 4, "logits cast to float32") if amp else h
    if cfg.loss == "cross_entropy":
        ls = t.alloc(B * C * es, "log_softmax output")
        loss = t.alloc(es, "loss")
        tw = t.alloc(es, "nll_loss total_weight")
        t.save(ls)
        t.save(tw)
        t.drop(tw)
        t.drop(ls)
        g.loss = {"ls": ls, "tw": tw}
    else:
        # Under autocast mse_loss also fills a B x C fp32 buffer of its own, inside the
        # op: only the allocator sees it (tests/memcalc/test_allocator.py).
        hidden = t.alloc(B * C * 4, "mse_loss internal buffer (autocast)") if amp else ""
        loss = t.alloc(B * C * es, "loss (elementwise storage)")
        t.drop(hidden)
        t.save(src)
        g.loss = {"src": src}
    if amp:
        t.drop(src)
    t.drop(h)
    for k in cache:
        t.drop(k)
    if loss_scaled(cfg):
        scaled = t.alloc(es, "loss x scale")
        t.drop(loss)
        loss = scaled
    g.loss["loss"] = loss
    return g


def _block(t: Timeline, cfg: Config, i: int, b: int, h: str, save: bool,
           stop: bool) -> tuple[str, dict[str, list[str]]]:
    """Norm, activation and dropout after Linear ``i``, whose output is ``h``.

    ``save`` False is a checkpointed forward (nothing kept). ``stop`` is the recompute in
    backward: it ends at the block's last save, as torch's early stop does, and the
    Python references it held go.
    """
    B, e = cfg.batch, cfg.act_bytes
    keep: Callable[[str], None] = t.save if save else (lambda key: None)
    stat = 2 if cfg.half else 4  # norm statistics: float32 unless the whole model is half
    tag = " (recomputed)" if stop else ""
    blk: dict[str, list[str]] = {}
    if cfg.norm != "none":
        name = "LayerNorm" if cfg.norm == "layernorm" else "BatchNorm1d"
        out = t.alloc(B * b * e, f"{name} {i + 1} output{tag}")
        n_stat = B if cfg.norm == "layernorm" else b
        mean = t.alloc(n_stat * stat, f"{name} {i + 1} mean{tag}")
        rstd = t.alloc(n_stat * stat, f"{name} {i + 1} rstd{tag}")
        for k in (h, mean, rstd):
            keep(k)
        for k in (mean, rstd, h):
            t.drop(k)
        blk["norm"] = [h, mean, rstd]
        h = out
    if stop and cfg.dropout == 0 and not SAVES_OUTPUT[cfg.activation]:
        # The last save is the activation's input, taken before the op runs: no output.
        t.save(h)
        t.drop(h)
        blk["act"] = [h]
        return h, blk
    out = t.alloc(B * b * e, f"{cfg.activation} {i + 1} output{tag}")
    kept = out if SAVES_OUTPUT[cfg.activation] else h
    keep(kept)
    t.drop(h)
    blk["act"] = [kept]
    h = out
    if cfg.dropout > 0:
        mask_bytes = B * b * (1 if cfg.device == "cuda" else e)
        mask = t.alloc(mask_bytes, f"dropout {i + 1} mask{tag}")
        keep(mask)
        blk["dropout"] = [mask]
        if stop:  # the mask is saved before the multiply runs: no output
            t.drop(mask)
            t.drop(h)
            return h, blk
        out = t.alloc(B * b * e, f"dropout {i + 1} output")
        t.drop(mask)
        t.drop(h)
        h = out
    if stop:
        t.drop(h)
    return h, blk


def _recompute(t: Timeline, cfg: Config, g: Graph, i: int, a: int, b: int) -> None:
    """Checkpoint reruns block ``i`` from its saved input at the block's first unpack.

    Under autocast the rerun has a fresh autocast cache: it casts bias and weight again
    and frees what it does not save (the bias cast; in block 1 the weight cast too)
    when it stops.
    """
    h, B = g.frames[i], cfg.batch
    before = t.saved_total
    cache: list[str] = []
    x, w = h, None
    if cfg.amp:
        cache.append(t.alloc(b * 2, f"Linear {i + 1} bias cast (recomputed)"))
        w = t.alloc(a * b * 2, f"Linear {i + 1} weight cast (recomputed)")
        cache.append(w)
        if h is None:
            x = t.alloc(B * a * 2, f"Linear {i + 1} input cast (recomputed)")
    out = t.alloc(B * b * cfg.act_bytes, f"Linear {i + 1} output (recomputed)")
    if x is not None:
        t.save(x)
    if w is not None and h is not None:
        t.save(w)
    if h is None and x is not None:
        t.drop(x)
    g.linear[i] = {"in": x, "W": w if h is not None else None}
    g.blocks[i] = _block(t, cfg, i, b, out, save=True, stop=True)[1]
    for k in cache:
        t.drop(k)
    g.recomputed[i] = t.saved_total - before


def backward(t: Timeline, cfg: Config, g: Graph) -> list[str]:
    assert cfg.layers is not None
    B, amp, half = cfg.batch, cfg.amp, cfg.half
    e, pb = cfg.act_bytes, cfg.param_bytes
    es = 4 if not half else 2
    C = cfg.layers[-1]
    t.start("backward")
    root = t.alloc(es, "root gradient (ones_like(loss))")
    first = t.alloc(es, "root gradient x scale") if loss_scaled(cfg) else None
    if cfg.loss == "cross_entropy":
        g1 = t.alloc(B * C * es, "nll_loss backward")
        if first is not None:
            t.drop(first)
        t.release(g.loss["tw"] or "")
        grad = t.alloc(B * C * es, "log_softmax backward")
        t.drop(g1)
        t.release(g.loss["ls"] or "")
    else:
        grad = t.alloc(B * C * es, "mse_loss backward")
        if first is not None:
            t.drop(first)
        t.release(g.loss["src"] or "")
    if amp:
        g2 = t.alloc(B * C * 2, "gradient cast to half")
        t.drop(grad)
        grad = g2
    grads: list[str] = []
    pairs = list(zip(cfg.layers, cfg.layers[1:], strict=False))
    for i in range(len(pairs) - 1, -1, -1):
        a, b = pairs[i]
        if i < len(pairs) - 1:
            if i in g.frames:
                _recompute(t, cfg, g, i, a, b)
            blk = g.blocks[i]
            for part in ("dropout", "act", "norm"):
                if part not in blk:
                    continue
                new = t.alloc(B * b * e, f"{part} {i + 1} backward")
                if part == "norm":
                    grads += [t.alloc(b * pb, f"norm {i + 1} weight grad"),
                              t.alloc(b * pb, f"norm {i + 1} bias grad")]
                    for k in grads[-2:]:
                        t.keep_as_grad(k)
                t.drop(grad)
                for k in blk[part]:
                    t.release(k)
                grad = new
        rec = g.linear[i]
        le = 2 if amp else e
        new = t.alloc(B * a * le, f"Linear {i + 1} input grad") if i > 0 else ""
        gw = t.alloc(a * b * le, f"Linear {i + 1} weight grad")
        # What only the recompute holds (the casts under autocast) dies with the node's
        # locals, before the engine sums the bias gradient; saved variables go later.
        own = [k for k in (rec["in"], rec["W"]) if k is not None]
        if i in g.frames:
            for k in own:
                t.release(k)
        gb = t.alloc(b * le, f"Linear {i + 1} bias grad")
        t.drop(grad)
        if i not in g.frames:
            for k in own:
                t.release(k)
        if g.frames.get(i) is not None:
            t.release(g.frames[i] or "")
        if amp:
            w32 = t.alloc(a * b * 4, f"Linear {i + 1} weight grad to float32")
            t.drop(gw)
            b32 = t.alloc(b * 4, f"Linear {i + 1} bias grad to float32")
            t.drop(gb)
            gw, gb = w32, b32
            t.keep_as_grad(gw)
            t.keep_as_grad(gb)
        grads += [gw, gb]
        if not amp:  # under autocast they become .grad once cast to float32, below
            t.keep_as_grad(gw)
            t.keep_as_grad(gb)
        grad = new
    for k in grads:
        t.keep_as_grad(k)
    t.drop(root)
    return grads
