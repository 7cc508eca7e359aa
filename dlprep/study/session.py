"""A study session: the planned queue, the card on screen, and every answer recorded.

Shared by the TUI and ``--plain`` so both grade, rate, schedule and save the same way.
An answer that cannot be written because another process holds the progress file stays
pending (in order) until :meth:`Session.flush` writes it; nothing claims it was saved
before it was.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from dlprep.bank.cards import Card
from dlprep.record import record
from dlprep.study import store as store_module
from dlprep.study.grading import Given, Grade, auto_rating, grade
from dlprep.study.kinds import kind_of
from dlprep.study.plan import Spec, plan
from dlprep.study.present import Presented, present
from dlprep.study.schedule import Scheduler
from dlprep.study.store import Review, Store

if TYPE_CHECKING:  # fsrs is imported by the first grade, not at start-up
    import fsrs
    from fsrs import Rating


@record
class Outcome:
    """One answered card: its grade, rating, schedule and whether it was saved."""

    shown: Presented
    grade: Grade
    rating: Rating
    seconds: float
    next_due: datetime | None  # None in cram mode, or while the answer is not saved yet
    at: datetime | None = None  # when it was answered
    saved: bool = True
    previous: fsrs.Card | None = None  # the card's state before this answer (undo, re-rate)
    given: Given = ""  # as the learner gave it (the feedback marks each choice from it)
    error: str = ""  # why it could not be saved at all (not a lock: retrying cannot help)
    # The state each rating gives, computed once when the answer was written: the rating
    # keys show these intervals, and choosing another rating takes exactly that state
    # (FSRS fuzzes longer intervals at random, so a second computation would differ).
    options: Mapping[Rating, fsrs.Card] | None = field(default=None, compare=False)


@record
class TopicReport:
    """One topic's line in the session summary."""

    topic: str
    answered: int
    correct: int
    mean_seconds: float


def is_locked(exc: BaseException) -> bool:
    """Another process holds the database: worth retrying (anything else is not)."""
    locked = getattr(store_module, "StoreLocked", None)
    if locked is not None and isinstance(exc, locked):
        return True
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


# What a failed write may raise: SQLite's errors, the store's own, and a distinct "locked"
# type if the store declares one (it may not derive from either).
_SAVE_ERRORS: tuple[type[BaseException], ...] = tuple(
    {sqlite3.Error, store_module.StoreError, getattr(store_module, "StoreLocked", sqlite3.Error)})


@record
class _Pending:
    """An answer the locked progress file refused, kept to be written later."""

    index: int  # into outcomes
    review: Review
    rating: Rating
    options: Mapping[Rating, fsrs.Card] | None = None  # a re-rating reuses these
    previous: fsrs.Card | None = None  # ... when the stored state is still this one


def _same(a: fsrs.Card | None, b: fsrs.Card | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None
                                         and a.to_json() == b.to_json())


