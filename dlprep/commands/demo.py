"""`dlprep demo`: list the demos or run one with a live chart, plain lines or JSON lines."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from dlprep.commands._click import run as run_click
from dlprep.study.strings import t

USAGE_ERROR = 2


def expand_set(args: Sequence[str]) -> list[str]:
    """Let ``--set a=1 b=2`` mean ``--set a=1 --set b=2`` (the form the docs show)."""
    out: list[str] = []
    collecting = False
    pending_value = False
    for index, arg in enumerate(args):
        if arg == "--":
            out += args[index:]
            break
        if pending_value:  # the value right after --set, whatever it looks like
            out.append(arg)
            pending_value, collecting = False, True
            continue
        if collecting and "=" in arg and not arg.startswith("-"):
            out += ["--set", arg]
            continue
        collecting = arg.startswith("--set=")
        pending_value = arg == "--set"
        out.append(arg)
    return out


def parse_settings(settings: Sequence[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set expects KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def list_demos(lang: str, as_json: bool) -> None:
    from dlprep.registry import registry

    demos = registry()
    if as_json:
        rows = [{"name": d.name, "claim": d.claim, "claim_ko": d.claim_ko,
                 "cpu_seconds": d.cpu_seconds, "metric": d.metric,
                 "params": {k: p.default for k, p in d.params.items()},
                 "control": d.control}
                for d in demos.values()]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    width = max((len(name) for name in demos), default=4)
    click.echo(f"{'demo':<{width}}  {'CPU':>5}  claim")
    for info in demos.values():
        claim = info.claim_ko if lang == "ko" else info.claim
        click.echo(f"{info.name:<{width}}  {info.cpu_seconds:>4.1f}s  {claim}")
    click.echo(f"\nRun one: dlprep demo NAME [--set key=value ...]   ({len(demos)} demos)")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("name", metavar="NAME|list")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto",
              show_default=True, help="auto picks CUDA, then MPS, then CPU.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True)
@click.option("--steps", type=click.IntRange(1, 1_000_000), default=None,
              help="Training steps per run (default: the demo's own).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per logged step, "
              "then a summary object.")
@click.option("--plain", is_flag=True, help="Plain text lines instead of the live view.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="Override a demo parameter (repeatable: --set depth=12 lr=0.5).")
@click.option("--save-script", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a standalone Python script (needs only torch) and exit.")
@click.option("--save-notebook", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a Jupyter notebook (.ipynb) of this run, needing only torch, and exit.")
@click.option("--force", is_flag=True, help="Let --save-script/--save-notebook replace a file.")
@click.option("--lang", type=click.Choice(["en", "ko"]), default="en", show_default=True,
              help="Language of the claim and the verdict.")
@click.option("--step", is_flag=True, help="After the run, walk the demo's step-through "
              "view one page at a time (Enter: next, q: stop); e.g. backprop's graph nodes.")
@click.option("--control", is_flag=True, help="Run the control experiment: the demo's "
              "cause removed (its META control settings; --set still applies on top).")
def demo(name: str, device: str, seed: int, steps: int | None, as_json: bool, plain: bool,
         settings: tuple[str, ...], save_script: Path | None, save_notebook: Path | None,
         force: bool, lang: str, step: bool, control: bool) -> None:
    """Run a live PyTorch experiment that proves an interview answer with numbers.

    `dlprep demo list` shows the demos. Exit codes: 0 done, 2 bad input, 130 interrupted.
    """
    from dlprep.engine.runner import DemoError, check_request

    if name == "list":
        list_demos(lang, as_json)
        return
    params = parse_settings(settings)
    try:
        if control:
            params = control_params(name) | params
        info, _ = check_request(name, params, device, seed, steps)
        if save_notebook is not None:
            write_notebook(save_notebook, name, params, seed, steps, device, lang, force)
            return
        if save_script is not None:
            from dlprep.engine.script import save_script as write_script

            if save_script.exists() and not force:  # a learner's edited copy is not ours
                fail(f"{save_script} already exists; not overwritten (add --force to "
                     "replace it)")

            write_script(save_script, name, params, seed=seed, steps=steps, device=device)
            click.echo(f"Saved {save_script} (run it with: python {save_script})", err=True)
            return
        pager = step_pages(info.path) if step else None
        if step and as_json:
            fail("--step pages through a finished run on screen; it does not go with --json")
        code = run_demo(info.name, info.claim_ko if lang == "ko" else info.claim, info.metric,
                        params, device, seed, steps, lang, as_json, plain, info.layers,
                        pager=pager)
    except DemoError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {save_script}: {exc.strerror or exc}")
    sys.exit(code)


def write_notebook(path: Path, name: str, params: dict[str, str], seed: int,
                   steps: int | None, device: str, lang: str, force: bool) -> None:
    from dlprep.export.files import ExportError
    from dlprep.export.notebook import save_notebook

    if path.suffix.lower() != ".ipynb":
        fail(f"{path}: a notebook must end in .ipynb")
    try:
        save_notebook(path, name, params, force=force, seed=seed, steps=steps, device=device,
                      lang=lang)
    except ExportError as exc:
        fail(str(exc))
    click.echo(f"Saved {path} (open it in Jupyter and run all cells)", err=True)


def control_params(name: str) -> dict[str, str]:
    """The settings of ``name``'s control run, as if typed with --set."""
    from dlprep.engine.runner import DemoError
    from dlprep.registry import registry

    info = registry().get(name)
    if info is None:
        return {}  # check_request reports the unknown name
    if not info.control:
        raise DemoError(f"{name} declares no control experiment")
    return {key: str(value) for key, value in info.control.items()}


