"""FSRS scheduling behind a small wrapper with an injectable clock (UTC, always aware).

fsrs is imported when a card is first scheduled or a saved state read, not at start-up: a
quiz's first card needs neither (start-up speed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import fsrs

    from dlprep.study.grading import Rating

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until :meth:`advance` is called (tests, snapshots, bench)."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Scheduler:
    """One FSRS scheduler; card state travels as JSON so the store stays schema-light."""

    def __init__(self, clock: Clock = utc_now, *, fuzz: bool = True) -> None:
        self.clock = clock
        self.fuzz = fuzz
        self._scheduler: fsrs.Scheduler | None = None

    @property
    def _fsrs(self) -> fsrs.Scheduler:
        if self._scheduler is None:
            import fsrs

            self._scheduler = fsrs.Scheduler(enable_fuzzing=self.fuzz)
        return self._scheduler

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    def new_state(self, now: datetime) -> fsrs.Card:
        import fsrs

        # card_id is fsrs's own int key; ours is the bank's string id, kept by the store.
        return fsrs.Card(card_id=0, due=now)

    def review(
        self, state: fsrs.Card | None, rating: Rating, now: datetime, duration_ms: int
    ) -> fsrs.Card:
        import fsrs

        card = state if state is not None else self.new_state(now)
        updated, _ = self._fsrs.review_card(
            card, fsrs.Rating(int(rating)), review_datetime=now, review_duration=duration_ms
        )
        return updated

    def retrievability(self, state: fsrs.Card, when: datetime) -> float:
        return float(self._fsrs.get_card_retrievability(state, when))


def dump_state(state: fsrs.Card) -> str:
    return state.to_json()


def load_state(text: str) -> fsrs.Card:
    import fsrs

    return fsrs.Card.from_json(text)
