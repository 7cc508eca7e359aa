"""Snapshots at 80x24 (the size the UI must be usable at), on the fixed bank, clock and seed.

Regenerate with ``pytest tests/quiz/test_snapshots.py --snapshot-update`` and look at the
SVGs in tests/quiz/__snapshots__ before committing them.
"""

from __future__ import annotations

import random
import time

import pytest

from dlprep.study.kinds import kind_of
from dlprep.study.plan import Spec
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.session import Session
from dlprep.study.store import open_store

LANGS = pytest.mark.parametrize("lang", ["en", "ko"])


async def _until_idle(pilot) -> None:
    deadline = time.monotonic() + 30  # bounds a hang only
    await pilot.pause(0.05)
    while getattr(pilot.app.screen, "running", False) and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()


@LANGS
def test_home(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(lang=lang))


@LANGS
@pytest.mark.parametrize(
    "card_id", ["t-mcq", "t-multi", "t-myth", "t-recall", "t-numeric", "t-template", "t-order"]
)
def test_card(snap_compare, make_app, card_id: str, lang: str) -> None:
    assert snap_compare(make_app(only=(card_id,), start=True, lang=lang))


@LANGS
def test_recall_revealed(snap_compare, make_app, lang: str) -> None:
    async def reveal(pilot) -> None:
        await pilot.press("space")
        await pilot.pause()  # the app answers with the rating keys' intervals
        await pilot.pause()

    assert snap_compare(make_app(only=("t-recall",), start=True, lang=lang), run_before=reveal)


@LANGS
def test_feedback(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(only=("t-numeric",), start=True, lang=lang),
                        press=[*"3.8 MiB", "enter"])


@LANGS
def test_feedback_multi_marks(snap_compare, make_app, lang: str) -> None:
    # one right choice taken, one missed, one wrong taken
    assert snap_compare(make_app(only=("t-multi",), start=True, lang=lang),
                        press=["1", "2", "enter"])


@LANGS
def test_unreadable_number_asked_again(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(only=("t-numeric",), start=True, lang=lang),
                        press=[*"four", "enter"])


@LANGS
def test_feedback_held_for_the_demo(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(only=("t-demo",), start=True, lang=lang), press=["t"])


@LANGS
def test_demo_panel_before_the_run(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(only=("t-demo",), start=True, lang=lang), press=["t", "d"])


@LANGS
def test_demo_panel(snap_compare, make_app, lang: str) -> None:
    async def run_demo(pilot) -> None:
        await pilot.press("t", "d", "y", "enter")
        await _until_idle(pilot)

    assert snap_compare(make_app(only=("t-demo",), start=True, lang=lang),
                        run_before=run_demo)


@LANGS
def test_mock_report(snap_compare, make_app, lang: str) -> None:
    # the mcq answered wrong comes back while the interview has time left; then the report
    spec = Spec(mode="mock", mock_cards=2, mock_seconds_per_card=30)
    assert snap_compare(make_app(only=("t-myth", "t-mcq"), spec=spec, start=True, lang=lang),
                        press=["2", "m", "2"])


@LANGS
def test_mock_card(snap_compare, make_app, lang: str) -> None:
    # the footer says Escape ends the interview (it asks first), not "Home"
    spec = Spec(mode="mock", mock_cards=2, mock_seconds_per_card=30)
    assert snap_compare(make_app(only=("t-myth", "t-mcq"), spec=spec, start=True, lang=lang))


@LANGS
def test_mock_report_ended_early(snap_compare, make_app, lang: str) -> None:
    spec = Spec(mode="mock", mock_cards=2, mock_seconds_per_card=30)
    assert snap_compare(make_app(only=("t-myth", "t-mcq"), spec=spec, start=True, lang=lang),
                        press=["2", "escape", "y"])


@LANGS
def test_mock_confirm(snap_compare, make_app, lang: str) -> None:
    spec = Spec(mode="mock", mock_cards=2, mock_seconds_per_card=30)
    assert snap_compare(make_app(only=("t-myth", "t-mcq"), spec=spec, start=True, lang=lang),
                        press=["escape"])


@LANGS
def test_stats(snap_compare, make_app, bank, clock: ManualClock, lang: str) -> None:
    store = open_store()
    session = Session(bank.cards, store, Scheduler(clock, fuzz=False), Spec(length=50),
                      rng=random.Random(3))
    while session.unanswered and (shown := session.current()) is not None:
        clock.advance(20)
        kind = kind_of(shown.card)
        session.answer(kind.example(shown, shown.card.topic != "activations"))
    assert snap_compare(make_app(store=store, lang=lang), press=["v"])


@LANGS
def test_help(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(lang=lang), press=["question_mark"])


def test_feedback_light_theme(snap_compare, make_app) -> None:
    assert snap_compare(make_app(only=("t-mcq",), start=True), press=["1", "ctrl+t"])


@LANGS
def test_untouched_order_asked_again(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(only=("t-order",), start=True, lang=lang), press=["enter"])
