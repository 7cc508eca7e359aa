"""`dlprep memcalc`: the GPU memory a training step needs, checked against a real run."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import click

from dlprep.commands._click import run
from dlprep.memcalc.config import (
    ACTIVATIONS,
    DTYPES,
    LOSSES,
    NORMS,
    OPTIMIZERS,
    Config,
    ConfigError,
    parse_chw,
    parse_count,
    parse_layers,
)


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
    "formula. Exact on CPU for the MLPs it describes; --measure checks it against a real "
    "run. Rules and a worked example: docs/memory.md.\n\n\b\nExamples:\n"
    "  dlprep memcalc --params 1e6 --batch 32\n"
    "  dlprep memcalc --layers 784,512,10 --batch 64 --measure\n"
    "  dlprep memcalc --layers 784,4096,4096,10 --gpu 'RTX 4090'\n"
    "  dlprep memcalc --layers 784,2048,2048,10 --batch 512 --checkpointing\n"
    "  dlprep memcalc --layers 784,512,10 --dtype bf16-master --measure\n"
    "  dlprep memcalc --params 1e6 --input 1x28x28 --channels 32"))
@click.option("--params", help="Parameter count, e.g. 1e6 or 350M (no layer shapes).")
@click.option("--layers", help="MLP widths, e.g. 784,512,512,10 (parameters computed).")
@click.option("--batch", default="32", show_default=True, help="Batch size.")
@click.option("--activation", type=click.Choice(ACTIVATIONS), default="relu", show_default=True)
@click.option("--dropout", type=float, default=0.0, show_default=True,
              help="Dropout probability after each hidden activation.")
@click.option("--norm", type=click.Choice(NORMS), default="none", show_default=True)
@click.option("--loss", type=click.Choice(LOSSES), default="cross_entropy", show_default=True)
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam", show_default=True)
@click.option("--foreach/--no-foreach", default=None,
              help="Multi-tensor optimiser kernels (more temporaries) or a per-tensor loop. "
              "Default: torch's own, foreach on CUDA and the per-tensor loop on CPU.")
@click.option("--weight-decay", type=float, default=0.0, show_default=True)
@click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True,
              help="fp16/bf16: the whole model and optimiser in half; amp-*: autocast, fp32 "
              "weights/state; fp16-master/bf16-master: half model and gradients, fp32 master "
              "weights and state in the optimiser (fp16 with a static loss scale).")
@click.option("--checkpointing", is_flag=True,
              help="Activation checkpointing of each hidden block (Linear + norm + activation "
              "+ dropout): keep only block inputs, recompute in backward.")
@click.option("--device", type=click.Choice(("cpu", "cuda", "meta")), default="cpu",
              show_default=True, help="Rules to apply; meta measures without running.")
@click.option("--input", "input_chw", help="Image size CxHxW for a conv activation map.")
@click.option("--channels", type=int, help="Output channels C of that conv layer.")
@click.option("--gpu", help="Find the largest batch for a GPU: 24GB, 80GiB, T4, A100-80GB, ...")
@click.option("--measure", is_flag=True, help="Run real training steps and compare.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def memcalc(params: str | None, layers: str | None, batch: str, activation: str,
            dropout: float, norm: str, loss: str, optimizer: str, foreach: bool | None,
            weight_decay: float, dtype: str, device: str, input_chw: str | None,
            channels: int | None, checkpointing: bool, gpu: str | None, measure: bool,
            as_json: bool) -> None:
    try:
        cfg = Config(
            batch=parse_count(batch, "--batch"),
            layers=parse_layers(layers) if layers else None,
            params=parse_count(params, "--params") if params and not layers else None,
            activation=activation, dropout=dropout, norm=norm, loss=loss,
            optimizer=optimizer, foreach=device == "cuda" if foreach is None else foreach,
            dtype=dtype,
            weight_decay=weight_decay, device="cuda" if device == "cuda" else "cpu",
            input_chw=parse_chw(input_chw) if input_chw else None, channels=channels,
            checkpointing=checkpointing,
        )
        if params and layers:
            raise ConfigError("give --params or --layers, not both (--layers sets the count)")
        # A GPU question gets torch's CUDA default unless the user chose.
        fit = _fit(replace(cfg, foreach=True) if foreach is None else cfg, gpu) if gpu else None
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    from dlprep.memcalc.estimate import estimate

    est = estimate(cfg)
    meas = _measure(cfg, device, est.peak) if measure else None
    if as_json:
        from dlprep.memcalc.report import to_json

        click.echo(json.dumps(to_json(est, fit, meas), indent=2))
        return
    _print(est, fit, meas)


def _fit(cfg: Config, gpu: str) -> Any:
    from dlprep.memcalc.gpus import largest_batch, parse_gpu

    return largest_batch(cfg, *parse_gpu(gpu))


def _measure(cfg: Config, device: str, peak: int | None) -> Any:
    if cfg.layers is None:
        raise _fail("--measure needs --layers (it builds and trains that MLP)")
    if device == "cpu" and peak is not None and peak > _ram() // 2:
        raise _fail(f"measuring needs about {peak:,} B, over half this machine's memory; "
                    "use --device meta")
    from dlprep.memcalc.measure import measure

    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise _fail("--device cuda --measure needs a CUDA GPU; none is visible here")
    where = {"cpu": "cpu", "cuda": "cuda", "meta": "fake" if cfg.amp else "meta"}[device]
    return measure(cfg, where)


def _ram() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def _print(est: Any, fit: Any, meas: Any) -> None:
    from dlprep.memcalc import report
    from dlprep.memcalc.trade import trade_text

    click.echo(report.heading(est))
    click.echo()
    click.echo(report.table(report.rows(est)))
    for text in (report.why(est), trade_text(est), report.cuda_notes(est)):
        if text:
            click.echo()
            click.echo(report.wrap(text))
    if fit is not None:
        click.echo()
        click.echo(report.fit_text(fit))
    if meas is not None:
        click.echo()
        click.echo(f"Estimate vs measured ({meas.device}, one warmed-up training step):")
        click.echo(report.compare(est, meas))


def main(args: Sequence[str], prog_name: str = "dlprep memcalc") -> int:
    return run(memcalc, args, prog_name)
