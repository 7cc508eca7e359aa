"""A study session: the planned queue, the card on screen, and every answer recorded.

Shared by the TUI and ``--plain`` so both grade, rate, schedule and save the same way.
A card whose answer puts it on an FSRS learning or relearning step (a new card or a lapse
rated Again, say, due again in a minute) comes back within the session when that step is
due, before the next planned card; once the plan is used up, the waiting cards are asked
early rather than ending the session (Anki's "learn ahead").
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
from dlprep.study.grading import Given, Grade, auto_rating, grade, passed
from dlprep.study.kinds import kind_of
from dlprep.study.plan import Spec, plan
from dlprep.study.present import Presented, present
from dlprep.study.schedule import Scheduler
from dlprep.study.store import Review, Store
from dlprep.study.strings import t

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
    """One topic's line in the session summary: cards, not answers (a card asked again
    counts once; it is right when its first answer passed)."""

    topic: str
    answered: int
    correct: int
    mean_seconds: float  # per answer
    again: int = 0  # cards of this topic that came back within the session


@record
class Summary:
    """The whole session's line: cards answered, right at the first answer, came back."""

    cards: int
    right: int
    again: int
    answers: int


@record
class _Comeback:
    """A card waiting in the session for its learning step to come due."""

    due: datetime
    card_id: str


