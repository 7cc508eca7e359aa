"""`dlprep export`: the cards as an Anki deck (.apkg); demos go to Jupyter with
`dlprep demo NAME --save-notebook FILE.ipynb`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from dlprep.commands._click import run

USAGE_ERROR = 2


@click.group(help="Export the cards for other tools (Anki). For Jupyter notebooks of the "
                  "demos see 'dlprep demo NAME --save-notebook FILE.ipynb'.")
def export() -> None:
    pass


@export.command("anki")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--lang", type=click.Choice(["en", "ko", "both"]), default="en",
              show_default=True, help="Language of the notes; both puts each side in English "
              "and Korean.")
@click.option("--topic", "topics", multiple=True, metavar="T",
              help="Only this topic (repeatable); default: every topic.")
@click.option("--bank", "banks", multiple=True, metavar="DIR",
              help="Extra card directory or file (repeatable); DLPREP_BANK adds more.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def anki(file: Path, lang: str, topics: tuple[str, ...], banks: tuple[str, ...],
         force: bool) -> None:
    """Write the cards to FILE.apkg, one deck per topic under 'dlprep'.

    Import it in Anki (File > Import). Importing a newer export updates the notes you
    already have; your review history is kept.
    """
    from dlprep.bank import BankPathError, load_bank
    from dlprep.export.anki import export_anki
    from dlprep.export.files import ExportError

    if file.suffix.lower() != ".apkg":
        _fail(f"{file}: an Anki package must end in .apkg")
    try:
        bank = load_bank(banks)
    except BankPathError as exc:
        _fail(str(exc))
    known = bank.topics()
    unknown = [t for t in topics if t not in known]
    if unknown:
        _fail(f"no such topic: {', '.join(unknown)} (topics: {', '.join(known)})")
    for problem in bank.errors:
        click.echo(f"warning: skipped invalid card: {problem}", err=True)
    cards = [c for c in bank.cards.values() if not topics or c.topic in topics]
    langs = ("en", "ko") if lang == "both" else (lang,)
    try:
        counts = export_anki(file, cards, langs, force=force)
    except ExportError as exc:
        _fail(str(exc))
    notes = sum(counts.values())
    click.echo(f"Wrote {file}: {notes} notes from {len(cards)} cards in {len(counts)} decks "
               f"under 'dlprep'. Import it in Anki with File > Import.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def main(args: Sequence[str], prog_name: str = "dlprep export") -> int:
    return run(export, args, prog_name)
