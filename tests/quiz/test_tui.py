"""Pilot tests: answer every card type right and wrong; check the screen and the store."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from dlprep.study.plan import Spec
from dlprep.study.store import open_store
from dlprep.tui.answers import OrderAnswer
from dlprep.tui.card import CardScreen
from dlprep.tui.feedback import FeedbackScreen, SummaryScreen
from dlprep.tui.home import HomeScreen
from dlprep.tui.messages import Answered

from .conftest import text_of

SIZE = (100, 30)


def _keys_for(screen: CardScreen, right: bool) -> list[str]:
    shown = screen.shown
    card = shown.card
    keys = [c.key for c in shown.choices]
    if card.type == "mcq":
        index = keys.index(card.answer)
        return [str(index + 1 if right else (index + 1) % len(keys) + 1)]
    if card.type == "multi":
        wanted = card.answers if right else card.answers[:1]
        return [str(keys.index(k) + 1) for k in wanted] + ["enter"]
    if card.type == "truefalse" and card.myth:
        return ["1" if card.answer == right else "m"]
    if card.type == "truefalse":
        return ["t" if card.answer == right else "f"]
    if card.type == "recall":
        return ["space", "3" if right else "1"]
    if card.type == "numeric":
        value = shown.expected if right else shown.expected * 3
        return [*f"{value:g} {card.unit}", "enter"]
    if right:
        return ["enter"]  # order: the right order is put in by _solve_order
    return ["down", "d", "enter"]  # moved once (the shuffled order as shown is no answer)


async def _solve_order(pilot: Pilot, screen: CardScreen) -> None:
    widget = screen.query_one(OrderAnswer)
    target = [i if isinstance(i, str) else i.en for i in screen.shown.card.items]
    for position, key in enumerate(target):
        current = [c.key for c in widget.items].index(key)
        widget.highlighted = current
        await pilot.press(*(["u"] * (current - position)))
    assert [c.key for c in widget.items] == target


CARDS = ["t-mcq", "t-multi", "t-myth", "t-recall", "t-numeric", "t-template", "t-order"]


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
@pytest.mark.parametrize("card_id", CARDS)
async def test_answer_each_card_type(make_app, card_id: str, right: bool) -> None:
    seen: dict[int, object] = {}  # a bubbling message reaches the hook once per node
    app = make_app(only=(card_id,), start=True)

    def hook(message: object) -> None:
        if isinstance(message, Answered):
            seen.setdefault(id(message), message.given)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CardScreen) and screen.shown.card_id == card_id
        if card_id == "t-order" and right:
            await _solve_order(pilot, screen)
        await pilot.press(*_keys_for(screen, right))
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)
        line = text_of(app.screen.query_one("#verdict-line", Static))
        if card_id == "t-recall":
            assert ("Good" if right else "Again") in line
        else:
            assert ("✓ Right" if right else "✗ Wrong") in line
        if card_id == "t-multi":  # each choice marked: chosen and right, missed, wrong
            assert "(chosen, right)" in line
            assert ("(missed)" in line) is not right
        else:
            assert "Answer:" in line
        assert len(seen) == 1
    [review] = open_store().reviews()
    assert review.card_id == card_id and review.kind == "due"
    if card_id == "t-recall":
        assert review.correct is None and review.rating == (3 if right else 1)
    else:
        assert review.correct is right and review.rating in ((3, 4) if right else (1,))


async def test_home_to_card_to_summary(make_app) -> None:
    app = make_app(only=("t-mcq", "t-myth"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("s")
        await pilot.pause()
        for _ in range(2):
            assert isinstance(app.screen, CardScreen)
            await pilot.press(*_keys_for(app.screen, True), "enter")
            await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert "2 of 2 right" in text_of(app.screen.query_one("#summary-text", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_mouse_answers_mcq(make_app) -> None:
    app = make_app(only=("t-mcq",), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        index = [c.key for c in app.screen.shown.choices].index("[0, ∞)")
        await pilot.click("#answer", offset=(4, 1 + index))
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)
    assert open_store().reviews()[0].correct is True


async def test_mock_interview_countdown_with_injected_clock(make_app, clock) -> None:
    spec = Spec(mode="mock", mock_cards=3, mock_seconds_per_card=20)
    app = make_app(only=("t-mcq", "t-numeric", "t-myth"), spec=spec, start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # the footer says what Escape does in an interview
        escape = app.screen.active_bindings["escape"].binding
        assert escape.description == "End interview"
        status = app.screen.query_one("#card-status", Static)
        assert "Time left 1:00" in text_of(status)
        clock.advance(12)
        app.tick()  # the app owns the countdown; tests drive it instead of waiting for it
        await pilot.pause()
        assert "Time left 0:48" in text_of(app.screen.query_one("#card-status", Static))
        await pilot.press(*_keys_for(app.screen, True))
        await pilot.pause()
        assert isinstance(app.screen, CardScreen)  # no feedback in a mock interview
        clock.advance(50)
        app.tick()
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        assert app.countdown is None  # stopped with the interview: nothing ticks any more
        text = text_of(app.screen.query_one("#summary-text", Static))
        assert "Mock interview report" in text and "1 of 1 right" in text
        # no feedback came during the interview, so the report lists every answer with its key
        first = app.session.outcomes[0]
        answers = app.screen.query_one("#answers").source
        assert "Your answers" in answers and "✓" in answers and "12 s" in answers
        assert first.shown.expected_text() in answers
        app.tick()  # a late tick changes nothing
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
    [review] = open_store().reviews()
    assert review.kind == "mock" and review.duration_ms == 12_000


async def test_escape_on_the_mock_report_goes_home_and_nothing_crashes(make_app, clock) -> None:
    # issue 14: the first card's timer kept firing under the report, and Escape crashed the
    # app with NoMatches. Started from the command line, as `dlprep quiz --mock 2` does.
    spec = Spec(mode="mock", mock_cards=2, mock_seconds_per_card=20)
    app = make_app(only=("t-mcq", "t-myth"), spec=spec, start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(2):
            await pilot.press(*_keys_for(app.screen, True))
            await pilot.pause()
        assert isinstance(app.screen, SummaryScreen) and len(app.screen_stack) == 1
        clock.advance(600)
        await pilot.pause(0.6)  # a real tick or two, had any timer survived
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and len(app.screen_stack) == 1
        await pilot.press("v")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
    assert app.return_code in (None, 0)


async def test_the_first_card_is_timed_from_when_it_is_seen(make_app, clock,
                                                            monkeypatch) -> None:
    # Start-up can take seconds on a loaded machine: neither the first answer's time (fast
    # answers are rated Easy) nor the interview's countdown may include it.
    from dlprep.tui.app import QuizApp

    first_screen = QuizApp._first_screen

    def slow_start(self: QuizApp):
        screen = first_screen(self)
        clock.advance(7)  # what start-up took after the card was presented
        return screen

    monkeypatch.setattr(QuizApp, "_first_screen", slow_start)
    spec = Spec(mode="mock", mock_cards=2, mock_seconds_per_card=20)
    app = make_app(only=("t-mcq", "t-myth"), spec=spec, start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.session.seconds_left() == 40
        clock.advance(2)
        await pilot.press(*_keys_for(app.screen, True))
        await pilot.pause()
        assert app.session.outcomes[0].seconds == 2


async def test_escape_in_a_mock_interview_asks_then_shows_the_report(make_app, clock) -> None:
    from dlprep.tui.info import ConfirmScreen

    spec = Spec(mode="mock", mock_cards=3, mock_seconds_per_card=20)
    app = make_app(only=("t-mcq", "t-numeric", "t-myth"), spec=spec, start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # the footer says what Escape does in an interview
        escape = app.screen.active_bindings["escape"].binding
        assert escape.description == "End interview"
        await pilot.press(*_keys_for(app.screen, True))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # no: back to the same card
        await pilot.pause()
        assert isinstance(app.screen, CardScreen) and app.session.position == 1
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        summary = text_of(app.screen.query_one("#summary-text", Static))
        assert "Mock interview report: 1 of 1 right" in summary
        assert "2 card(s) not answered: you ended the interview" in summary


async def test_tiny_terminal_and_resize_do_not_crash(make_app) -> None:
    app = make_app(only=("t-order", "t-recall"))
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.resize_terminal(40, 12)
        await pilot.press("escape", "ctrl+t")
        await pilot.pause()
        assert app.theme == "textual-light"
        assert isinstance(app.screen, CardScreen)


async def test_language_switch_and_read_only_store(make_app, monkeypatch, tmp_path) -> None:
    from dlprep.study.store import open_store as really_open

    blocked = tmp_path / "file"
    blocked.write_text("")
    app = make_app(store=really_open(blocked / "x.sqlite3"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "not being saved" in text_of(app.screen.query_one("#home-notice", Static))
        await pilot.press("l")
        await pilot.pause()
        assert app.lang == "ko"
        assert "저장되지 않습니다" in text_of(app.screen.query_one("#home-notice", Static))


async def test_no_screen_stays_below_and_the_stack_stays_small(make_app) -> None:
    # The first card is built as the app's first screen (no blank screen under it, which
    # speeds start-up), and is replaced like any other: one screen on the stack throughout.
    app = make_app(only=("t-mcq", "t-myth", "t-numeric"), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen
        assert isinstance(first, CardScreen) and len(app.screen_stack) == 1
        for _ in range(3):
            await pilot.press(*_keys_for(app.screen, True), "enter")
            await pilot.pause()
            assert len(app.screen_stack) == 1
        assert isinstance(app.screen, SummaryScreen)
        assert not first.is_attached  # the first card is gone, not waiting underneath


async def test_footer_labels_follow_the_language_there_and_back(make_app) -> None:
    app = make_app(only=("t-mcq",))

    def labels() -> set[str]:
        return {b.description for _, b, _, _ in app.screen.active_bindings.values() if b.show}

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert {"Start", "Help"} <= labels()
        await pilot.press("l")
        await pilot.pause()
        assert {"시작", "도움말"} <= labels() and not {"Start", "Help"} & labels()
        await pilot.press("l")
        await pilot.pause()
        assert {"Start", "Help"} <= labels() and not {"시작", "도움말"} & labels()


def test_resume_gc_turns_the_paused_collector_back_on() -> None:
    import gc

    from dlprep.tui.app import resume_gc

    gc.disable()  # as `dlprep quiz` does for its start-up
    try:
        resume_gc()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


async def test_unreadable_number_is_asked_again_not_graded(make_app) -> None:
    app = make_app(only=("t-numeric",), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"four", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CardScreen) and app.session.outcomes == []
        assert "answer again" in text_of(app.screen.query_one("#hint", Static))
        app.screen.query_one("#answer").value = ""
        await pilot.press(*"4 MB", "enter")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)
    assert len(open_store().reviews()) == 1


async def test_extra_enter_after_feedback_does_not_answer_the_next_card(make_app) -> None:
    app = make_app(only=("t-myth", "t-mcq"), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*_keys_for(app.screen, True))
        await pilot.pause()
        await pilot.press("enter", "enter")  # one Enter too many
        await pilot.pause()
        assert isinstance(app.screen, CardScreen) and app.session.position == 1
        assert app.screen.query_one("#answer").highlighted is None


UNTOUCHED = {  # what an untouched card asks for: directly, never "unreadable"
    ("t-multi", "en"): "Choose at least one option",
    ("t-multi", "ko"): "하나 이상 고르세요",
    ("t-order", "en"): "Move the items into order first (they are still shuffled)",
    ("t-order", "ko"): "항목을 아직 옮기지 않았습니다. 순서를 맞춘 뒤 제출하세요",
}


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("second", ["t-multi", "t-order"])
async def test_extra_enter_does_not_submit_an_untouched_multi_or_order_card(
        make_app, second: str, lang: str) -> None:
    # Enter submits these widgets, so the guard is that an empty choice or the shuffled
    # order as shown is no answer: the card is asked again and nothing is recorded.
    app = make_app(only=("t-mcq", second), start=True, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.shown.card.id == "t-mcq"
        await pilot.press(*_keys_for(app.screen, True))
        await pilot.pause()
        await pilot.press("enter", "enter")  # one Enter too many
        await pilot.pause()
        assert isinstance(app.screen, CardScreen) and app.screen.shown.card.id == second
        assert app.session.position == 1 and len(open_store().reviews()) == 1
        hint = text_of(app.screen.query_one("#hint", Static))
        assert hint == UNTOUCHED[second, lang]
        assert "Could not read" not in hint and "읽을 수 없는" not in hint
        if second == "t-order":
            await _solve_order(pilot, app.screen)
        keys = _keys_for(app.screen, True)
        await pilot.press(*keys)
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen) and app.session.outcomes[-1].grade.correct


async def test_rating_keys_show_intervals_override_and_undo(make_app) -> None:
    app = make_app(only=("t-mcq", "t-myth"), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.screen.shown
        await pilot.press(*_keys_for(app.screen, True))
        await pilot.pause()
        line = text_of(app.screen.query_one("#rerate", Static))
        assert "1 Again 1m  2 Hard 6m  3 Good 10m  4 Easy 8d  u Undo" in line
        assert app.session.outcomes[-1].rating == 4  # answered at once: Easy
        await pilot.press("2")  # the learner knows it was a guess: Hard
        await pilot.pause()
        assert app.session.outcomes[-1].rating == 2
        [review] = open_store().reviews()
        assert review.rating == 2
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, CardScreen) and app.screen.shown is first
        assert open_store().reviews() == [] and app.session.position == 0


async def test_stats_suggested_session_is_a_key(make_app, bank, clock) -> None:
    from dlprep.study.kinds import kind_of
    from dlprep.study.schedule import Scheduler
    from dlprep.study.session import Session
    from dlprep.tui.info import StatsScreen

    store = open_store()
    session = Session(bank.cards, store, Scheduler(clock, fuzz=False), Spec(length=50))
    while session.unanswered and (shown := session.current()) is not None:
        clock.advance(20)
        session.answer(kind_of(shown.card).example(shown, shown.card.topic != "memory"))
    app = make_app(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, StatsScreen)
        body = text_of(app.screen.query_one("#stats-body", Static))
        assert "press c to start it" in body and "dlprep quiz" not in body
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CardScreen) and len(app.screen_stack) == 1
        assert app.session.spec.topics == ("memory",) and app.session.kind == "cram"


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_home_column_headers_line_up_in_terminal_cells(make_app, lang: str) -> None:
    from rich.cells import cell_len

    from dlprep.study.strings import t

    app = make_app(lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        strips = app.screen._compositor.render_strips()

    def ends(row: int) -> list[int]:
        """The cell just after each word of a screen row (Korean syllables are 2 cells)."""
        line = "".join(seg.text for seg in strips[row])
        out, cells, inside = [], 0, False
        for ch in line:
            if cells >= 50:  # the topics pane only
                break
            word = ch not in " │╭╮─"
            if inside and not word:
                out.append(cells)
            inside = word
            cells += cell_len(ch)
        return out

    header, first_row = ends(1), ends(3)
    names = [t(k, lang) for k in ("cards", "new_short", "due_short")]
    # the last three words of each line are the three columns: they end in the same cell
    assert header[-3:] == first_row[-3:], (names, header, first_row)


def _long_first_choice(bank) -> str:
    """Make t-multi's first choice (a right one) too long for one line; returns it."""
    import dataclasses

    long = ("tanh, because its output is centred on zero and so the next layer's inputs "
            "keep both signs instead of all being positive")
    card = bank.cards["t-multi"]
    bank.cards["t-multi"] = dataclasses.replace(
        card, choices=(long, *card.choices[1:]), answers=(long, *card.answers[1:]))
    return long


