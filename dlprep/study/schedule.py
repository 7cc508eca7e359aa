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


# fsrs's own invariants (fsrs.scheduler.STABILITY_MIN, MIN_DIFFICULTY, MAX_DIFFICULTY): a
# state outside them is accepted by fsrs.Card.from_dict and crashes the next review.
STABILITY_MIN = 0.001
DIFFICULTY_MIN, DIFFICULTY_MAX = 1.0, 10.0
STABILITY_MAX = 1e9
YEARS = (1900, 9000)  # fsrs adds at most 100 years; year 1 or 9999 overflows in UTC
_STATE_KEYS = {"card_id", "state", "step", "stability", "difficulty", "due", "last_review"}


def moment_problem(value: object) -> str:
    """Why ``value`` is not a usable timestamp ('' if it is): ISO 8601 with a UTC offset,
    in a year fsrs can schedule from without overflowing."""
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return f"{text[:40]!r} is not an ISO 8601 timestamp"
    if not isinstance(value, datetime) or value.tzinfo is None:
        return "a timestamp must carry its UTC offset"
    try:
        year = value.astimezone(UTC).year
    except (OverflowError, ValueError):
        return f"{value.isoformat()} is out of range"
    if not YEARS[0] <= year <= YEARS[1]:
        return f"{value.isoformat()} is outside the years {YEARS[0]}-{YEARS[1]}"
    return ""


def state_problem(d: object) -> str:
    """Why fsrs cannot schedule the card state ``d`` (as ``fsrs.Card.to_dict`` writes it),
    or '' when it can. Pure: no fsrs import, so a store is checked at open cheaply."""
    if not isinstance(d, dict) or set(d) != _STATE_KEYS:
        return f"a card state has the fields {', '.join(sorted(_STATE_KEYS))}"
    state, step = d["state"], d["step"]
    if type(state) is not int or state not in (1, 2, 3):
        return f"state must be 1 (learning), 2 (review) or 3 (relearning), got {state!r}"
    if state == 2 and step is not None:
        return f"a card in review has no learning step, got step {step!r}"
    if state != 2 and step is not None and (type(step) is not int or not 0 <= step <= 100):
        return f"step must be a whole number from 0 to 100, got {step!r}"
    if state == 3 and step is None:
        return "a relearning card needs its step"
    s, dif = d["stability"], d["difficulty"]
    if (s is None) != (dif is None) or (s is None and state != 1):
        return "stability and difficulty are both set (or both null for a new card)"
    if s is not None:
        for name, value, low, high in (("stability", s, STABILITY_MIN, STABILITY_MAX),
                                       ("difficulty", dif, DIFFICULTY_MIN, DIFFICULTY_MAX)):
            if type(value) not in (int, float) or not low <= value <= high:
                return f"{name} must be a number from {low:g} to {high:g}, got {value!r}"
    for name in ("due", "last_review"):
        if d[name] is not None or name == "due":
            problem = moment_problem(d[name])
            if problem:
                return f"{name}: {problem}"
    return ""
