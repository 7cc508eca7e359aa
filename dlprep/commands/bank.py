"""`dlprep bank`: validate, count and list the question bank."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from dlprep.commands._click import run

if TYPE_CHECKING:
    from dlprep.bank import Bank

BANK_HELP = "Extra card directory or file (repeatable); DLPREP_BANK adds more."


@click.group(help="Validate, count and list the question bank.")
def bank() -> None:
    pass


def _load(paths: Sequence[str]) -> Bank:
    from dlprep.bank import BankPathError, load_bank

    try:
        return load_bank(paths)
    except BankPathError as exc:
        raise click.UsageError(str(exc)) from None


@bank.command(
    help="Check card files and report every problem as file:line: card-id: field: message.\n\n"
    "With no PATH, checks the built-in bank plus DLPREP_BANK. Exit codes: 0 no problems, "
    "1 problems found, 2 usage error."
)
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("--strict", is_flag=True, help="Count warnings as problems too.")
@click.option("--quiet", "-q", is_flag=True, help="Print problems only, no summary.")
def validate(paths: tuple[str, ...], strict: bool, quiet: bool) -> None:
    from dlprep.paths import user_bank_paths

    loaded = _load(paths)
    for problem in loaded.problems:
        click.echo(str(problem))
    errors = len(loaded.errors)
    warnings = len(loaded.problems) - errors
    if not quiet:
        # Say how many came from the paths given: the built-in cards alone must not read as
        # if the learner's files had been checked.
        builtin = sum(origin.builtin for origin in loaded.origins.values())
        theirs = f" ({len(loaded.cards) - builtin} from your files, {builtin} built-in)"
        click.echo(
            f"{len(loaded.cards)} valid cards{theirs if user_bank_paths(paths) else ''}; "
            f"{errors} error(s), "
            f"{warnings} warning(s)",
            err=bool(errors),
        )
    if errors or (strict and warnings):
        raise SystemExit(1)


@bank.command(help="Cards per topic, type and difficulty, and language completeness.")
@click.option("--bank", "paths", multiple=True, help=BANK_HELP)
def stats(paths: tuple[str, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    from dlprep.bank.stats import bank_stats
    from dlprep.bank.topics import topic_title

    loaded = _load(paths)
    s = bank_stats(loaded)
    console = Console(highlight=False)
    total = max(s.total, 1)

    def pct(n: int) -> str:
        return f"{100 * n / total:.0f}%"

    topics = Table(title=f"{s.total} cards", title_justify="left")
    topics.add_column("topic")
    topics.add_column("section")
    topics.add_column("cards", justify="right")
    for topic, n in s.by_topic.items():
        topics.add_row(topic, topic_title(topic), str(n))
    console.print(topics)
    kinds = Table(show_header=True)
    kinds.add_column("type")
    kinds.add_column("cards", justify="right")
    for kind, n in s.by_type.items():
        kinds.add_row(kind, str(n))
    console.print(kinds)
    levels = ", ".join(f"{d}: {n} ({pct(n)})" for d, n in s.by_difficulty.items())
    console.print(f"difficulty  {levels}")
    langs = ", ".join(f"{lang} {n}/{s.total}" for lang, n in s.complete.items())
    console.print(f"languages   {langs} complete")
    console.print(f"demo-linked {s.with_demo}   myth-or-fact {s.myths}")
    if loaded.problems:
        console.print(
            f"[yellow]{len(loaded.errors)} card problem(s); "
            "run 'dlprep bank validate' for details[/]"
        )


@bank.command(name="list", help="List card ids with the first line of each question.")
@click.option("--topic", "-t", help="Only this topic (e.g. activations).")
@click.option("--lang", type=click.Choice(["en", "ko"]), default="en", show_default=True)
@click.option("--bank", "paths", multiple=True, help=BANK_HELP)
def list_cards(topic: str | None, lang: str, paths: tuple[str, ...]) -> None:
    loaded = _load(paths)
    cards = [c for c in loaded.cards.values() if topic is None or c.topic == topic]
    if topic is not None and not cards:
        known = ", ".join(loaded.topics())
        raise click.UsageError(f"no cards with topic {topic!r} (topics: {known})")
    width = max((len(c.id) for c in cards), default=0)
    for card in cards:
        first = card.q.get(lang).strip().splitlines()[0]
        click.echo(f"{card.id:<{width}}  {card.type:<9}  {first}")


@bank.command(help="Print (or --write) the JSON Schema generated from the card models.")
@click.option("--write", is_flag=True, help="Write quizbank/schema.json instead of printing.")
def schema(write: bool) -> None:
    from dlprep.bank.schema import render_schema, write_schema
    from dlprep.paths import schema_path

    if write:
        changed = write_schema(schema_path())
        click.echo(f"{schema_path()}: {'updated' if changed else 'already current'}")
    else:
        click.echo(render_schema(), nl=False)


def main(args: Sequence[str], prog_name: str = "dlprep bank") -> int:
    return run(bank, args, prog_name)
