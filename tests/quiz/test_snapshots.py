"""Snapshots at 80x24 (the size the UI must be usable at), on the fixed bank, clock and seed.

Regenerate with ``pytest tests/quiz/test_snapshots.py --snapshot-update`` and look at the
SVGs in tests/quiz/__snapshots__ before committing them.
"""

from __future__ import annotations

import random
import time

import pytest

from dlprep.study.grading import Rating
from dlprep.study.plan import Spec
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.session import Session
from dlprep.study.store import open_store


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_home(snap_compare, make_app, lang: str) -> None:
    assert snap_compare(make_app(lang=lang))


@pytest.mark.parametrize(
    "card_id", ["t-mcq", "t-multi", "t-myth", "t-recall", "t-numeric", "t-template", "t-order"]
)
def test_card(snap_compare, make_app, card_id: str) -> None:
    assert snap_compare(make_app(only=(card_id,), start=True))


def test_recall_revealed(snap_compare, make_app) -> None:
    assert snap_compare(make_app(only=("t-recall",), start=True), press=["space"])


def test_feedback(snap_compare, make_app) -> None:
    assert snap_compare(make_app(only=("t-numeric",), start=True),
                        press=[*"3.8 MiB", "enter"])


def test_demo_panel(snap_compare, make_app) -> None:
    async def run_demo(pilot) -> None:
        await pilot.press("t", "d", *"yes", "enter")
        deadline = time.monotonic() + 5
        await pilot.pause(0.05)
        while pilot.app.demo_running and time.monotonic() < deadline:
            await pilot.pause(0.02)
        await pilot.pause()

    assert snap_compare(make_app(only=("t-demo",), start=True), run_before=run_demo,
                        terminal_size=(100, 34))


def test_stats(snap_compare, make_app, bank, clock: ManualClock) -> None:
    store = open_store()
    session = Session(bank.cards, store, Scheduler(clock, fuzz=False), Spec(length=50),
                      rng=random.Random(3))
    while (shown := session.current()) is not None:
        clock.advance(20)
        card = shown.card
        given = {"t-mcq": "[0, ∞)", "t-multi": ["tanh"], "t-myth": True, "t-recall": Rating.Good,
                 "t-numeric": "4 MB", "t-template": "1 B", "t-order": [], "t-demo": True}
        session.answer(given[card.id])
    assert snap_compare(make_app(store=store), press=["v"])


def test_help(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), press=["question_mark"])


def test_feedback_light_theme(snap_compare, make_app) -> None:
    assert snap_compare(make_app(only=("t-mcq",), start=True), press=["1", "ctrl+t"])