@record
class _Step:
    """How one answer moved the session: where its card came from, the comeback it
    scheduled, and the in-session state the card had before (so undo restores all three)."""

    source: _Comeback | None  # None: the card came from the plan
    scheduled: _Comeback | None
    before: fsrs.Card | None


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
    _next_plan: int = 0  # index into queue of the next planned card
    _source: _Comeback | None = None  # where the card on screen came from (None: the plan)
    _comebacks: list[_Comeback] = field(default_factory=list)
    _steps: list[_Step] = field(default_factory=list)  # one per outcome
    # each card's state after its last answer in this session; in cram mode it is never
    # saved, so this is the only place a crammed card's learning step is known
    _learned: dict[str, fsrs.Card | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.queue:
            self.queue = plan(self.cards, self.store.states(), self.spec, self.scheduler,
                              self.scheduler.now(), self.rng)

    @property
    def kind(self) -> str:
        return self.spec.mode

    @property
    def done(self) -> bool:
        return self.stopped or self.out_of_time() or (
            self._shown is None and self._next_plan >= len(self.queue) and not self._comebacks)

    @property
    def unanswered(self) -> int:
        """Planned cards not answered (the interview was ended, or its time ran out)."""
        return len(self.queue) - self._next_plan + (self._shown is not None
                                                     and self._source is None)

    @property
    def total(self) -> int:
        """Answers so far plus the cards still to ask (planned or waiting to come back):
        the "of n" of the progress line, which grows when a card comes back."""
        waiting = len(self.queue) - self._next_plan + len(self._comebacks)
        return len(self.outcomes) + waiting + (self._shown is not None)

    def stop(self) -> None:
        """End the session now; the report covers the answers so far."""
        self.stopped = True
        self._put_back()  # the card on screen was not answered

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
            card_id = self._pick(now)
            self._shown = present(self.cards[card_id], self.lang, self.rng)
            self._shown_at = now
        return self._shown

    def _pick(self, now: datetime) -> str:
        """A waiting card whose step is due, else the next planned card, else (learning
        ahead) the waiting card due first."""
        soonest = min(self._comebacks, key=lambda c: c.due, default=None)
        if soonest is not None and (soonest.due <= now or self._next_plan >= len(self.queue)):
            self._comebacks.remove(soonest)
            self._source = soonest
            return soonest.card_id
        self._source = None
        self._next_plan += 1
        return self.queue[self._next_plan - 1]

    def _put_back(self) -> None:
        """The card on screen was not answered (an undo): return it where it came from."""
        if self._shown is None:
            return
        if self._source is None:
            self._next_plan -= 1
        else:
            self._comebacks.append(self._source)
        self._shown, self._shown_at, self._source = None, None, None

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
        self._come_back(shown.card_id, rating, now, int(seconds * 1000))
        return self.outcomes[-1]

    def _come_back(self, card_id: str, rating: Rating, now: datetime, ms: int) -> None:
        """Schedule the card to come back in this session if its answer put it on a learning
        or relearning step; remember how, so that undo can take it back."""
        from fsrs import State

        outcome = self.outcomes[-1]
        if card_id in self._learned:  # answered before in this session
            before = self._learned[card_id]
        elif outcome.saved and self.kind != "cram":
            before = outcome.previous  # the state the write just replaced
        else:  # cram saves no state, and a pending write has not read it yet
            before = self.store_state(card_id)
        if outcome.saved and outcome.options is not None:
            after = outcome.options[rating]  # exactly the state that was written
        else:  # cram, or a write still pending: the same computation, not saved
            after = self.scheduler.review(before, rating, now, ms)
        self._learned[card_id] = after
        scheduled = None
        if after.state in (State.Learning, State.Relearning):
            scheduled = _Comeback(after.due, card_id)
            self._comebacks.append(scheduled)
        self._steps.append(_Step(self._source, scheduled, before))
        self._source = None

    def store_state(self, card_id: str) -> fsrs.Card | None:
        """The card's saved state (None if new, or if the progress file cannot be read)."""
        try:
            return self.store.states().get(card_id)
        except _SAVE_ERRORS:
            return None

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
            self._put_back()
            outcome = self.outcomes.pop()
            step = self._steps.pop()
            if step.scheduled is not None and step.scheduled in self._comebacks:
                self._comebacks.remove(step.scheduled)
            self._learned[outcome.shown.card_id] = step.before
            if self._pending and self._pending[-1].index == index:
                self._pending.pop()
            elif outcome.saved and outcome.at is not None:
                store_module.forget(self.store, outcome.shown.card_id, outcome.at,
                                    outcome.previous if self.kind != "cram" else None,
                                    reschedule=self.kind != "cram")
        self._shown = outcome.shown
        self._shown_at = self.scheduler.now()
        self._source = step.source
        self._offer = None
        return outcome

    def rerate(self, rating: Rating) -> Outcome | None:
        """The learner overrides the automatic rating of the last answer."""
        if not self.outcomes or self.outcomes[-1].rating == rating:
            return None
        last = self.outcomes[-1]
        self.undo()  # the card is on screen again, with its source: _record re-answers it
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
        """Per topic: cards answered, right at their first answer, mean seconds per answer,
        cards that came back."""
        topics: dict[str, list[Outcome]] = {}
        for outcome in self.outcomes:
            topics.setdefault(outcome.shown.card.topic, []).append(outcome)
        rows = []
        for topic, items in topics.items():
            first = _first_answers(items)
            rows.append(TopicReport(
                topic, len(first), sum(1 for o in first.values() if passed(o.rating)),
                sum(o.seconds for o in items) / len(items),
                sum(1 for cid in first if sum(o.shown.card_id == cid for o in items) > 1)))
        return rows

    def summary(self) -> Summary:
        """The session's headline: cards (not answers), right at first, came back."""
        rows = self.report()
        return Summary(sum(r.answered for r in rows), sum(r.correct for r in rows),
                       sum(r.again for r in rows), len(self.outcomes))


def summary_text(summary: Summary, lang: str) -> str:
    """The headline's words: cards right at first, and how many came back."""
    text = t("summary", lang, right=summary.right, n=summary.cards)
    if summary.again:
        text += " · " + t("came_back", lang, n=summary.again, answers=summary.answers)
    return text


def _first_answers(outcomes: list[Outcome]) -> dict[str, Outcome]:
    first: dict[str, Outcome] = {}
    for outcome in outcomes:
        first.setdefault(outcome.shown.card_id, outcome)
    return first
