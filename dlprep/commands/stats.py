"""`dlprep stats`: reviews, accuracy and retention per topic, streak, forecast, what next."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

import click

from dlprep.commands._click import run


@click.command(help="Show review statistics per topic, your streak, a 14-day due forecast and "
               "the weakest topics with a suggested next session.")
@click.option("--lang", type=click.Choice(["en", "ko"]), default=None,
              help="Language (default: from the locale).")
@click.option("--bank", "bank_paths", multiple=True, metavar="DIR",
              help="Extra card directory or file (repeatable); DLPREP_BANK adds more.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def stats(lang: str | None, bank_paths: tuple[str, ...], as_json: bool) -> None:
    from dlprep.commands.quiz import load_cards
    from dlprep.study import stats as study_stats
    from dlprep.study.schedule import Scheduler
    from dlprep.study.snapshot import read_only_store
    from dlprep.study.store import StoreError
    from dlprep.study.strings import default_lang

    language = lang or default_lang()
    bank = load_cards(bank_paths, strict=False)
    try:  # read-only: statistics must show the real file even where it cannot be written
        store = read_only_store(missing_ok=True)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    scheduler = Scheduler()
    try:
        result = study_stats.compute(bank.cards, store.states(), store.reviews(), scheduler,
                                     scheduler.now())
    finally:
        store.close()
    if as_json:
        data = asdict(result)
        data["forecast"] = [[day.isoformat(), n] for day, n in result.forecast]
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    from rich.console import Console

    from dlprep.tui.render import stats_renderables

    console = Console()
    for part in stats_renderables(result, language):
        console.print(part)


def main(args: Sequence[str], prog_name: str = "dlprep stats") -> int:
    return run(stats, args, prog_name)
