"""Tables and JSON for LoRA and QLoRA (pure Python): the replayed step (the GPT walk
with frozen and adapted Linears), its model states from ``lora.py``, and full
fine-tuning's peak beside it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import Estimate
from dlprep.memcalc.lora import Lora
from dlprep.memcalc.report import Row, human, rows, wrap
from dlprep.memcalc.report_json import to_json

QLORA = ("QLoRA (Dettmers et al., NeurIPS 2023): each block Linear's weight in 4-bit "
         "NormalFloat, one absmax per 64 weights, double-quantised to 8 bits with one fp32 "
         "constant per 256 blocks: 4.127 bits per weight")
NF4_MODELLED = ("bitsandbytes' MatMul4Bit dequantises each 4-bit weight into a d_in x "
                "d_out temporary in the compute dtype for the matmul, in forward and again "
                "for the input gradient; PEFT clones each adapted 4-bit output before "
                "adding the adapter's")
NF4_NOT_MODELLED = ("the quantisation state's small code tables, bitsandbytes' CUDA kernel "
                    "workspaces, its batch-1 inference kernel (paged optimisers: --optimizer "
                    "paged_adamw)")


def lora_rows(cfg: Config, lo: Lora, est: Estimate) -> list[Row]:
    """``report.rows`` of the LoRA step, with the rows a frozen base words differently: the
    weights split into base and adapters, and masters, gradients and saves of adapters only."""
    pb = cfg.param_bytes
    if lo.base_dtype == "nf4":
        base = Row("base weights", lo.base_bytes,
                   "frozen; block Linears NF4, 4.127 bits per weight (QLoRA), the rest "
                   f"{pb} B", "NF4 Linears at 4.127 bit (QLoRA)")
    else:
        base = Row("base weights", lo.base_bytes, f"{cfg.n_params:,} x {pb} B, frozen")
    each = "target and expert" if cfg.gpt is not None and cfg.gpt.n_experts else "target"
    adapters = Row("adapters", lo.adapter_bytes,
                   f"N = {lo.adapter_params:,} = L x r x (d_in + d_out) per {each}, {pb} B",
                   f"N = L x r x (d_in + d_out) x {pb} B")
    own = {
        "master weights": Row("master weights", lo.master_weights, "N x 4 B fp32 adapter copy"),
        "gradients": Row("gradients", est.gradients, f"adapters only: N x {pb} B" +
                         (" + N x 4 B fp32 copies" if lo.master_weights else ""),
                         f"N x {pb} B + N x 4 B fp32" if lo.master_weights else ""),
        "saved activations": Row("saved activations", est.saved_activations,
                                 "adapters' inputs and A x; frozen Linears keep no input; "
                                 "block 1 least", "frozen Linears keep no input"),
    }
    out: list[Row] = []
    for row in rows(est):
        if row.name == "weights":
            out += [base, adapters]
        elif row.name == "optimizer state" and cfg.master and cfg.optimizer != "sgd":
            out.append(replace(row, formula="fp32: " + row.formula))
        else:
            out.append(own.get(row.name, row))
    return out


def lora_heading(cfg: Config, lo: Lora) -> str:
    kind = "QLoRA" if lo.base_dtype == "nf4" else "LoRA"
    return wrap(f"{kind} rank {lo.rank} on {','.join(lo.targets)} (no adapter dropout): "
                f"{cfg.n_params:,} params frozen, {lo.adapter_params:,} trained "
                f"({100 * lo.adapter_params / cfg.n_params:.2f}%).")


def lora_notes(cfg: Config, lo: Lora, est: Estimate, full: Estimate) -> str:
    """Full fine-tuning beside it, checkpointing's effect, and for QLoRA what is a
    formula, what is replayed and what is not modelled."""
    states = full.weights + full.master_weights + full.gradients + full.optimizer_state
    text = (f"Full fine-tuning of the same step: {states:,} B of model states, peak "
            f"{human(full.peak)}; LoRA: {lo.model_states:,} B of model states, peak "
            f"{human(est.peak)}.")
    if est.recomputed:
        from dlprep.memcalc.estimate import estimate

        plain = estimate(replace(cfg, checkpointing=False))
        text += (f" Checkpointing: saved activations {est.saved_activations:,} B instead "
                 f"of {plain.saved_activations:,} B; peak {est.peak:,} B instead of "
                 f"{plain.peak:,} B.")
    if lo.base_dtype == "nf4":
        text += (f" Base weights by formula: {QLORA}. The step is replayed with QLoRA's "
                 f"temporaries ({NF4_MODELLED}); not modelled: {NF4_NOT_MODELLED}. The "
                 "4-bit rows are not checked against a run; the same step with a bf16/fp32 "
                 "base is (--measure).")
    elif _bert_extras(cfg):
        text += (" This preset's BERT extras (segment embedding, embedding norm, pooler, "
                 "post-norm) are frozen and not replayed; the rig builds pre-norm blocks.")
    else:
        text += " Exact on CPU to the byte against a real LoRA step (--measure)."
    return wrap(text)


def _bert_extras(cfg: Config) -> bool:
    g = cfg.gpt
    return g is not None and bool(g.token_types or g.embed_norm or g.pooler
                                  or not g.final_norm)


def lora_json(est: Estimate, lo: Lora, full: Estimate, fit: Any = None,
              meas: Any = None) -> dict[str, Any]:
    """``report.to_json`` of the LoRA step (one ``peak``) with its LoRA rows and facts."""
    cfg = est.cfg
    out = to_json(est, fit, meas)
    out["rows"] = [{"name": r.name, "bytes": r.bytes, "formula": r.formula}
                   for r in lora_rows(cfg, lo, est)]
    out.pop("checkpointing", None)  # trade()'s FLOPs assume full fine-tuning
    out["lora"] = {"rank": lo.rank, "targets": list(lo.targets), "base_dtype": lo.base_dtype,
                   "base_bytes": lo.base_bytes, "quantised_params": lo.quantised_params,
                   "adapter_params": lo.adapter_params, "adapter_bytes": lo.adapter_bytes,
                   "master_weights": lo.master_weights, "gradients": lo.gradients,
                   "optimizer_state": lo.optimizer_state, "model_states": lo.model_states,
                   "full_finetune_peak": full.peak,
                   "exact": lo.base_dtype != "nf4" and not _bert_extras(cfg)}
    if lo.base_dtype == "nf4":
        out["lora"].update({"base_formula": QLORA, "modelled": NF4_MODELLED,
                            "not_modelled": NF4_NOT_MODELLED})
    return out
