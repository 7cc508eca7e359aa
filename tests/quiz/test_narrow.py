"""The quiz at 80x24, the smallest terminal it is built for: every home row reads differently,
the help leaves its explanations room, and the date field shows a format, not a date."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date

import pytest
from rich.cells import cell_len
from rich.console import Console
from textual.widgets import Input, SelectionList, Static

from dlprep.bank.loader import Bank
from dlprep.bank.topics import TOPICS
from dlprep.study.strings import t
from dlprep.tui.info import HelpScreen


def rows_of(app) -> list[str]:
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_every_topic_row_reads_differently_at_80_columns(make_app, bank: Bank,
                                                               lang: str) -> None:
    card = bank.cards["t-mcq"]
    every = {f"x-{slug}": dataclasses.replace(card, id=f"x-{slug}", topic=slug)
             for slug in TOPICS}
    bank.cards.clear()
    bank.cards.update(every)
    app = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        topics = app.screen.query_one("#topics", SelectionList)
        shown = [topics.get_option_at_index(i).prompt.plain for i in range(len(TOPICS))]
    # each row is a whole title or its short form, never two titles cut to the same start
    assert len(set(shown)) == len(TOPICS), shown
    assert not [row for row in shown if "…" in row], shown


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_every_count_shows_under_its_column_at_80_columns(make_app, bank: Bank,
                                                                lang: str) -> None:
    """24 topics overflow the list at 80x24: its scrollbar took the cells of the due count
    ("23   23  …"). The gutter is kept, so the counts fit with or without a scrollbar."""
    card = bank.cards["t-mcq"]
    bank.cards.clear()
    bank.cards.update({f"x-{slug}": dataclasses.replace(card, id=f"x-{slug}", topic=slug)
                       for slug in TOPICS})
    app = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lines = rows_of(app)
    head = next(line for line in lines if t("due_short", lang) in line)
    rows = [line for line in lines if "▐" in line]
    assert len(rows) >= 15, lines
    due_end = cell_len(head[:head.index(t("due_short", lang))]) + cell_len(t("due_short", lang))
    for row in rows:
        counts = re.search(r"(\d+) +(\d+) +(\d+)\D*│", row)  # the gutter may hold the thumb
        assert counts and "…" not in row[row.index(counts.group(1)):], row
        assert cell_len(row[:counts.end(3)]) == due_end, (head, row)  # right-aligned under it


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_help_explanations_keep_room_at_80_columns(make_app, lang: str) -> None:
    app = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(Static).content
        width = app.screen.query_one(Static).content_region.width
    out = io.StringIO()
    Console(width=width, file=out).print(table)
    lines = out.getvalue().splitlines()
    # the longest explanation takes at most three lines (it took five or more in ~22 cells)
    longest = max((t(what, lang) for what in ("h_demo", "h_feedback", "h_card")), key=len)
    start = next(i for i, line in enumerate(lines) if longest[:8] in line)
    assert longest.split()[-1] in lines[start] + lines[start + 1] + lines[start + 2]
    # myth cards: one row per key with its meaning, three keys never share two labels
    fact = next(line for line in lines if t("h_fact", lang) in line)
    myth = next(line for line in lines if t("h_myth", lang) in line)
    assert fact.split()[0] == "1" and myth.split()[:3] == ["2", "/", "m"]


async def test_the_interview_date_field_shows_a_format_not_a_date(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        until = app.screen.query_one("#until", Input)
        assert until.value == ""
        with pytest.raises(ValueError):
            date.fromisoformat(until.placeholder)
        assert until.placeholder == "YYYY-MM-DD"
        assert "YYYY-MM-DD" in "\n".join(rows_of(app))