@dataclass
class Session:
    """The cards of one session in order, the one on screen, and the answers so far."""

    cards: Mapping[str, Card]
    store: Store
    scheduler: Scheduler
    spec: Spec = field(default_factory=Spec)
    lang: str = "en"
    rng: random.Random = field(default_factory=random.Random)
    queue: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    save_error: str = ""
    started: datetime | None = None
    stopped: bool = False  # a mock interview the learner ended early
    _shown: Presented | None = None
    _shown_at: datetime | None = None
    # a self-rated card's answer was revealed: (when, the state each rating gives, before)
    _offer: tuple[datetime, dict[Rating, fsrs.Card], fsrs.Card | None] | None = None
    _pending: list[_Pending] = field(default_factory=list)
    _writing: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.queue:
            self.queue = plan(self.cards, self.store.states(), self.spec, self.scheduler,
                              self.scheduler.now(), self.rng)

    @property
    def kind(self) -> str:
        return self.spec.mode

    @property
    def done(self) -> bool:
        return self.stopped or len(self.outcomes) >= len(self.queue) or self.out_of_time()

    @property
    def unanswered(self) -> int:
        """Planned cards not answered (the interview was ended, or its time ran out)."""
        return len(self.queue) - len(self.outcomes)

    def stop(self) -> None:
        """End the session now; the report covers the answers so far."""
        self.stopped = True
        self._shown = None

    @property
    def position(self) -> int:
        return len(self.outcomes)

    @property
    def pending(self) -> int:
        """Answers taken but not yet written (the progress file was locked)."""
        return len(self._pending)

    def current(self) -> Presented | None:
        """The card to answer now; its clock starts the first time it is asked for."""
        if self.done:
            return None
        if self._shown is None:
            now = self.scheduler.now()
            if self.started is None:
                self.started = now
            self._shown = present(self.cards[self.queue[self.position]], self.lang, self.rng)
            self._shown_at = now
        return self._shown

    def restart_clock(self) -> None:
        """The card on screen was only now seen: time it (and the session) from now."""
        if self._shown is not None and not self.outcomes:
            now = self.scheduler.now()
            self._shown_at = now
            self.started = now

    def seconds_left(self) -> float | None:
        """Mock interviews have a countdown; other sessions return None."""
        if self.spec.mode != "mock" or self.started is None:
            return None
        budget = self.spec.mock_seconds_per_card * len(self.queue)
        elapsed = (self.scheduler.now() - self.started).total_seconds()
        return max(0.0, budget - elapsed)

    def out_of_time(self) -> bool:
        left = self.seconds_left()
        return left is not None and left <= 0

    def check(self, given: Given) -> None:
        """Raise :class:`dlprep.study.kinds.Unreadable` when ``given`` cannot be read at all,
        so the screen asks again instead of recording a wrong answer."""
        shown = self.current()
        if shown is not None:
            kind_of(shown.card).read(shown, given)

    def reveal(self) -> dict[Rating, float]:
        """A self-rated card's answer is shown: it is reviewed as of now, and each rating key
        can show its interval in seconds (the rating, when it comes, records those states)."""
        shown = self.current()
        if shown is None or self._shown_at is None or self.kind == "cram":
            return {}
        from fsrs import Rating

        now = self.scheduler.now()
        state = self.store.states().get(shown.card_id)
        ms = int(max(0.0, (now - self._shown_at).total_seconds()) * 1000)
        options = {r: self.scheduler.review(state, r, now, ms) for r in Rating}
        self._offer = (now, options, state)
        return {r: (s.due - now).total_seconds() for r, s in options.items()}

    def answer(self, given: Given) -> Outcome:
        shown = self.current()
        if shown is None or self._shown_at is None:
            raise RuntimeError("no card to answer")
        now = self.scheduler.now()
        offer, self._offer = self._offer, None
        if offer is not None:
            now = offer[0]  # recalled when the answer was revealed, rated just after
        seconds = max(0.0, (now - self._shown_at).total_seconds())
        result = grade(shown, given)
        rating = auto_rating(shown, result, seconds, given)
        self._shown = None
        self._shown_at = None
        return self._record(shown, result, rating, seconds, now, given,
                            *(offer[1:] if offer else (None, None)))

    def _record(self, shown: Presented, result: Grade, rating: Rating, seconds: float,
                now: datetime, given: Given, options: Mapping[Rating, fsrs.Card] | None = None,
                previous: fsrs.Card | None = None) -> Outcome:
        review = Review(shown.card_id, now, int(rating), result.answer, int(seconds * 1000),
                        self.spec.mode, None if kind_of(shown.card).self_rated else result.correct,
                        shown.card.topic)
        self.outcomes.append(Outcome(shown, result, rating, seconds, None, now, saved=False,
                                     given=given))
        self._pending.append(_Pending(len(self.outcomes) - 1, review, rating, options,
                                      previous))
        self.flush()
        return self.outcomes[-1]

    def flush(self) -> int:
        """Write pending answers in order; stop at the first that cannot be written yet.
        Returns how many are still pending. Safe to call from a worker thread."""
        with self._writing:
            while self._pending:
                item = self._pending[0]
                if not self._write(item):
                    break
                self._pending.pop(0)
            return len(self._pending)

    def _write(self, item: _Pending) -> bool:
        from fsrs import Rating

        review, rating = item.review, item.rating
        before: list[fsrs.Card | None] = [None]
        options: dict[Rating, fsrs.Card] = {}

        def reschedule(state: fsrs.Card | None) -> fsrs.Card:
            before[0] = state
            if item.options is not None and _same(state, item.previous):
                options.update(item.options)
            else:  # another process may have reviewed the card since: compute afresh
                options.update({r: self.scheduler.review(state, r, review.at,
                                                         review.duration_ms) for r in Rating})
            return options[rating]

        try:
            new = self.store.record(review, None if self.kind == "cram" else reschedule)
        except _SAVE_ERRORS as exc:
            if is_locked(exc):
                return False
            # Not a lock: retrying will not help. Say so; the session goes on unsaved.
            self.save_error = f"Could not save progress: {exc}"
            self.outcomes[item.index] = replace(self.outcomes[item.index], error=str(exc))
            return True
        outcome = self.outcomes[item.index]
        self.outcomes[item.index] = replace(
            outcome, saved=True, previous=before[0],
            next_due=new.due if new is not None else None, options=options or None)
        return True

    def undo(self) -> Outcome | None:
        """Take back the last answer (written or pending); its card is asked again."""
        with self._writing:
            if not self.outcomes:
                return None
            index = len(self.outcomes) - 1
            outcome = self.outcomes.pop()
            if self._pending and self._pending[-1].index == index:
                self._pending.pop()
            elif outcome.saved and outcome.at is not None:
                store_module.forget(self.store, outcome.shown.card_id, outcome.at,
                                    outcome.previous if self.kind != "cram" else None,
                                    reschedule=self.kind != "cram")
        self._shown = outcome.shown
        self._shown_at = self.scheduler.now()
        self._offer = None
        return outcome

    def rerate(self, rating: Rating) -> Outcome | None:
        """The learner overrides the automatic rating of the last answer."""
        if not self.outcomes or self.outcomes[-1].rating == rating:
            return None
        last = self.outcomes[-1]
        self.undo()
        self._shown = None
        self._shown_at = None
        assert last.at is not None
        return self._record(last.shown, last.grade, rating, last.seconds, last.at, last.given,
                            last.options, last.previous)

    def preview(self, outcome: Outcome) -> dict[Rating, datetime]:
        """When the card would be due again under each rating (shown on the rating keys)."""
        if self.kind == "cram" or outcome.at is None or not outcome.saved:
            return {}
        if outcome.options is not None:
            return {r: state.due for r, state in outcome.options.items()}
        from fsrs import Rating

        ms = int(outcome.seconds * 1000)
        return {r: self.scheduler.review(outcome.previous, r, outcome.at, ms).due
                for r in Rating}

    def report(self) -> list[TopicReport]:
        """Per topic: answered, right, mean seconds per answer (the mock interview's end)."""
        topics: dict[str, list[Outcome]] = {}
        for outcome in self.outcomes:
            topics.setdefault(outcome.shown.card.topic, []).append(outcome)
        return [
            TopicReport(topic, len(items), sum(1 for o in items if o.grade.correct),
                        sum(o.seconds for o in items) / len(items))
            for topic, items in topics.items()
        ]