def step_pages(path: Path) -> Any:
    """The demo's ``step_through(numbers, lang)``: one page per step of its view."""
    from dlprep.engine.loader import load_demo
    from dlprep.engine.runner import DemoError

    pages = getattr(load_demo(path), "step_through", None)
    if pages is None:
        raise DemoError(f"{path.stem.replace('_', '-')} has no step-through view (--step); "
                        "backprop has one")
    return pages


def walk(pages: list[str], lang: str) -> None:
    """Show one page at a time; Enter goes on, q stops. Without a terminal, all at once."""
    prompt = t("walk_prompt", lang)
    interactive = sys.stdin.isatty()
    for index, page in enumerate(pages):
        click.echo(page)
        if interactive and index < len(pages) - 1:
            answer = click.prompt(prompt, default="", show_default=False, prompt_suffix=" ")
            if answer.strip().lower() == "q":
                return


def run_demo(name: str, claim: str, metric: str, params: dict[str, str], device: str,
             seed: int, steps: int | None, lang: str, as_json: bool, plain: bool,
             layers: dict[str, str] | None = None, pager: Any = None) -> int:
    from dlprep.engine.console import INTERRUPTED, JsonPrinter, PlainPrinter, consume
    from dlprep.engine.runner import stream

    cancel = threading.Event()
    try:
        events = stream(name, params=params, device=device, seed=seed, steps=steps,
                        cancel=cancel, lang=lang)
    except KeyboardInterrupt:
        return INTERRUPTED
    if as_json:
        result = consume(events, cancel, JsonPrinter(name))
    elif plain or not sys.stdout.isatty():
        result = consume(events, cancel, PlainPrinter(f"{name}: {claim}", lang=lang))
    else:
        from dlprep.engine.live import LiveView

        view = LiveView(name, claim, metric, lang=lang, layers=layers)
        with view.live:
            result = consume(events, cancel, view)
    if result is None or result.cancelled:
        return INTERRUPTED
    if pager is not None:
        try:
            walk(pager(dict(result.numbers), lang), lang)
        except (KeyboardInterrupt, click.Abort):
            return INTERRUPTED
    return 0


def main(args: Sequence[str], prog_name: str = "dlprep demo") -> int:
    return run_click(demo, expand_set(args), prog_name)
