"""The card status line stays one line at 80 columns: only the topic title gives way."""

from __future__ import annotations

import dataclasses

import pytest
from rich.cells import cell_len
from textual.widgets import Static

from dlprep.bank.topics import TOPICS, topic_title
from dlprep.study.plan import Spec
from dlprep.study.strings import t
from dlprep.tui.card import CardScreen, status_line

from .conftest import text_of


def _longest_topic(lang: str) -> str:
    return max(TOPICS, key=lambda slug: cell_len(topic_title(slug, lang)))


@pytest.mark.parametrize("mode", ["due", "mock"])
@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_status_line_fits_80_columns_with_the_longest_topic(
        make_app, bank, lang: str, mode: str) -> None:
    slug = _longest_topic(lang)
    title = topic_title(slug, lang)
    # The demo card, as hard as it gets, in the topic with the widest title.
    bank.cards["t-demo"] = dataclasses.replace(bank.cards["t-demo"], topic=slug, difficulty=3)
    spec = Spec(mode=mode, mock_cards=1) if mode == "mock" else None
    app = make_app(only=("t-demo",), start=True, lang=lang, spec=spec)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CardScreen)
        status = app.screen.query_one("#card-status", Static)
        line = text_of(status)
        assert status.size.height == 1 and "\n" not in line
        assert cell_len(line) <= 78  # 80 columns less the status line's padding
        assert line.startswith(t("progress", lang, i=1, n=1))
        assert line.endswith(t("demo_marker", lang))
        assert "★★★" in line and t("type_truefalse", lang) in line
        if mode == "mock":
            assert t("time_left", lang, t="") in line
        if title not in line:  # what did not fit was cut from the title, and only there
            cut = line.split("…")[0].split("·")[-1].strip()
            assert cut and title.startswith(cut)
        if mode == "mock" or lang == "en":  # too wide for one line as it is
            assert title not in line and "…" in line
        # a wider terminal shows it whole
        await pilot.resize_terminal(160, 24)
        await pilot.pause()
        assert title in text_of(status) and "…" not in text_of(status)


def test_the_title_is_cut_by_cell_width() -> None:
    korean = status_line(["1/1"], "가나다라마바사", ["끝"], 20)
    assert cell_len(korean) <= 20 and korean.startswith("1/1 · 가나") and korean.endswith("끝")
    assert status_line(["a"], "short", ["b"], 80) == "a  ·  short  ·  b"
    assert status_line(["abc"], "title", ["xyz"], 12) == "abc · … · xyz"


def test_demo_marker_is_translated() -> None:
    assert t("demo_marker", "ko") == "▶ 데모" and t("demo_marker", "en") == "▶ demo"
