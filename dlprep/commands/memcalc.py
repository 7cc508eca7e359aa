"""`dlprep memcalc`: the GPU memory a training step needs, checked against a real run."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import click
from click.core import ParameterSource

from dlprep.commands._click import run
from dlprep.memcalc.config import (
    ACTIVATIONS,
    ATTENTIONS,
    DTYPES,
    GPT_MLPS,
    LOSSES,
    NORMS,
    OPTIMIZERS,
    Config,
    ConfigError,
)
from dlprep.memcalc.options import config_from, one_question


class OneLineCommand(click.Command):
    """Usage errors print one ``Error: ...`` line (no usage block) and exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = None
            raise


class BadInput(click.ClickException):
    """Bad sizes or names: one ``Error: ...`` line, exit 2 like any usage error."""

    exit_code = 2


def _fail(message: str) -> BadInput:
    return BadInput(message)


@click.command(cls=OneLineCommand, help=(
    "Compute the memory one training step needs: weights, gradients, optimiser state, "
    "activations saved for backward, temporaries and the peak (by phase), each with its "
    "formula. Exact on CPU for the MLPs and GPTs it describes; --measure checks it against "
    "a real run. Rules and worked examples: docs/memory.md.\n\n\b\nExamples:\n"
    "  dlprep memcalc --params 1e6 --batch 32\n"
    "  dlprep memcalc --layers 784,512,10 --batch 64 --measure\n"
    "  dlprep memcalc --layers 784,4096,4096,10 --gpu 'RTX 4090'\n"
    "  dlprep memcalc --n-layer 2 --d-model 64 --n-head 4 --seq 32 --vocab 100\n"
    "  dlprep memcalc --model llama-3-8b --seq 4096 --batch 1 --dtype bf16-master\n"
    "  dlprep memcalc --model llama-3-8b --seq 8192 --dtype bf16 --inference\n"
    "  dlprep memcalc --model llama-3-8b --seq 2048 --dtype bf16 --lora-rank 16\n"
    "  dlprep memcalc --params 7.5e9 --dtype bf16-master --gpus 64 --zero 3\n"
    "  dlprep memcalc --list-models"))
@click.option("--params", help="Parameter count, e.g. 1e6 or 350M (no layer shapes).")
@click.option("--layers", help="MLP widths, e.g. 784,512,512,10 (parameters computed).")
@click.option("--model", help="A published transformer (see --list-models).")
@click.option("--hf-config", type=click.Path(dir_okay=False), default=None,
              help="A Hugging Face config.json (llama, mistral, qwen2, gemma, gpt2, bert) "
              "instead of --model; its torch_dtype is the default --dtype.")
@click.option("--list-models", is_flag=True, help="List --model presets with their sources.")
@click.option("--arch", type=click.Choice(("mlp", "gpt")), default=None,
              help="Model family (default: gpt with --model or GPT options, else mlp).")
@click.option("--batch", help="Batch size (per GPU; default 32, or 1 with --model).")
@click.option("--seq", help="GPT: tokens per sequence (default: the model's context, or 128).")
@click.option("--n-layer", type=int, help="GPT: blocks.")
@click.option("--d-model", type=int, help="GPT: width of the residual stream.")
@click.option("--n-head", type=int, help="GPT: attention heads.")
@click.option("--n-kv-head", type=int, default=0, help="GPT: K/V heads (grouped-query).")
@click.option("--d-ff", type=int, default=0, help="GPT: MLP width (default 4 x d-model).")
@click.option("--vocab", type=int, help="GPT: vocabulary size.")
@click.option("--experts", type=int, default=0,
              help="GPT: SwiGLU experts per block (Mixtral-style MoE; default dense).")
@click.option("--top-k", type=int, default=0, help="GPT MoE: experts each token uses.")
@click.option("--positions", type=int, default=0,
              help="GPT: rows of a learned position embedding (default none).")
@click.option("--mlp", type=click.Choice(GPT_MLPS), default="gelu", show_default=True,
              help="GPT: MLP kind.")
@click.option("--untied", is_flag=True, help="GPT: an output head of its own (not tied).")
@click.option("--no-bias", is_flag=True, help="GPT: Linears (and LayerNorm) without bias.")
@click.option("--encoder", is_flag=True, help="GPT: no causal mask (BERT-style encoder).")
@click.option("--code-style", type=click.Choice(("memcalc", "hf")), default="memcalc",
              show_default=True, help="GPT: how the step is written: memcalc's rig, or "
              "Hugging Face / nanoGPT (wpe(arange(T)), the loss inside forward()).")
