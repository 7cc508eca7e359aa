"""Grade an answer to a presented card, and rate it for the scheduler.

What differs per card type lives in :mod:`dlprep.study.kinds`; this is the one rule that
turns a grade and the time taken into an FSRS rating.
"""

from __future__ import annotations

from fsrs import Rating

from dlprep.study.kinds import Given, Grade, kind_of, parse_bool
from dlprep.study.present import Presented

__all__ = ["Given", "Grade", "Rating", "auto_rating", "grade", "parse_bool"]


def grade(shown: Presented, given: Given) -> Grade:
    """Grade ``given``; raises :class:`dlprep.study.kinds.Unreadable` for an answer that
    cannot be read at all (the caller asks again instead of rating it Again)."""
    return kind_of(shown.card).grade(shown, given)


def auto_rating(shown: Presented, grade: Grade, seconds: float, given: Given) -> Rating:
    """Objective cards rate themselves (fast and right: Easy); recall cards use the
    learner's own rating."""
    kind = kind_of(shown.card)
    if kind.self_rated:
        return Rating(int(given))  # type: ignore[arg-type]
    if not grade.correct:
        return Rating.Again
    if kind.fast_seconds is not None and seconds <= kind.fast_seconds:
        return Rating.Easy
    return Rating.Good
