"""A learner's session (issue 26): wrong cards come back, one "right", lists alike, keys
that cannot act say why, and plain mode that reads well."""

from __future__ import annotations

import io
import random

from rich.cells import cell_len
from textual.widgets import Static

from dlprep.bank.loader import Bank
from dlprep.study import stats as study_stats
from dlprep.study.grading import Rating
from dlprep.study.kinds import kind_of
from dlprep.study.plain import PlainQuiz
from dlprep.study.plan import Spec
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.session import Session
from dlprep.study.store import Store
from dlprep.study.wrap import plain_markdown, wrap
from dlprep.tui.answers import AnswerList
from dlprep.tui.card import CardScreen
from dlprep.tui.feedback import FeedbackScreen, SummaryScreen

from .conftest import text_of

SIZE = (80, 24)


async def test_a_wrong_card_comes_back_before_the_session_ends(make_app) -> None:
    app = make_app(only=("t-mcq",), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CardScreen)
        await pilot.press("2")  # (-1, 1): wrong, rated Again, due again in a minute
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)
        await pilot.press("enter")
        await pilot.pause()
        # nothing else is left: the card is asked again (learning ahead), as card 2 of 2
        assert isinstance(app.screen, CardScreen) and app.screen.shown.card_id == "t-mcq"
        assert "Card 2 of 2" in text_of(app.screen.query_one("#card-status", Static))
        index = [c.key for c in app.screen.shown.choices].index("[0, ∞)")
        await pilot.press(str(index + 1), "enter")  # right and fast: Easy, it graduates
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        summary = text_of(app.screen.query_one("#summary-text", Static))
        assert "0 of 1 right" in summary  # cards, by their first answer
        assert "1 asked again on their learning step (2 answers in all)" in summary


def test_a_lapse_comes_back_in_a_mock_interview_while_time_is_left(
        bank: Bank, store: Store, scheduler: Scheduler, clock: ManualClock) -> None:
    spec = Spec(mode="mock", mock_cards=2, mock_seconds_per_card=600)
    session = Session(bank.cards, store, scheduler, spec, rng=random.Random(2))
    shown = session.current()
    first = shown.card_id
    session.answer(kind_of(shown.card).example(shown, False))  # wrong: Again
    clock.advance(5)
    shown = session.current()
    session.answer(kind_of(shown.card).example(shown, True))
    clock.advance(60)
    assert not session.done and session.current().card_id == first  # its step is due
    assert session.total == 3


def test_hard_is_a_pass_in_the_summary_and_in_stats(
        bank: Bank, store: Store, scheduler: Scheduler, clock: ManualClock) -> None:
    session = Session(bank.cards, store, scheduler, Spec(topics=("optimizers",), length=1))
    assert session.current().card_id == "t-recall"
    session.reveal()
    outcome = session.answer(int(Rating.Hard))
    assert not outcome.grade.correct  # a recall card has no automatic grade ...
    assert session.summary().right == 1  # ... and Hard is a pass, as FSRS counts it
    result = study_stats.compute(bank.cards, store.states(), store.reviews(), scheduler,
                                 clock())
    optimizers = {t.topic: t for t in result.topics}["optimizers"]
    assert (optimizers.correct, optimizers.graded, optimizers.accuracy) == (1, 1, 1.0)
    assert (result.correct, result.graded) == (1, 1)


async def test_every_answer_list_starts_with_nothing_highlighted(make_app) -> None:
    for card_id in ("t-mcq", "t-multi", "t-order"):
        app = make_app(only=(card_id,), start=True)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            answer = app.screen.query_one(AnswerList)
            assert answer.highlighted is None, card_id
            await pilot.press("down")  # the first ↓ highlights option 1, in every list
            assert answer.highlighted == 0, card_id



async def test_focus_clears_a_highlight_the_learner_did_not_make_and_keeps_theirs(
        make_app) -> None:
    app = make_app(only=("t-mcq",), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        answer = app.screen.query_one(AnswerList)
        answer.highlighted = 2  # as OptionList does by itself (action_first on creation)
        app.screen.set_focus(None)
        answer.focus()
        await pilot.pause()
        assert answer.has_focus and answer.highlighted is None
        await pilot.press("down", "down")  # the learner's own place ...
        app.screen.set_focus(None)
        answer.focus()
        await pilot.pause()
        assert answer.has_focus and answer.highlighted == 1  # ... survives focus coming back

async def test_keys_that_cannot_act_say_why(make_app) -> None:
    app = make_app(only=("t-order",), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        hint = app.screen.query_one("#hint", Static)
        await pilot.press("u")  # nothing highlighted: nothing to move
        await pilot.pause()
        assert "Pick the item to move first" in text_of(hint)
        await pilot.press("down", "u")
        await pilot.pause()
        assert "already first" in text_of(hint)
    app = make_app(only=("t-multi",), start=True, lang="ko")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert "먼저 선택지를 고르세요" in text_of(app.screen.query_one("#hint", Static))


def test_plain_markdown_and_wrapping() -> None:
    text = "ReLU(x) = **max(0, x)**: the `grad` of a *dead* unit is 0."
    assert plain_markdown(text) == "ReLU(x) = max(0, x): the grad of a dead unit is 0."
    assert plain_markdown("```\nx = **y**\n```") == "```\nx = **y**\n```"  # code kept
    line = "slides over the surface of the loss " * 4
    for width in (20, 33, 80):
        lines = wrap(line, width).split("\n")
        assert all(cell_len(x) <= width for x in lines)
        assert " ".join(lines).split() == line.split()  # no word cut or lost
    korean = "깊은 신경망에서 기울기가 소실되는 이유는 시그모이드의 도함수가 최대 0.25이기 때문이다"
    lines = wrap(korean, 24).split("\n")
    assert len(lines) > 1 and all(cell_len(x) <= 24 for x in lines)
    assert " ".join(lines) == korean
    item = wrap("- a list item long enough to wrap onto a second line", 24).split("\n")
    assert item[0].startswith("- ") and all(x.startswith("  ") for x in item[1:])


def test_plain_mode_reads_well(bank: Bank, store: Store, scheduler: Scheduler) -> None:
    session = Session(bank.cards, store, scheduler, Spec(mode="cram", topics=("activations",),
                                                         length=1), rng=random.Random(1))
    out = io.StringIO()
    quiz = PlainQuiz(session, io.StringIO("1\nq\n"), out, sleep=lambda _: None, width=40)
    quiz.run()
    text = out.getvalue()
    assert "**" not in text and "`" not in text  # "**max(0, x)**" is shown as max(0, x)
    assert all(cell_len(line) <= 40 for line in text.split("\n") if not line.startswith(">"))
    assert "\n> " in text  # the prompt stands on its own line, after the example