async def test_long_choices_wrap_under_their_text_not_the_number(make_app, bank) -> None:
    _long_first_choice(bank)
    app = make_app(only=("t-multi",), start=True)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        rows = ["".join(seg.text for seg in strip)
                for strip in app.screen._compositor.render_strips()]
    first = next(i for i, row in enumerate(rows) if "tanh, because" in row)
    text_at = rows[first].index("tanh, because")
    follow = rows[first + 1]
    assert "…" not in rows[first]
    assert follow[:text_at].strip(" ▊") == "" and follow[text_at] != " "  # hanging indent


async def test_multi_feedback_marks_wrap_under_their_text(make_app, bank) -> None:
    long = _long_first_choice(bank)
    app = make_app(only=("t-multi",), start=True)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        keys = [c.key for c in app.screen.shown.choices]
        await pilot.press(str(keys.index(long) + 1), "enter")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)
        rows = ["".join(seg.text for seg in strip)
                for strip in app.screen._compositor.render_strips()]
    first = next(i for i, row in enumerate(rows) if "tanh, because" in row)
    text_at = rows[first].index("tanh, because")
    assert rows[first][:text_at].strip() == "✓"
    for row in rows[first + 1:first + 3]:  # the rest of the choice and its "(chosen, right)"
        assert row[:text_at].strip() == "" and row[text_at] != " ", row


