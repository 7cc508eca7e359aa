"""Issue 10: an answer the locked progress file refused is kept, retried and written; the
screen never says it was saved before it was."""

from __future__ import annotations

import sqlite3
import time

from textual.widgets import Static

from dlprep.study.kinds import kind_of
from dlprep.study.plan import Spec
from dlprep.study.session import Session
from dlprep.study.store import open_store
from dlprep.tui.feedback import FeedbackScreen

from .conftest import text_of


def _answer(session: Session):
    shown = session.current()
    return session.answer(kind_of(shown.card).example(shown, False))


def _locked(path):
    """Another process's write transaction on ``path`` (held until COMMIT)."""
    blocker = sqlite3.connect(str(path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


def _app_on_a_locked_store(make_app, tmp_path):
    """A one-card quiz whose progress file another process holds locked: (app, path, the
    blocking connection)."""
    path = tmp_path / "p.sqlite3"
    store = open_store(path)
    store.conn.execute("PRAGMA busy_timeout = 20")  # fail fast instead of waiting 10 s
    app = make_app(only=("t-mcq",), start=True, store=store)
    return app, path, _locked(path)


def test_session_keeps_refused_answers_in_order_until_written(bank, scheduler, tmp_path) -> None:
    store = open_store(tmp_path / "p.sqlite3")
    store.conn.execute("PRAGMA busy_timeout = 20")  # fail fast instead of waiting 10 s
    session = Session(bank.cards, store, scheduler, Spec(mode="cram", length=3))
    blocker = _locked(tmp_path / "p.sqlite3")
    first = _answer(session)
    second = _answer(session)
    assert not first.saved and not second.saved and session.pending == 2
    assert store.reviews() == []
    assert session.flush() == 2  # still locked: nothing written, nothing dropped
    blocker.execute("COMMIT")
    assert session.flush() == 0
    assert [r.answer for r in store.reviews()] == [first.grade.answer, second.grade.answer]
    assert all(o.saved for o in session.outcomes)


def test_undo_takes_back_a_written_or_a_pending_answer(bank, scheduler, tmp_path) -> None:
    store = open_store(tmp_path / "p.sqlite3")
    store.conn.execute("PRAGMA busy_timeout = 20")
    session = Session(bank.cards, store, scheduler, Spec(length=3))
    shown = session.current()
    _answer(session)
    assert len(store.reviews()) == 1 and shown.card_id in store.states()
    undone = session.undo()
    assert undone is not None and session.current() is shown  # the same card, asked again
    assert store.reviews() == [] and shown.card_id not in store.states()
    blocker = _locked(tmp_path / "p.sqlite3")
    _answer(session)
    assert session.pending == 1
    session.undo()
    assert session.pending == 0 and session.position == 0
    blocker.execute("COMMIT")
    assert store.reviews() == []


async def test_feedback_says_not_saved_until_the_retry_writes_it(make_app, tmp_path) -> None:
    app, path, blocker = _app_on_a_locked_store(make_app, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FeedbackScreen)
        schedule = text_of(screen.query_one("#schedule", Static))
        assert "Not saved yet" in schedule and "next review" not in schedule
        assert app.retry is not None  # the app keeps trying
        app.retry_saving()
        await pilot.pause(0.2)
        assert app.session.pending == 1
        blocker.execute("COMMIT")
        app.retry_saving()
        deadline = time.monotonic() + 30  # bounds a hang only
        while app.session.pending and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause()
        schedule = text_of(screen.query_one("#schedule", Static))
        assert "next review" in schedule and "Not saved" not in schedule
        assert app.retry is None
    assert len(open_store(path).reviews()) == 1


async def test_quit_with_an_unsaved_answer_asks_for_a_second_ctrl_q(make_app, tmp_path) -> None:
    app, _, blocker = _app_on_a_locked_store(make_app, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and app.session.pending == 1  # warned, not gone
        await pilot.press("ctrl+q")
        await pilot.pause()
    blocker.execute("COMMIT")


def test_an_error_other_than_a_lock_is_said_not_retried(bank, scheduler, tmp_path) -> None:
    store = open_store(tmp_path / "p.sqlite3")
    session = Session(bank.cards, store, scheduler, Spec(mode="cram", length=3))
    store.conn.execute("DROP TABLE reviews")  # a damaged file: retrying cannot help
    outcome = _answer(session)
    assert session.pending == 0 and outcome.error and not outcome.saved
    assert "no such table" in session.save_error
