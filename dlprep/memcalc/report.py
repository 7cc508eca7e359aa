"""Rows, tables (80 columns) and JSON for memcalc results (pure Python)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from dlprep.memcalc.config import MAX_BATCH, Config
from dlprep.memcalc.estimate import Estimate
from dlprep.memcalc.gpus import CUDA_CONTEXT, MARGIN, Fit
from dlprep.memcalc.guess import Range
from dlprep.memcalc.optimizers import OPTIMIZERS, state_formula
from dlprep.memcalc.shape import GPT
from dlprep.memcalc.units import human

WIDTH = 80


@dataclass
class Row:
    name: str
    bytes: int | None
    formula: str
    short: str = ""  # what the table prints when the formula would wrap (JSON: formula)


def rows(est: Estimate, rng: Range | None = None) -> list[Row]:
    """The table: what is held, each with a short formula; the last row is the answer
    (for a bare parameter count, ``rng``: the peak range from assumed shapes)."""
    cfg = est.cfg
    pb = cfg.param_bytes
    n = cfg.n_params
    out = [Row("weights", est.weights, f"{n:,} x {pb} B" + (" (fp32, autocast)" if cfg.amp
                                                             else ""))]
    if cfg.master:
        out.append(Row("master weights", est.master_weights, f"{n:,} x 4 B fp32 copy"))
    if est.buffers:
        out.append(Row("buffers", est.buffers, buffers_formula(cfg)
                       if cfg.gpt else "BatchNorm running mean/var + counter"))
    if cfg.gpt is not None:
        out.append(Row("input batch", est.inputs, f"ids + targets {cfg.batch}x{cfg.seq}x8 B"))
    elif cfg.layers is not None:
        xb = 2 if cfg.half else 4
        y = (f"y {cfg.batch}x8" if cfg.loss == "cross_entropy"
             else f"y {cfg.batch}x{cfg.layers[-1]}x{xb}")
        out.append(Row("input batch", est.inputs, f"X {cfg.batch}x{cfg.layers[0]}x{xb} + {y} B"))
    grads = f"N x {pb} B, one per weight"
    trained = sum(cfg.trained_shapes) if cfg.gpt is not None else n
    if trained != n:
        grads = f"{trained:,} x {pb} B (not the pooler)"
    if cfg.master:
        grads = "N x 2 B + N x 4 B fp32 copies"
    out.append(Row("gradients", est.gradients, grads))
    opt, step = OPTIMIZERS[cfg.optimizer], cfg.device != "cuda"
    out.append(Row("optimizer state", est.optimizer_state,
                   state_formula(opt, cfg.state_bytes, step),
                   state_formula(opt, cfg.state_bytes, step, names=False)))
    if est.saved_activations is None:
        out.append(Row("saved activations", None, "depend on shapes: range below"
                       if cfg.input_chw is None else "see the activation map"))
    else:
        full = saved_formula(est)
        out.append(Row("saved activations", est.saved_activations, full,
                       full.removesuffix("/loss").removeprefix("block outputs ")))
    if est.recomputed:
        out.append(Row("recomputed saves", max(est.recomputed.values()),
                       "largest block's, rebuilt in backward"))
    if cfg.input_chw is not None and cfg.channels is not None:
        c, h, w = cfg.input_chw
        e = cfg.act_bytes
        out.append(Row("activation map", cfg.batch * cfg.channels * h * w * e,
                       f"{cfg.batch} x {cfg.channels} x {h} x {w} x {e} B (one conv)"))
    if est.temporaries is not None:
        out.append(Row("temporaries", est.temporaries, TEMP_ROWS.get(
            est.at_peak.phase if est.at_peak else "", "at the peak")))
    if est.workspace:
        out.append(Row("cuBLAS workspace", est.workspace, "assumed, not calibrated on a GPU"))
    if est.peak is None and rng is not None and rng.low.peak and rng.high.peak:
        out.append(Row("PEAK", None, f"{human(rng.low.peak)} to {human(rng.high.peak)} if "
                       "shaped as below"))
    elif est.peak is None:
        more = "+ maps, below" if cfg.input_chw else "range below"
        out.append(Row("PEAK", None, f"at least {human(est.peak_floor)}; {more}"))
    else:
        phase = est.at_peak.phase if est.at_peak else "?"
        out.append(Row("PEAK", est.peak, f"in {phase}: what must fit"))
    return out


# The table's row (short, one line) and the prose under it say the same thing.
TEMP_ROWS = {"backward": "at the peak: gradients in flight",
             "step": "at the peak: optimiser step buffers",
             "forward": "at the peak: forward intermediates"}
TEMPS = {"backward": "gradients in flight (not yet .grad)",
         "step": "the optimiser step's temporaries",
         "forward": "intermediates of the forward"}


def saved_formula(est: Estimate) -> str:
    cfg = est.cfg
    if cfg.gpt is not None:
        return gpt_saved_formula(est)
    if cfg.checkpointing and cfg.layers is not None:
        widths = "+".join(map(str, cfg.layers[1:-1]))
        return f"block outputs B x ({widths}) x {cfg.act_bytes} B + loss"
    parts = ["Linear in"]
    if cfg.layers is not None and len(cfg.layers) > 2:
        if cfg.norm != "none":
            parts.append("norm in+stats")
        parts.append("act " + ("out" if cfg.activation in ("relu", "sigmoid", "tanh")
                               else "in"))
        if cfg.dropout > 0:
            parts.append("mask")
    if cfg.amp:
        parts.append("half W")
    parts.append("log_softmax" if cfg.loss == "cross_entropy" else "logits")
    return "B x (" + ", ".join(parts) + ")"


def gpt_saved_formula(est: Estimate) -> str:
    g = est.cfg.gpt
    assert g is not None and est.saved_activations is not None
    per = est.saved_per_block
    if not per:
        return ""
    rest = est.saved_activations - per * g.n_layer
    return f"{g.n_layer} blocks x {human(per)} + {human(rest)} head/loss"


def why(est: Estimate) -> str:
    """What the peak is made of and why it lands in its phase (no internal labels)."""
    if est.at_peak is None or est.peak is None:
        return ""
    p = est.at_peak
    phases = ", ".join(f"{k} {human(v)}" for k, v in est.phase_peaks.items())
    fixed = est.peak - sum(p.parts.values())
    held = [f"{human(fixed)} weights, state and batch"] + [
        f"{human(p.parts[key])} {what}" for key, what in (
            ("grad", "gradients so far"), ("saved", "saved activations"),
            ("temp", TEMPS.get(p.phase, "temporaries"))) if p.parts.get(key)]
    if p.phase == "step":
        reason = "the optimiser's temporaries sit on top of everything kept; small batches " \
            "peak here"
    elif p.phase == "backward" and p.parts.get("saved"):
        reason = "saved activations are still held while gradients flow; large batches " \
            "peak here"
    elif p.phase == "backward":
        reason = "gradients are made on top of everything kept"
    else:
        reason = "every saved activation is live at the end of the forward"
    return (f"The peak, {human(est.peak)} in {p.phase}, is {', '.join(held)}: {reason}. "
            f"Peak by phase: {phases}.")


def table(items: list[Row]) -> str:
    texts = [f"{r.bytes:,}" if r.bytes is not None else "unknown" for r in items]
    # Columns as wide as their longest entry, so the formula keeps the rest of the line
    # (one line for the usual rows) and a huge number widens its column, never breaks it.
    name_w = max(len("row"), *(len(r.name) for r in items))
    bytes_w = max(len("bytes"), *map(len, texts))
    sizes = [human(r.bytes) if r.bytes is not None else "" for r in items]  # no "?" column
    human_w = max(map(len, sizes)) + 1
    formula_w = WIDTH - name_w - bytes_w - human_w - 3
    head = f"{'row':<{name_w}} {'bytes':>{bytes_w}} {'':>{human_w}} formula"
    lines = [head, "-" * WIDTH]
    for r, text, size in zip(items, texts, sizes, strict=True):
        fits = len(r.formula) <= formula_w or not r.short
        wrapped = textwrap.wrap(r.formula if fits else r.short, formula_w,
                                break_on_hyphens=False) or [""]
        lines.append(f"{r.name:<{name_w}} {text:>{bytes_w}} {size:>{human_w}} "
                     f"{wrapped[0]}")
        pad = " " * (name_w + bytes_w + human_w + 3)
        lines += [pad + more for more in wrapped[1:]]
    return "\n".join(lines)


def heading(est: Estimate) -> str:
    cfg = est.cfg
    if cfg.gpt is not None:
        return gpt_heading(est)
    what = ("MLP " + "-".join(map(str, cfg.layers))) if cfg.layers else f"{cfg.n_params:,} params"
    extras = [cfg.activation] if cfg.layers and len(cfg.layers) > 2 else []
    if cfg.layers and len(cfg.layers) > 2 and cfg.norm != "none":
        extras.append(cfg.norm)
    if cfg.layers and len(cfg.layers) > 2 and cfg.dropout:
        extras.append(f"dropout {cfg.dropout:g}")
    if cfg.checkpointing:
        extras.append("checkpointed blocks")
    opt = optimizer_name(cfg)
    line = (f"{what}, batch {cfg.batch:,}, {', '.join([*extras, cfg.loss, opt, cfg.dtype])}, "
            f"{cfg.device} rules")
    return wrap(line)


def buffers_formula(cfg: Config) -> str:
    """A GPT's buffers: math attention's causal masks, the MoE rig's routing indices."""
    g = cfg.gpt
    assert g is not None
    parts = ["causal mask T x T x 1 B per block"] if g.causal and cfg.attention == "math" \
        else []
    if g.n_experts:
        parts.append("routing indices 3 x B x T x k x 8 B")
    return " + ".join(parts)


