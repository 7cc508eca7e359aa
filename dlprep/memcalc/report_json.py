"""memcalc's ``--json``: the same rows, peak and verdicts as the printed tables (pure Python)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dlprep.memcalc.estimate import CUBLAS_WORKSPACE, Estimate
from dlprep.memcalc.gpus import CUDA_CONTEXT, MARGIN, Fit
from dlprep.memcalc.report import optimizer_note, rows, why
from dlprep.memcalc.trade import trade
from dlprep.memcalc.zero import Sharded


def to_json(est: Estimate, fit: Fit | None = None, meas: Any = None) -> dict[str, Any]:
    cfg = est.cfg
    out: dict[str, Any] = {
        "config": {"layers": list(cfg.layers) if cfg.layers else None, "params": cfg.n_params,
                   "batch": cfg.batch, "activation": cfg.activation, "dropout": cfg.dropout,
                   "norm": cfg.norm, "loss": cfg.loss, "optimizer": cfg.optimizer,
                   "foreach": cfg.foreach, "dtype": cfg.dtype, "device": cfg.device,
                   "weight_decay": cfg.weight_decay, "checkpointing": cfg.checkpointing,
                   "gpt": asdict(cfg.gpt) if cfg.gpt else None, "seq": cfg.seq or None,
                   "attention": cfg.attention if cfg.gpt else None,
                   "code_style": cfg.code if cfg.gpt else None},
        "rows": [],
        "peak": est.peak,
        "peak_at_least": est.peak_floor if est.peak is None else est.peak,
        "peak_phase": est.at_peak.phase if est.at_peak else None,
        "phase_peaks": est.phase_peaks,
        "why": why(est) or None,
        "optimizer_note": optimizer_note(est) or None,
    }
    r = None
    if est.peak is None and cfg.input_chw is None:
        from dlprep.memcalc.guess import ASSUMPTION, peak_range

        r = peak_range(cfg)
        if r is not None:
            out["peak_range"] = {"low": r.low.peak, "high": r.high.peak,
                                 "low_layers": r.low.cfg.layers, "high_layers": r.high.cfg.layers,
                                 "assumption": ASSUMPTION, "fixed": r.fixed}
    out["rows"] = [{"name": x.name, "bytes": x.bytes, "formula": x.formula}
                   for x in rows(est, r)]
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
                      "margin": MARGIN, "cuda_context_assumed": CUDA_CONTEXT,
                      "largest_batch": fit.batch, "dominant": fit.dominant,
                      "headroom": fit.headroom,
                      "note": fit.reason or None}
    if meas is not None:
        keys = ("weights", "master_weights", "buffers", "inputs", "gradients",
                "optimizer_state", "saved_activations", "peak")
        out["measured"] = {"device": meas.device, **{k: getattr(meas, k) for k in keys},
                           "phase_peaks": meas.phase_peaks}
        out["error_bytes"] = {k: (getattr(est, k) or 0) - getattr(meas, k) for k in keys}
    return out


def with_gpus(out: dict[str, Any], sharded: Sharded) -> dict[str, Any]:
    """One peak at the top, the answer (per GPU); one GPU's replay goes under its name."""
    from dlprep.memcalc.report_scale import zero_json, zero_rows

    keys = ("rows", "peak", "peak_at_least", "peak_phase", "phase_peaks", "why")
    out["one_gpu"] = {k: out.pop(k) for k in keys if k in out}
    out["rows"] = [{"name": r.name, "bytes": r.bytes, "formula": r.formula}
                   for r in zero_rows(sharded)]
    out["peak"] = sharded.peak
    out["gpus"] = zero_json(sharded)
    return out
