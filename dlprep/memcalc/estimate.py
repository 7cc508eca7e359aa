"""The pure estimator: replay one training step of the MLP, tensor by tensor.

Every rule below was read off torch 2.13 on CPU with ``measure(cfg, "cpu", trace=True)``
(see docs/memory.md); the grid test holds the replay to the byte against the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlprep.memcalc.config import Config
from dlprep.memcalc.optim import state_tensors, step
from dlprep.memcalc.timeline import Peak, Timeline

# What each activation keeps for backward: its output or its input.
SAVES_OUTPUT = {"relu": True, "sigmoid": True, "tanh": True,
                "gelu": False, "silu": False, "leaky_relu": False}
# cuBLAS + cuBLASLt workspace from the caching allocator. Version-dependent and
# NOT calibrated on a GPU yet: torch's documented default CUBLAS_WORKSPACE_CONFIG
# ":4096:2:16:8" is 2 x 4 MiB + 8 x 16 KiB.
CUBLAS_WORKSPACE = 2 * 4096 * 1024 + 8 * 16 * 1024
CUDA_ROUNDING = 512


@dataclass
class Estimate:
    cfg: Config
    weights: int
    buffers: int
    inputs: int
    gradients: int
    optimizer_state: int
    saved_activations: int | None
    peak: int | None
    phase_peaks: dict[str, int] = field(default_factory=dict)
    at_peak: Peak | None = None
    step_temporaries: int = 0
    workspace: int = 0
    peak_floor: int = 0

    @property
    def temporaries(self) -> int | None:
        """Bytes at the peak that are neither state, inputs, gradients nor saved tensors."""
        if self.at_peak is None:
            return None
        return self.at_peak.parts.get("temp", 0)


def static_parts(cfg: Config) -> tuple[int, int, int, int, int]:
    """(weights, buffers, inputs, gradients, optimiser state) in bytes."""
    t = Timeline(0, CUDA_ROUNDING if cfg.device == "cuda" else 1)
    sizes = [n * cfg.param_bytes for n in cfg.param_shapes]
    weights = sum(t.size(s) for s in sizes)
    state = sum(t.size(s) for n in cfg.param_shapes for s in state_tensors(cfg, n))
    buffers = inputs = 0
    if cfg.layers is not None:
        if cfg.norm == "batchnorm":
            for b in cfg.layers[1:-1]:
                buffers += 2 * t.size(b * cfg.param_bytes) + t.size(8)
        x_bytes = 2 if cfg.dtype in ("fp16", "bf16") else 4
        inputs = t.size(cfg.batch * cfg.layers[0] * x_bytes)
        if cfg.loss == "cross_entropy":
            inputs += t.size(cfg.batch * 8)
        else:
            inputs += t.size(cfg.batch * cfg.layers[-1] * x_bytes)
    return weights, buffers, inputs, weights, state


def estimate(cfg: Config) -> Estimate:
    """Every row, the peak and where it happens; activations need ``cfg.layers``."""
    weights, buffers, inputs, grads, state = static_parts(cfg)
    if cfg.layers is None:
        # Without shapes only the step is known, and only for foreach kernels (their
        # temporaries are one list as large as the weights, however they are split).
        rounding = CUDA_ROUNDING if cfg.device == "cuda" else 1
        t = Timeline(weights + grads + state, rounding)
        t.start("backward")
        step(t, cfg)
        temps = t.peak.bytes - t.base if cfg.foreach else 0
        return Estimate(cfg, weights, buffers, inputs, grads, state, None, None,
                        step_temporaries=temps, peak_floor=t.base + temps)
    workspace = CUBLAS_WORKSPACE if cfg.device == "cuda" else 0
    t = Timeline(weights + buffers + inputs + state + workspace,
                 CUDA_ROUNDING if cfg.device == "cuda" else 1)
    loss = _forward(t, cfg)
    grad_keys = _backward(t, cfg, loss)
    start = t.cur
    step(t, cfg)
    total_grads = sum(t.tensors[k].nbytes for k in grad_keys)
    return Estimate(cfg, weights, buffers, inputs, total_grads, state, t.saved_total,
                    t.peak.bytes, dict(t.phase_peaks), t.peak, t.phase_peaks["step"] - start,
                    workspace)


@dataclass
class _Graph:
    """Keys the backward replay needs, per hidden block and per layer."""

    linear: list[dict[str, str | None]] = field(default_factory=list)
    blocks: list[dict[str, list[str]]] = field(default_factory=list)
    loss: dict[str, str | None] = field(default_factory=dict)


def _forward(t: Timeline, cfg: Config) -> _Graph:
    assert cfg.layers is not None
    B, amp, half = cfg.batch, cfg.amp, cfg.dtype in ("fp16", "bf16")
    e = cfg.act_bytes
    stat = 2 if half else 4  # norm statistics: float32 unless the whole model is half
    t.start("forward")
    g = _Graph()
    h: str | None = None  # None is the input batch X: never freed, never counted as saved
    pairs = list(zip(cfg.layers, cfg.layers[1:], strict=False))
    cache: list[str] = []
    for i, (a, b) in enumerate(pairs):
        rec: dict[str, str | None] = {"in": h, "W": None}
        if amp:
            # Autocast casts bias, weight, then (fp32) input; weights stay in its cache.
            cache.append(t.alloc(b * 2, f"Linear {i + 1} bias cast"))
            w = t.alloc(a * b * 2, f"Linear {i + 1} weight cast")
            cache.append(w)
            x = t.alloc(B * a * 2, f"Linear {i + 1} input cast") if h is None else h
            out = t.alloc(B * b * 2, f"Linear {i + 1} output")
            t.save(x)
            # The weight is needed only for the input's gradient: not in the first layer.
            if h is not None:
                t.save(w)
            rec.update({"in": x, "W": w if h is not None else None})
            if h is None:
                t.drop(x)
        else:
            out = t.alloc(B * b * e, f"Linear {i + 1} output")
            if h is not None:
                t.save(h)
        if h is not None:
            t.drop(h)
        g.linear.append(rec)
        h = out
        if i == len(pairs) - 1:
            break
        blk: dict[str, list[str]] = {}
        if cfg.norm != "none":
            name = "LayerNorm" if cfg.norm == "layernorm" else "BatchNorm1d"
            out = t.alloc(B * b * e, f"{name} {i + 1} output")
            n_stat = B if cfg.norm == "layernorm" else b
            mean = t.alloc(n_stat * stat, f"{name} {i + 1} mean")
            rstd = t.alloc(n_stat * stat, f"{name} {i + 1} rstd")
            for k in (h, mean, rstd):
                t.save(k)
            t.drop(mean)
            t.drop(rstd)
            t.drop(h)
            blk["norm"] = [h, mean, rstd]
            h = out
        out = t.alloc(B * b * e, f"{cfg.activation} {i + 1} output")
        keep = out if SAVES_OUTPUT[cfg.activation] else h
        t.save(keep)
        t.drop(h)
        blk["act"] = [keep]
        h = out
        if cfg.dropout > 0:
            mask_bytes = B * b * (1 if cfg.device == "cuda" else e)
            mask = t.alloc(mask_bytes, f"dropout {i + 1} mask")
            out = t.alloc(B * b * e, f"dropout {i + 1} output")
            t.save(mask)
            t.drop(mask)
            t.drop(h)
            blk["dropout"] = [mask]
            h = out
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
        g.loss = {"ls": ls, "tw": tw, "loss": loss}
    else:
        loss = t.alloc(B * C * es, "loss (elementwise storage)")
        t.save(src)
        g.loss = {"src": src, "loss": loss}
    if amp:
        t.drop(src)
    t.drop(h)
    for k in cache:
        t.drop(k)
    return g


def _backward(t: Timeline, cfg: Config, g: _Graph) -> list[str]:
    assert cfg.layers is not None
    B, amp, half = cfg.batch, cfg.amp, cfg.dtype in ("fp16", "bf16")
    e, pb = cfg.act_bytes, cfg.param_bytes
    es = 4 if not half else 2
    C = cfg.layers[-1]
    t.start("backward")
    root = t.alloc(es, "root gradient (ones_like(loss))")
    if cfg.loss == "cross_entropy":
        g1 = t.alloc(B * C * es, "nll_loss backward")
        t.release(g.loss["tw"] or "")
        grad = t.alloc(B * C * es, "log_softmax backward")
        t.drop(g1)
        t.release(g.loss["ls"] or "")
    else:
        grad = t.alloc(B * C * es, "mse_loss backward")
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
            blk = g.blocks[i]
            for part in ("dropout", "act", "norm"):
                if part not in blk:
                    continue
                new = t.alloc(B * b * e, f"{part} {i + 1} backward")
                if part == "norm":
                    grads += [t.alloc(b * pb, f"norm {i + 1} weight grad"),
                              t.alloc(b * pb, f"norm {i + 1} bias grad")]
                t.drop(grad)
                for k in blk[part]:
                    t.release(k)
                grad = new
        rec = g.linear[i]
        le = 2 if amp else e
        new = t.alloc(B * a * le, f"Linear {i + 1} input grad") if i > 0 else ""
        gw = t.alloc(a * b * le, f"Linear {i + 1} weight grad")
        gb = t.alloc(b * le, f"Linear {i + 1} bias grad")
        t.drop(grad)
        if rec["in"] is not None:
            t.release(rec["in"])
        if amp:
            if rec["W"] is not None:
                t.release(rec["W"])
            w32 = t.alloc(a * b * 4, f"Linear {i + 1} weight grad to float32")
            t.drop(gw)
            b32 = t.alloc(b * 4, f"Linear {i + 1} bias grad to float32")
            t.drop(gb)
            gw, gb = w32, b32
        grads += [gw, gb]
        grad = new
    for k in grads:
        t.keep_as_grad(k)
    t.drop(root)
    return grads
