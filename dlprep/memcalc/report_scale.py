"""Tables for inference (KV cache) and for ZeRO/FSDP across GPUs (pure Python)."""

from __future__ import annotations

from typing import Any

from dlprep.memcalc.config import Config
from dlprep.memcalc.inference import Inference
from dlprep.memcalc.report import Row, buffers_formula, human, table, wrap
from dlprep.memcalc.zero import NOT_MODELLED, Sharded

STAGES = {0: "plain data parallel (every GPU holds everything)",
          1: "optimiser states partitioned",
          2: "optimiser states and gradients partitioned",
          3: "weights, gradients and optimiser states partitioned (= FSDP full sharding)"}


def inference_rows(cfg: Config, inf: Inference) -> list[Row]:
    g = cfg.gpt
    assert g is not None
    e = inf.element
    return [
        Row("weights", inf.weights, f"{cfg.n_params:,} params x {e} B"),
        *([Row("buffers", inf.buffers, buffers_formula(cfg))]
          if inf.buffers else []),
        Row("KV cache", inf.kv_cache, f"2 x {g.n_layer} layers x {g.kv_heads} KV heads x "
            f"{g.head_dim} x seq {cfg.seq} x batch {cfg.batch} x {e} B",
            f"2 x {g.n_layer} x {g.kv_heads} x {g.head_dim} x {cfg.seq} x {cfg.batch} x {e} B")
        if g.causal else Row("KV cache", 0, "none: an encoder reads its input in one pass"),
        Row("activations", inf.activations, "no-grad forward's peak"),
        *([Row("cuBLAS workspace", inf.workspace, "assumed, not calibrated on a GPU")]
          if inf.workspace else []),
        Row("PEAK", inf.peak, "all the rows above, held at once"),
    ]


def inference_text(cfg: Config, inf: Inference) -> str:
    g = cfg.gpt
    assert g is not None
    head = wrap(f"Inference: {g.n_layer}-layer GPT ({cfg.n_params:,} params), batch "
                f"{cfg.batch:,} x seq {cfg.seq}, {cfg.dtype}, {cfg.attention} attention, "
                f"{cfg.device} rules")
    cache = ("The KV cache is exact arithmetic: 2 (K and V) x layers x KV heads x head "
             "dim x seq x batch x bytes." if g.causal else "An encoder attends both ways "
             "over its whole input in one forward and generates nothing token by token: "
             "it keeps no KV cache.")
    gqa = (f" Grouped-query attention keeps {g.kv_heads} of {g.n_head} heads' K/V: "
           f"{g.n_head // g.kv_heads}x less cache than multi-head."
           if g.kv_heads != g.n_head and g.causal else "")
    notes = wrap(cache + " The activation row replays the training "
                 "forward without autograd over the whole prompt (a prefill scoring every "
                 "position); on CPU it equals a real no-grad forward to the byte. CUDA "
                 "rules round every tensor up to 512 B and add an assumed cuBLAS "
                 "workspace (not calibrated on a GPU)." + gqa)
    return "\n\n".join([head, table(inference_rows(cfg, inf)), notes])


def inference_json(cfg: Config, inf: Inference) -> dict[str, Any]:
    return {"config": {"params": cfg.n_params, "batch": cfg.batch, "seq": cfg.seq,
                       "dtype": cfg.dtype, "device": cfg.device},
            "rows": [{"name": r.name, "bytes": r.bytes, "formula": r.formula}
                     for r in inference_rows(cfg, inf)],
            "weights": inf.weights, "buffers": inf.buffers, "kv_cache": inf.kv_cache,
            "activations": inf.activations, "cublas_workspace": inf.workspace,
            "peak": inf.peak}


def zero_rows(s: Sharded) -> list[Row]:
    n = s.gpus
    part = {True: f"/ {n} GPUs", False: "whole on every GPU"}
    rows = [Row("weights", s.weights, part[s.stage >= 3]),
            Row("gradients", s.gradients, part[s.stage >= 2])]
    if s.master_weights:
        rows.append(Row("master weights", s.master_weights, part[s.stage >= 1]))
    rows.append(Row("optimizer state", s.optimizer_state, part[s.stage >= 1]))
    rows.append(Row("model states", s.model_states, "the ZeRO paper's sum (per GPU)"))
    if s.grad_copies:
        rows.append(Row("fp32 grad copies", s.grad_copies, "made for the step; " +
                        part[s.stage >= 1]))
    if s.gathered:
        rows.append(Row("gathered unit", s.gathered, "largest block or embedding, whole"))
    if s.peak is None and s.peak_range is not None:
        lo, hi = s.peak_range
        rows.append(Row("PEAK per GPU", None, f"{human(lo)} to {human(hi)} if shaped as "
                        "above"))
    else:
        rows.append(Row("PEAK per GPU", s.peak, "with activations (not partitioned)"
                        if s.peak is not None else "unknown: activations need shapes"))
    return rows


def zero_text(s: Sharded) -> str:
    head = wrap(f"Across {s.gpus} GPUs, ZeRO stage {s.stage}: {STAGES[s.stage]}. Model "
                f"states per GPU: {s.model_states / 1e9:.3g} GB (10^9 B, the ZeRO paper's "
                "unit). Per GPU:")
    note = wrap("The per-GPU peak applies the partitioning to the single-GPU replay; "
                f"not modelled: {NOT_MODELLED}.")
    return "\n\n".join([head, table(zero_rows(s)), note])


def zero_json(s: Sharded) -> dict[str, Any]:
    return {"gpus": s.gpus, "zero_stage": s.stage, "weights": s.weights,
            "gradients": s.gradients, "master_weights": s.master_weights,
            "optimizer_state": s.optimizer_state, "model_states": s.model_states,
            "grad_copies": s.grad_copies, "gathered_block": s.gathered, "peak": s.peak,
            "peak_range": list(s.peak_range) if s.peak_range else None,
            "not_modelled": NOT_MODELLED}