@click.option("--attention", type=click.Choice(ATTENTIONS), default="sdpa", show_default=True,
              help="GPT: explicit matmul-softmax (keeps the T x T scores) or fused SDPA.")
@click.option("--activation", type=click.Choice(ACTIVATIONS), default="relu", show_default=True)
@click.option("--dropout", type=float, default=0.0, show_default=True,
              help="Dropout probability after each hidden activation (MLP).")
@click.option("--norm", type=click.Choice((*NORMS, "rmsnorm")), default=None,
              help="MLP: none|batchnorm|layernorm (default none); GPT: layernorm|rmsnorm "
              "(default layernorm; a --model has its own).")
@click.option("--loss", type=click.Choice(LOSSES), default="cross_entropy", show_default=True)
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam", show_default=True,
              metavar="NAME", help=f"One of {', '.join(OPTIMIZERS)} (bitsandbytes' 8-bit "
              "and paged AdamW: counted, not measured).")
@click.option("--foreach/--no-foreach", default=None,
              help="Multi-tensor optimiser kernels (more temporaries) or a per-tensor loop. "
              "Default: torch's own, foreach on CUDA and the per-tensor loop on CPU.")
@click.option("--weight-decay", type=float, default=0.0, show_default=True)
@click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True,
              help="fp16/bf16: the whole model and optimiser in half; amp-*: autocast, fp32 "
              "weights/state; fp16-master/bf16-master: half model and gradients, fp32 master "
              "weights and state in the optimiser (fp16 with a static loss scale).")
@click.option("--checkpointing", is_flag=True,
              help="Activation checkpointing of each hidden block: keep only block inputs, "
              "recompute in backward.")
@click.option("--inference", is_flag=True,
              help="GPT: weights + KV cache + a no-grad forward over the whole sequence.")
@click.option("--lora-rank", type=int, default=0,
              help="GPT: train rank-R LoRA adapters on a frozen base (replayed exactly; "
              "--measure trains them).")
@click.option("--lora-targets", default="q,v", show_default=True,
              help="Linears that get adapters: q,k,v,o,gate,up,down.")
@click.option("--base-dtype", type=click.Choice(("same", "nf4")), default="same",
              show_default=True, help="Frozen base weights: the model's dtype, or QLoRA's "
              "4-bit NF4 with double-quantised constants.")
@click.option("--gpus", type=click.IntRange(1, 1_000_000), default=1, show_default=True,
              help="Data-parallel GPUs (model states per GPU with --zero).")
@click.option("--zero", type=click.IntRange(0, 3), default=None,
              help="ZeRO stage 0-3 across --gpus (default 0).")
@click.option("--fsdp", is_flag=True, help="FSDP full sharding: the same as --zero 3.")
@click.option("--device", type=click.Choice(("cpu", "cuda", "meta")), default="cpu",
              show_default=True, help="Rules to apply; meta measures without running.")