def gpt_heading(est: Estimate) -> str:
    cfg = est.cfg
    g = cfg.gpt
    assert g is not None
    heads = f"{g.n_head} heads" + (f" ({g.kv_heads} KV)" if g.kv_heads != g.n_head else "")
    kind = ("encoder" if not g.causal else "GPT")
    line = (f"{kind} {g.n_layer} x d{g.d_model}, {heads}, d_ff {g.ff}, vocab {g.vocab} "
            f"({cfg.n_params:,} params{_experts(g)}), batch {cfg.batch:,} x seq {cfg.seq}, "
            f"{g.norm}, "
            f"{g.mlp}, {cfg.attention} attention, {'tied' if g.tied else 'untied'} head, "
            f"{optimizer_name(cfg)}, {cfg.dtype}"
            f"{', hf code (wpe(arange), loss in forward)' if cfg.code == 'hf' else ''}"
            f"{', checkpointed blocks' if cfg.checkpointing else ''}, {cfg.device} rules")
    return wrap(line)


def _experts(g: GPT) -> str:
    if not g.n_experts:
        return ""
    return (f"; {g.n_experts} experts, top {g.top_k}: {g.active_params():,} active per "
            "token")


def wrap(text: str) -> str:
    # Never split "per-tensor" or "bf16-master" across lines.
    return "\n".join(textwrap.wrap(text, WIDTH, break_on_hyphens=False))