def test_the_help_screen_lists_only_keys_that_exist() -> None:
    """Every key the help names is bound where it says (or by the widget Textual gives it)."""
    import re

    from textual.widgets import Input, SelectionList

    from dlprep.tui.answers import McqAnswer, MultiAnswer, RecallAnswer, TrueFalseAnswer
    from dlprep.tui.app import QuizApp
    from dlprep.tui.demo import DemoScreen
    from dlprep.tui.info import HELP, StatsScreen

    where = {"h_any": [QuizApp], "s_home": [HomeScreen, SelectionList],
             "type_mcq": [McqAnswer], "type_multi": [MultiAnswer],
             "type_truefalse": [TrueFalseAnswer], "type_myth": [TrueFalseAnswer],
             "type_recall": [RecallAnswer], "type_numeric": [Input], "type_order": [OrderAnswer],
             "s_card": [CardScreen], "s_feedback": [FeedbackScreen],
             "s_demo": [DemoScreen, Input], "s_stats": [StatsScreen],
             "s_summary": [SummaryScreen]}

    def bound(classes: list[type]) -> set[str]:
        keys = {"tab", "shift+tab"}  # every screen moves focus
        for cls in classes:
            for klass in cls.__mro__:
                for binding in klass.__dict__.get("BINDINGS", []):
                    keys |= {k.strip() for k in binding.key.split(",")}
        return keys

    names = {"?": ["question_mark"], "↑↓": ["up", "down"], "shift+↑↓": ["shift+up", "shift+down"],
             "1-9": [str(i) for i in range(1, 10)], "1-4": [str(i) for i in range(1, 5)]}
    for screen, keys, _ in HELP:
        have = bound(where[screen])
        for token in re.split(r"[ ,/]+|\bor\b", keys):
            if not token.strip():
                continue
            for key in names.get(token.lower(), [token.lower()]):
                assert key in have, (screen, keys, key)