@click.option("--input", "input_chw", help="Image size CxHxW for a conv activation map.")
@click.option("--channels", type=int, help="Output channels C of that conv layer.")
@click.option("--gpu", help="Find the largest batch for a GPU: 24GB, 80GiB, T4, A100-80GB, ...")
@click.option("--measure", is_flag=True, help="Run real training steps and compare.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def memcalc(**opts: Any) -> None:
    if opts["list_models"]:
        from dlprep.memcalc.presets import listing

        click.echo(listing())
        return
    ctx = click.get_current_context()
    opts["_given"] = {k for k in list(opts)
                      if ctx.get_parameter_source(k) is ParameterSource.COMMANDLINE}
    _answer(opts)
    note = _model_note(opts)
    if note and not opts["as_json"]:
        # The preset's caveat (Mistral's sliding window, BERT's post-norm) belongs with
        # every answer about that model, not only with --list-models.
        from dlprep.memcalc.report import wrap

        click.echo()
        click.echo(wrap(f"Note on {_named(opts)[0]}: {note}."))


def _named(opts: dict[str, Any]) -> tuple[str, Any]:
    """(name, the preset or config file read) of ``--model`` or ``--hf-config``."""
    if opts.get("hf_config") is not None:
        from dlprep.memcalc.hf_config import read

        m = read(opts["hf_config"])
        return m.name, m
    from dlprep.memcalc.presets import preset

    return opts["model"].strip().lower(), preset(opts["model"])


def _model_note(opts: dict[str, Any]) -> str:
    """The preset's caveat, and what the answer assumed about it: a sequence past the
    context it was trained for (RoPE has no table to run out of, so it is sized as
    asked), and the batch of one a bare ``--model`` gets."""
    if opts["model"] is None and opts.get("hf_config") is None:
        return ""
    from dlprep.memcalc.parse import parse_count

    name, p = _named(opts)
    parts = [p.note] if p.note else []
    seq = parse_count(opts["seq"], "--seq") if opts["seq"] else p.context
    if seq > p.context:
        parts.append(f"--seq {seq:,} is past the {p.context:,}-token context {name} was "
                     "trained for: sized as asked, but the model was never trained that long")
    if opts["batch"] is None and opts["gpu"] is None:
        parts.append("batch 1, the default with --model or --hf-config (--batch N sizes N "
                     "sequences)")
    return "; ".join(parts)


def _answer(opts: dict[str, Any]) -> None:
    foreach = opts["foreach"]
    try:
        cfg = config_from(opts)
        if opts["fsdp"] and opts["zero"] not in (None, 3):
            raise ConfigError("--fsdp is full sharding, ZeRO stage 3: drop --zero")
        stage = 3 if opts["fsdp"] else opts["zero"] or 0
        if opts["gpus"] < 1:
            raise ConfigError("--gpus must be at least 1")
        if stage and opts["gpus"] == 1:
            raise ConfigError("ZeRO partitions across GPUs: give --gpus N with N > 1")
        one_question(opts)
        if cfg.lora is not None:
            _emit_lora(cfg, opts)
            return
        if opts["inference"]:
            from dlprep.memcalc.inference import inference

            inf = inference(cfg)
            _emit_inference(cfg, inf, opts["as_json"], _model_note(opts))
            return
        gpu = opts["gpu"]
        # A GPU question gets torch's CUDA default unless the user chose.
        fit = (_fit(replace(cfg, foreach=True) if foreach is None else cfg, gpu)
               if gpu is not None else None)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    from dlprep.memcalc.estimate import estimate

    # With --gpu the table is the verdict's: CUDA rules, foreach, the batch it found (or,
    # when none fits, the smallest batch it tried).
    est = fit.estimate if fit is not None and fit.estimate is not None else estimate(cfg)
    sharded = _shard(cfg, est, opts["gpus"], stage) if opts["gpus"] > 1 else None
    meas = _measure(cfg, opts["device"], est.peak) if opts["measure"] else None
    if opts["as_json"]:
        from dlprep.memcalc.report_json import to_json, with_gpus

        out = to_json(est, fit, meas)
        if sharded is not None:
            out = with_gpus(out, sharded)
        out["model_note"] = _model_note(opts) or None
        click.echo(json.dumps(out, indent=2))
        return
    _print(est, fit, meas, sharded)


def _fit(cfg: Config, gpu: str) -> Any:
    from dlprep.memcalc.gpus import largest_batch, parse_gpu

    return largest_batch(cfg, *parse_gpu(gpu))


def _measure(cfg: Config, device: str, peak: int | None) -> Any:
    if cfg.layers is None and cfg.gpt is None:
        raise _fail("--measure needs --layers or a GPT shape (it builds and trains that model)")
    g = cfg.gpt
    if g is not None and (g.token_types or g.embed_norm or g.pooler or not g.final_norm):
        raise _fail("--measure builds pre-norm GPT blocks; this preset's extras (BERT's "
                    "segment embedding, embedding norm, pooler, post-norm) are not in the rig")
    from dlprep.memcalc.optimizers import OPTIMIZERS

    if OPTIMIZERS[cfg.optimizer].library != "torch":
        raise _fail(f"--optimizer {cfg.optimizer} is bitsandbytes' (CUDA kernels, not part "
                    "of the rig): its state is counted from bitsandbytes' source, not "
                    "measured; drop --measure")
    if device == "cpu" and peak is not None and peak > _ram() // 2:
        raise _fail(f"measuring needs about {peak:,} B, over half the memory this process may "
                    "use (the machine's, or less under ulimit -v); "
                    "use --device meta")
    if device == "meta" and g is not None and cfg.attention == "sdpa":
        raise _fail("on the meta device scaled_dot_product_attention runs a different "
                    "kernel than on CPU: measure on cpu, or use --attention math")
    from dlprep.memcalc.measure import measure

    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise _fail("--device cuda --measure needs a CUDA GPU; none is visible here")
    where = {"cpu": "cpu", "cuda": "cuda", "meta": "fake" if cfg.amp else "meta"}[device]
    try:
        return measure(cfg, where)
    except (MemoryError, RuntimeError) as exc:
        # an address-space limit (ulimit -v) or a busy machine: the estimate still stands
        if isinstance(exc, RuntimeError) and "allocate" not in str(exc):
            raise
        raise _fail("measuring ran out of memory (an address-space limit, ulimit -v, or a "
                    "busy machine); the estimate above needs no measurement: drop --measure "
                    "or use --device meta") from None


def _ram() -> int:
    """What a measurement may allocate: physical memory, or less under ``ulimit -v``."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 * 1024**3
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError, ValueError):
        return ram
    return ram if limit == resource.RLIM_INFINITY else min(ram, limit)


def _shard(cfg: Config, est: Any, gpus: int, stage: int) -> Any:
    from dlprep.memcalc.zero import block_weights, shard

    out = shard(est, gpus, stage, block_weights(cfg))
    if out.peak is None and cfg.params is not None and cfg.input_chw is None:
        from dlprep.memcalc.guess import peak_range

        r = peak_range(est.cfg)  # the single-GPU range's shapes, sharded the same way
        if r is not None:
            ends = [shard(e, gpus, stage, block_weights(e.cfg)).peak for e in (r.low, r.high)]
            if None not in ends:
                lo, hi = sorted(x for x in ends if x is not None)
                out.peak_range = (lo, hi)
    return out


def _emit_lora(cfg: Config, o: dict[str, Any]) -> None:
    from dlprep.memcalc import report, report_lora
    from dlprep.memcalc.estimate import estimate
    from dlprep.memcalc.lora import lora

    assert cfg.lora is not None
    if o["measure"] and cfg.lora.nf4:
        raise ConfigError("--measure trains the LoRA rig with a bf16/fp32 base; bitsandbytes' "
                          "4-bit kernels are not part of it: drop --base-dtype nf4 to measure")
    gpu = o["gpu"]
    fit = (_fit(replace(cfg, foreach=True) if o["foreach"] is None else cfg, gpu)
           if gpu is not None else None)
    # With --gpu the table is the verdict's: CUDA rules, foreach, the batch it found (or,
    # when none fits, the smallest batch it tried).
    est = fit.estimate if fit is not None and fit.estimate is not None else estimate(cfg)
    shown = est.cfg
    meas = _measure(shown, o["device"], est.peak) if o["measure"] else None
    adapted = lora(shown)
    full = estimate(replace(shown, lora=None))
    if o["as_json"]:
        click.echo(json.dumps(report_lora.lora_json(est, adapted, full, fit, meas), indent=2))
        return
    click.echo(report.heading(est))
    click.echo(report_lora.lora_heading(shown, adapted))
    click.echo()
    click.echo(report.table(report_lora.lora_rows(shown, adapted, est)))
    _sections(est, (report.why(est), report_lora.lora_notes(shown, adapted, est, full),
                    report.optimizer_note(est), report.cuda_notes(est)), fit, meas)


def _emit_inference(cfg: Config, inf: Any, as_json: bool, note: str = "") -> None:
    from dlprep.memcalc import report_scale

    if as_json:
        out = report_scale.inference_json(cfg, inf)
        out["model_note"] = note or None
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(report_scale.inference_text(cfg, inf))


def _print(est: Any, fit: Any, meas: Any, sharded: Any = None) -> None:
    from dlprep.memcalc import report
    from dlprep.memcalc.guess import below_table, peak_range
    from dlprep.memcalc.trade import trade_text

    if sharded is not None:
        click.echo(report.wrap(f"One GPU's step first, as if alone; the per-GPU answer across "
                               f"{sharded.gpus} GPUs follows it."))
    click.echo(report.heading(est))
    click.echo()
    rng = peak_range(est.cfg) if est.peak is None and est.cfg.input_chw is None else None
    click.echo(report.table(report.rows(est, rng)))
    _sections(est, (report.why(est), below_table(est, rng), trade_text(est),
                    report.optimizer_note(est), report.cuda_notes(est)), fit, meas, sharded)


def _sections(est: Any, texts: Sequence[str], fit: Any, meas: Any,
              sharded: Any = None) -> None:
    """What follows the table, each part after a blank line: the notes that apply, the
    --gpu verdict, the per-GPU (ZeRO) answer, the comparison with a measured step."""
    from dlprep.memcalc import report

    for text in texts:
        if text:
            click.echo()
            click.echo(report.wrap(text))
    if fit is not None:
        click.echo()
        click.echo(report.fit_text(fit))
    if sharded is not None:
        from dlprep.memcalc.report_scale import zero_text

        click.echo()
        click.echo(zero_text(sharded))
    if meas is not None:
        click.echo()
        click.echo(f"Estimate vs measured ({meas.device}, one warmed-up training step):")
        click.echo(report.compare(est, meas))


def main(args: Sequence[str], prog_name: str = "dlprep memcalc") -> int:
    return run(memcalc, args, prog_name)
