"""`dlprep quiz`: practise cards in the Textual UI, or as plain prompts with --plain."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import click

from dlprep.commands._click import run

if TYPE_CHECKING:
    from dlprep.bank.cache import CachedBank
    from dlprep.bank.loader import Bank, Problem
    from dlprep.study.plan import Spec
    from dlprep.study.store import Store

LANG_HELP = "Interface and card language (default: from the locale, LANG/LC_ALL)."


def load_cards(paths: Sequence[str], strict: bool) -> Bank | CachedBank:
    """The bank with invalid cards skipped (one warning line each); --strict makes it fatal.

    Served from the cache while the files match: its problems are known at once, its cards
    are unpickled when first used (the home screen needs only each card's topic).
    """
    from dlprep.bank.cache import open_bank
    from dlprep.bank.files import BankPathError

    try:
        bank = open_bank(paths)
    except BankPathError as exc:
        raise click.UsageError(str(exc)) from None
    if strict and bank.problems:
        for problem in bank.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(bank.problems)} problem(s) in the bank (--strict)", err=True)
        raise SystemExit(1)
    # One line per skipped card, however many of its fields are wrong.
    by_card: dict[tuple[str, str], list[Problem]] = {}
    for problem in bank.errors:
        by_card.setdefault((problem.file, problem.card_id), []).append(problem)
    for found in by_card.values():
        more = f" (and {len(found) - 1} more problem(s))" if len(found) > 1 else ""
        click.echo(f"warning: skipped invalid card: {found[0]}{more}", err=True)
    return bank


def has_terminal() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def _until(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-12-15",
                                 param_hint="--until") from None
    if day < datetime.now(UTC).date():
        # a past deadline would pull every reviewed card forward: almost surely a typo
        raise click.BadParameter(f"{value} is in the past", param_hint="--until")
    return day


@click.command(help="Practise cards with spaced repetition (FSRS). Without --topic, --cram or "
               "--mock the home screen lets you choose; with them the session starts at once.")
@click.option("--lang", type=click.Choice(["en", "ko"]), default=None, help=LANG_HELP)
@click.option("--until", "until", metavar="DATE",
              help="Interview date (YYYY-MM-DD): review earlier what would come due after it.")
@click.option("--topic", "topics", multiple=True, metavar="SLUG",
              help="Only this topic (repeatable).")
@click.option("--cram", is_flag=True, help="Practise regardless of due dates; the schedule is "
              "not changed.")
@click.option("--mock", type=click.IntRange(1, 100), metavar="N",
              help="Mock interview of N cards with a countdown; feedback at the end.")
@click.option("--length", type=click.IntRange(1, 500), default=20, show_default=True,
              help="Most cards in a session.")
@click.option("--bank", "bank_paths", multiple=True, metavar="DIR",
              help="Extra card directory or file (repeatable); DLPREP_BANK adds more.")
@click.option("--strict", is_flag=True, help="Stop on any bank problem instead of skipping.")
@click.option("--plain", is_flag=True, help="Numbered plain-text prompts on stdin/stdout.")
def quiz(lang: str | None, until: str | None, topics: tuple[str, ...], cram: bool,
         mock: int | None, length: int, bank_paths: tuple[str, ...], strict: bool,
         plain: bool) -> None:
    from dlprep.study.plan import Spec
    from dlprep.study.strings import default_lang

    if cram and mock:
        raise click.UsageError("choose either --cram or --mock, not both")
    if not plain and not has_terminal():  # the screen would wait forever for keys
        click.echo("Error: the quiz screen needs a terminal (stdin and stdout); use --plain "
                   "for numbered text prompts", err=True)
        raise SystemExit(2)
    interview = _until(until)
    bank = load_cards(bank_paths, strict)
    unknown = sorted(set(topics) - set(bank.topics()))
    if unknown:
        raise click.BadParameter(f"unknown topic(s) {', '.join(unknown)}; known: "
                                 f"{', '.join(bank.topics())}", param_hint="--topic")
    mode = "mock" if mock else "cram" if cram else "due"
    spec = Spec(mode=mode, topics=topics, length=length, mock_cards=mock or 10, until=interview)
    language = lang or default_lang()
    from dlprep.study.store import StoreError, open_store

    try:  # damaged, newer or locked: one clear line and exit 1, before any screen appears
        store = open_store()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    if store.notice:
        click.echo(store.notice, err=True)
    try:
        if plain:
            gc.enable()  # a plain session has no first paint to hurry
            raise SystemExit(_plain(bank, store, spec, language))
        from dlprep.tui.app import build_app

        start = bool(topics or cram or mock)
        skipped = len({(p.file, p.card_id) for p in bank.errors})
        notices = [f"{skipped} invalid card(s) skipped; run 'dlprep bank validate' for details"
                   ] if skipped else []
        app = build_app(bank=bank, store=store, spec=spec, lang=language, start=start,
                        notices=notices)
        app.run()
        if app.return_code:  # an unhandled error: Textual printed it; never exit 0
            raise SystemExit(app.return_code)
    finally:
        store.close()


def _plain(bank: Bank | CachedBank, store: Store, spec: Spec, lang: str) -> int:
    from dlprep.study.plain import PlainQuiz
    from dlprep.study.schedule import Scheduler
    from dlprep.study.session import Session

    session = Session(bank.cards, store, Scheduler(), spec, lang)
    return PlainQuiz(session, sys.stdin, sys.stdout).run()


def main(args: Sequence[str], prog_name: str = "dlprep quiz") -> int:
    # Start-up allocates tens of thousands of long-lived objects (modules, cards, widgets) and
    # frees almost none, so collections before the first card are wasted time (10-20 ms).
    # The app resumes the collector once the first screen is painted (tui.app.resume_gc).
    gc.disable()
    try:
        return run(quiz, args, prog_name)
    finally:
        gc.enable()
