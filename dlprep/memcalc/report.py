"""Rows, tables (80 columns) and JSON for memcalc results (pure Python)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from dlprep.memcalc.estimate import CUBLAS_WORKSPACE, Estimate
from dlprep.memcalc.gpus import CUDA_CONTEXT, Fit
from dlprep.memcalc.optimizers import OPTIMIZERS, state_formula
from dlprep.memcalc.trade import trade

WIDTH = 80


@dataclass
class Row:
    name: str
    bytes: int | None
    formula: str


def human(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def rows(est: Estimate) -> list[Row]:
    cfg = est.cfg
    pb = cfg.param_bytes
    n = cfg.n_params
    out = [Row("weights", est.weights, f"{n:,} params x {pb} B"
               + (" (fp32 under autocast)" if cfg.amp else "")
               + (" (the half model the forward uses)" if cfg.master else ""))]
    if cfg.master:
        out.append(Row("master weights", est.master_weights,
                       f"{n:,} x 4 B fp32 copy owned by the optimiser; updated, then cast "
                       "back into the half weights in place"))
    if est.buffers:
        out.append(Row("buffers", est.buffers, "BatchNorm running mean/var + int64 counter"))
    if cfg.layers is not None:
        xb = 2 if cfg.half else 4
        y = (f"y {cfg.batch}x8 B" if cfg.loss == "cross_entropy"
             else f"y {cfg.batch}x{cfg.layers[-1]}x{xb} B")
        out.append(Row("input batch", est.inputs, f"X {cfg.batch}x{cfg.layers[0]}x{xb} B + {y}"))
    grads = f"one per weight: N x {pb} B"
    if cfg.master:
        grads = ("N x 2 B half (backward) + N x 4 B fp32 copies the step reads "
                 f"({est.master_grads:,} B)")
    out.append(Row("gradients", est.gradients, grads))
    over = "over the fp32 masters: " if cfg.master and cfg.optimizer != "sgd" else ""
    out.append(Row("optimizer state", est.optimizer_state,
                   over + state_formula(OPTIMIZERS[cfg.optimizer], cfg.state_bytes,
                                          cfg.device != "cuda")))
    if est.saved_activations is None:
        hint = ("about one activation map (below) per conv+ReLU layer; exact with --layers"
                if cfg.input_chw else "give --layers 784,512,10 (MLP widths) or --input "
                "CxHxW --channels C")
        out.append(Row("saved activations", None,
                       f"cannot be known from a parameter count: {hint}"))
    else:
        out.append(Row("saved activations", est.saved_activations, saved_formula(est)))
    if est.recomputed:
        tr = trade(est)
        out.append(Row("recomputed saves", tr.recomputed,
                       "the largest block's saves, rebuilt in backward and alive only while "
                       f"its backward runs; costs one more forward of the hidden Linears "
                       f"(+{tr.extra_pct:.0f}% matmul FLOPs)"))
    if cfg.input_chw is not None and cfg.channels is not None:
        c, h, w = cfg.input_chw
        e = cfg.act_bytes
        out.append(Row("activation map", cfg.batch * cfg.channels * h * w * e,
                       f"one conv output: {cfg.batch} x {cfg.channels} x {h} x {w} x {e} B "
                       f"(input {c}x{h}x{w}); each conv+ReLU saves about one"))
    temps = est.temporaries
    label = est.at_peak.label if est.at_peak else ""
    out.append(Row("temporaries at peak", temps,
                   f"live at the peak besides the rows above ({label})" if temps is not None
                   else "unknown without layer shapes"))
    if est.workspace:
        out.append(Row("cuBLAS workspace", est.workspace,
                       "2 x 4 MiB + 8 x 16 KiB, assumed: NOT calibrated on a GPU yet"))
    known = [r.bytes for r in out if r.name != "activation map"]
    total = None if any(b is None for b in known) else sum(b for b in known if b is not None)
    out.append(Row("total of rows", total, "upper bound: not all of it is live at once"
                   if total is not None else "unknown: activations missing"))
    if est.peak is None:
        step_part = " + foreach step temporaries" if est.step_temporaries else ""
        masters = " + master weights" if cfg.master else ""
        out.append(Row("peak", None, f"at least {est.peak_floor:,} B (weights{masters} + "
                       f"gradients + state{step_part}); the rest needs layer shapes"))
    else:
        out.append(Row("peak", est.peak, f"in {est.at_peak.phase if est.at_peak else '?'}"))
    return out


def saved_formula(est: Estimate) -> str:
    cfg = est.cfg
    if cfg.checkpointing and cfg.layers is not None:
        # Every hidden block's output is kept once: as the next block's checkpointed
        # input, or as the last Linear's input.
        widths = " + ".join(map(str, cfg.layers[1:-1]))
        parts = [f"block outputs B x ({widths}) x {cfg.act_bytes} B"]
        if cfg.amp:
            parts.append("last Linear's half weight copy")
        parts.append("log_softmax output + total_weight" if cfg.loss == "cross_entropy"
                     else "loss input")
        return " + ".join(parts) + "; a checkpointed block keeps only its input"
    parts = ["Linear inputs"]
    if cfg.layers is not None and len(cfg.layers) > 2:
        if cfg.norm != "none":
            parts.append(f"{cfg.norm} input + 2 stats")
        which = "output" if cfg.activation in ("relu", "sigmoid", "tanh") else "input"
        parts.append(f"{cfg.activation} {which}")
        if cfg.dropout > 0:
            parts.append("dropout mask (" + ("bool" if cfg.device == "cuda" else "float") + ")")
    if cfg.amp:
        parts.append("half weight copies")
    parts.append("log_softmax output" if cfg.loss == "cross_entropy" else "loss input")
    return "B x (" + " + ".join(parts) + ")"


def why(est: Estimate) -> str:
    if est.at_peak is None or est.peak is None:
        return ""
    p = est.at_peak
    phases = ", ".join(f"{k} {human(v)}" for k, v in est.phase_peaks.items())
    if p.phase == "step":
        copies = (f"the fp32 gradient copies ({human(est.master_grads)}) and "
                  if est.master_grads else "")
        reason = (f"{copies}the optimiser step's temporaries ({human(est.step_temporaries)}, "
                  f"{p.label}) sit on top of weights, gradients and state; small batches "
                  "peak here")
    elif p.phase == "backward":
        held = ("saved activations (block inputs + the recomputed block's saves)"
                if est.cfg.checkpointing else "saved activations")
        reason = (f"{human(p.parts.get('saved', 0))} of {held} are still held "
                  f"while gradients flow ({p.label}); large batches peak here")
    else:
        reason = f"all saved activations are live at the end of the forward ({p.label})"
    return f"Peak by phase: {phases}. Peak in {p.phase}: {reason}."


def table(items: list[Row]) -> str:
    name_w, bytes_w, human_w = 20, 15, 10
    formula_w = WIDTH - name_w - bytes_w - human_w - 3
    head = f"{'row':<{name_w}} {'bytes':>{bytes_w}} {'':>{human_w}} formula"
    lines = [head, "-" * WIDTH]
    for r in items:
        text = f"{r.bytes:,}" if r.bytes is not None else "unknown"
        wrapped = textwrap.wrap(r.formula, formula_w) or [""]
        lines.append(f"{r.name:<{name_w}} {text:>{bytes_w}} {human(r.bytes):>{human_w}} "
                     f"{wrapped[0]}")
        pad = " " * (name_w + bytes_w + human_w + 3)
        lines += [pad + more for more in wrapped[1:]]
    return "\n".join(lines)


def heading(est: Estimate) -> str:
    cfg = est.cfg
    what = ("MLP " + "-".join(map(str, cfg.layers))) if cfg.layers else f"{cfg.n_params:,} params"
    extras = [cfg.activation] if cfg.layers and len(cfg.layers) > 2 else []
    if cfg.layers and len(cfg.layers) > 2 and cfg.norm != "none":
        extras.append(cfg.norm)
    if cfg.layers and len(cfg.layers) > 2 and cfg.dropout:
        extras.append(f"dropout {cfg.dropout:g}")
    if cfg.checkpointing:
        extras.append("checkpointed blocks")
    opt = cfg.optimizer + ("" if cfg.foreach else " (per-tensor)")
    line = (f"{what}, batch {cfg.batch}, {', '.join([*extras, cfg.loss, opt, cfg.dtype])}, "
            f"{cfg.device} rules")
    return "\n".join(textwrap.wrap(line, WIDTH))


def wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, WIDTH))


def cuda_notes(est: Estimate) -> str:
    if est.cfg.device != "cuda":
        return ""
    return wrap(f"CUDA context: about {human(CUDA_CONTEXT)} more per process, outside "
                "max_memory_allocated (an assumption, not calibrated on a GPU yet). "
                "Allocations are rounded up to 512 B each.")


def fit_text(fit: Fit) -> str:
    if fit.batch is None:
        return wrap(f"GPU {fit.gpu} ({human(fit.capacity)}): {fit.reason}.")
    est = fit.estimate
    assert est is not None and est.peak is not None
    verb = "dominate" if fit.dominant.split(" (")[0].endswith("s") else "dominates"
    return wrap(f"GPU {fit.gpu} ({human(fit.capacity)}, {human(fit.usable)} after an assumed "
                f"{human(CUDA_CONTEXT)} CUDA context): largest batch {fit.batch:,} "
                f"(peak {human(est.peak)} in {est.at_peak.phase if est.at_peak else '?'}); "
                f"{fit.dominant} {verb}.")


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


def to_json(est: Estimate, fit: Fit | None = None, meas: Any = None) -> dict[str, Any]:
    cfg = est.cfg
    out: dict[str, Any] = {
        "config": {"layers": list(cfg.layers) if cfg.layers else None, "params": cfg.n_params,
                   "batch": cfg.batch, "activation": cfg.activation, "dropout": cfg.dropout,
                   "norm": cfg.norm, "loss": cfg.loss, "optimizer": cfg.optimizer,
                   "foreach": cfg.foreach, "dtype": cfg.dtype, "device": cfg.device,
                   "weight_decay": cfg.weight_decay, "checkpointing": cfg.checkpointing},
        "rows": [{"name": r.name, "bytes": r.bytes, "formula": r.formula} for r in rows(est)],
        "peak": est.peak,
        "peak_at_least": est.peak_floor if est.peak is None else est.peak,
        "peak_phase": est.at_peak.phase if est.at_peak else None,
        "phase_peaks": est.phase_peaks,
        "why": why(est) or None,
    }
    if est.recomputed:
        tr = trade(est)
        out["checkpointing"] = {
            "saved_without": tr.saved_without, "peak_without": tr.peak_without,
            "recomputed_per_block": {str(k + 1): v for k, v in sorted(est.recomputed.items())},
            "extra_forward_flops": tr.extra_flops, "step_matmul_flops": tr.step_flops}
    if cfg.device == "cuda":
        out["cuda"] = {"context_assumed": CUDA_CONTEXT, "cublas_workspace": CUBLAS_WORKSPACE,
                       "calibrated": False}
    if fit is not None:
        out["gpu"] = {"name": fit.gpu, "capacity": fit.capacity, "usable": fit.usable,
                      "largest_batch": fit.batch, "dominant": fit.dominant,
                      "peak": fit.estimate.peak if fit.estimate else None,
                      "note": fit.reason or None}
    if meas is not None:
        keys = ("weights", "master_weights", "buffers", "inputs", "gradients",
                "optimizer_state", "saved_activations", "peak")
        out["measured"] = {"device": meas.device, **{k: getattr(meas, k) for k in keys},
                           "phase_peaks": meas.phase_peaks}
        out["error_bytes"] = {k: (getattr(est, k) or 0) - getattr(meas, k) for k in keys}
    return out