def test_cut_topic_titles_end_in_an_ellipsis_without_a_gap() -> None:
    from rich.cells import cell_len

    from dlprep.tui.home import fit

    for title in ("기울기 소실과 폭주", "손실, 출력, 평가 지표", "Training loop: forward"):
        cut = fit(title, 16)
        assert cell_len(cut) == 16 and "…" in cut and " …" not in cut, cut
    assert fit("GPU와 성능", 16) == "GPU와 성능" + " " * 6


async def test_recall_rating_buttons_show_the_interval_each_gives(make_app) -> None:
    from textual.widgets import Button

    app = make_app(only=("t-recall",), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        labels = [str(app.screen.query_one(f"#rate-{i}", Button).label) for i in range(1, 5)]
        assert labels == ["1 Again · 1m", "2 Hard · 6m", "3 Good · 10m", "4 Easy · 8d"]
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)
        assert "Rated Easy; next review in 8d" in text_of(app.screen.query_one("#schedule"))


async def test_a_recall_card_with_a_demo_offers_the_prediction_before_its_answer(
        make_app, bank) -> None:
    import dataclasses
    import time

    from dlprep.tui.demo import DemoScreen

    bank.cards["t-recall"] = dataclasses.replace(bank.cards["t-recall"],
                                                 demo=bank.cards["t-demo"].demo)
    app = make_app(only=("t-recall",), start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        footer = {b.binding.key: b.binding.description
                  for b in app.screen.active_bindings.values()}
        assert footer.get("d") == "Predict & run demo" and footer.get("space") == "Show answer"
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DemoScreen)
        await pilot.press("y", "enter")
        deadline = time.monotonic() + 30  # bounds a hang only
        while app.screen.running and time.monotonic() < deadline:
            await pilot.pause(0.02)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CardScreen)  # back to the card, answer still hidden
        await pilot.press("space")
        await pilot.pause()
        assert not app.screen.check_action("demo", ())  # the answer is out: no more "d" here
        assert "space" not in {b.binding.key for b in app.screen.active_bindings.values()
                               if b.binding.show and b.enabled}
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen) and app.screen.revealed
        assert "● Good" in text_of(app.screen.query_one("#verdict-line", Static))
