"""A study session: the planned queue, the card on screen, and every answer recorded.

Shared by the TUI and ``--plain`` so both grade, rate, schedule and save the same way.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import fsrs

from dlprep.bank.cards import Card
from dlprep.study.grading import Given, Grade, Rating, auto_rating, grade
from dlprep.study.plan import Spec, plan
from dlprep.study.present import Presented, present
from dlprep.study.schedule import Scheduler
from dlprep.study.store import Review, Store


@dataclass(frozen=True)
class Outcome:
    shown: Presented
    grade: Grade
    rating: Rating
    seconds: float
    next_due: datetime | None  # None in cram mode: the schedule was not touched


@dataclass(frozen=True)
class TopicReport:
    topic: str
    answered: int
    correct: int
    mean_seconds: float


@dataclass
class Session:
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
    _shown: Presented | None = None
    _shown_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.queue:
            self.queue = plan(self.cards, self.store.states(), self.spec, self.scheduler,
                              self.scheduler.now(), self.rng)

    @property
    def kind(self) -> str:
        return self.spec.mode

    @property
    def done(self) -> bool:
        return len(self.outcomes) >= len(self.queue) or self.out_of_time()

    @property
    def position(self) -> int:
        return len(self.outcomes)

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

    def answer(self, given: Given) -> Outcome:
        shown = self.current()
        if shown is None or self._shown_at is None:
            raise RuntimeError("no card to answer")
        now = self.scheduler.now()
        seconds = max(0.0, (now - self._shown_at).total_seconds())
        result = grade(shown, given)
        self_rating = Rating(int(given)) if shown.kind == "recall" else None  # type: ignore[arg-type]
        rating = auto_rating(shown.kind, result, seconds, self_rating)
        duration_ms = int(seconds * 1000)

        def reschedule(state: fsrs.Card | None) -> fsrs.Card:
            return self.scheduler.review(state, rating, now, duration_ms)

        review = Review(shown.card_id, now, int(rating), result.answer, duration_ms,
                        self.spec.mode, None if shown.kind == "recall" else result.correct,
                        shown.card.topic)
        new_state: fsrs.Card | None = None
        try:
            new_state = self.store.record(review, None if self.kind == "cram" else reschedule)
        except sqlite3.Error as exc:
            # Keep the session going; the learner is told once that saving stopped.
            self.save_error = f"Could not save progress: {exc}"
            if self.kind != "cram":
                new_state = reschedule(None)
        outcome = Outcome(shown, result, rating, seconds,
                          new_state.due if new_state is not None else None)
        self.outcomes.append(outcome)
        self._shown = None
        self._shown_at = None
        return outcome

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