def optimizer_name(cfg: Config) -> str:
    """``adam`` or ``adam (per-tensor)``; bitsandbytes' kernels have no such choice."""
    per_tensor = not cfg.foreach and OPTIMIZERS[cfg.optimizer].library == "torch"
    return cfg.optimizer + (" (per-tensor)" if per_tensor else "")


def optimizer_note(est: Estimate) -> str:
    """What the chosen optimiser keeps and how it was counted (the table's one entry)."""
    note = OPTIMIZERS[est.cfg.optimizer].note
    return f"{note}." if note else ""


def cuda_notes(est: Estimate) -> str:
    if est.cfg.device != "cuda":
        return ""
    return wrap(f"CUDA context: about {human(CUDA_CONTEXT)} more per process, outside "
                "max_memory_allocated (an assumption, not calibrated on a GPU yet). "
                "Allocations are rounded up to 512 B each; dropout masks are bool "
                "(1 B per element).")


def fit_text(fit: Fit) -> str:
    budget = (f"{human(fit.capacity)} as the card reports it, less {MARGIN:.0%} kept free "
              f"for the caching allocator and an assumed {human(CUDA_CONTEXT)} CUDA context: "
              f"{human(fit.usable, 4)} usable")
    if fit.batch is None:
        return wrap(f"GPU {fit.gpu}: {budget}. {fit.reason[0].upper()}{fit.reason[1:]}.")
    est = fit.estimate
    assert est is not None and est.peak is not None
    verb = "dominate" if fit.dominant.split(" (")[0].endswith("s") else "dominates"
    limit = (f" (memcalc searches up to {MAX_BATCH:,}; a larger one would fit too)"
             if fit.batch >= MAX_BATCH else "")
    return wrap(f"GPU {fit.gpu}: {budget}. Largest batch {fit.batch:,}{limit} (the table "
                "above): "
                f"peak {human(est.peak, 4)} in {est.at_peak.phase if est.at_peak else '?'}, "
                f"{human(fit.headroom)} of headroom left; {fit.dominant} {verb}.")


def compare(est: Estimate, meas: Any) -> str:
    pairs: list[tuple[str, int | None, int]] = [("weights", est.weights, meas.weights)]
    if est.cfg.master:
        pairs.append(("master weights", est.master_weights, meas.master_weights))
    pairs += [("buffers", est.buffers, meas.buffers),
             ("input batch", est.inputs, meas.inputs),
             ("gradients", est.gradients, meas.gradients),
             ("optimizer state", est.optimizer_state, meas.optimizer_state),
             ("saved activations", est.saved_activations, meas.saved_activations)]
    pairs += [(f"peak: {k}", est.phase_peaks.get(k), v) for k, v in meas.phase_peaks.items()]
    pairs.append(("peak", est.peak, meas.peak))
    lines = [f"{'row':<20} {'estimate':>15} {'measured':>15} {'error B':>13} {'error':>9}",
             "-" * WIDTH]
    for name, e, m in pairs:
        err = (e or 0) - m
        pct = f"{100 * err / m:+.3f}%" if m else "-"
        lines.append(f"{name:<20} {e if e is not None else 0:>15,} {m:>15,} {err:>+13,} "
                     f"{pct:>9}")
    return "\n".join(lines)
