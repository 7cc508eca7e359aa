"""Grading's vocabulary (what was given, the grade, an unreadable answer) and the one rule
that turns a grade and the time taken into an FSRS rating.

What differs per card type lives in :mod:`dlprep.study.kinds`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from dlprep.record import record
from dlprep.study.strings import Note, t

if TYPE_CHECKING:
    from fsrs import Rating

    from dlprep.study.present import Presented

__all__ = ["Given", "Grade", "Rating", "Unreadable", "auto_rating", "grade", "parse_bool"]

# What the learner gave, per card type:
#   mcq: the chosen key; multi: the chosen keys; truefalse: bool;
#   numeric: the typed text; order: keys in the learner's order; recall: the self-rating.
# A string: fsrs (Rating) is imported when a grade needs it, not at start-up.
Given: TypeAlias = "str | bool | Sequence[str] | Rating"


def __getattr__(name: str) -> Any:
    if name == "Rating":  # fsrs.Rating, imported on first use (start-up speed)
        from fsrs import Rating

        return Rating
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Unreadable(ValueError):
    """An answer that cannot be read at all ("four" for a number): ask again, don't grade."""

    def __init__(self, note: Note, *, direct: bool = False) -> None:
        super().__init__(note.text("en"))
        self.note = note
        # A direct note is the whole request ("Choose at least one option"): nothing was
        # unreadable there, the learner only submitted before doing anything.
        self.direct = direct

    def ask_again(self, lang: str) -> str:
        """The line that asks for the answer again, in ``lang``."""
        note = self.note.text(lang)
        return note if self.direct else t("ask_again", lang, note=note)


@record
class Grade:
    """How one answer was judged."""

    correct: bool
    answer: str  # what was given, as stored in the review log
    note: Note | None = None  # how a typed answer was read


def grade(shown: Presented, given: Given) -> Grade:
    """Grade ``given``; raises :class:`Unreadable` for an answer that cannot be read at all
    (the caller asks again instead of rating it Again)."""
    from dlprep.study.kinds import kind_of

    return kind_of(shown.card).grade(shown, given)


def auto_rating(shown: Presented, grade: Grade, seconds: float, given: Given) -> Rating:
    """Objective cards rate themselves (fast and right: Easy); recall cards use the
    learner's own rating."""
    from fsrs import Rating

    from dlprep.study.kinds import kind_of

    kind = kind_of(shown.card)
    if kind.self_rated:
        return Rating(int(given))  # type: ignore[arg-type]
    if not grade.correct:
        return Rating.Again
    if kind.fast_seconds is not None and seconds <= kind.fast_seconds:
        return Rating.Easy
    return Rating.Good


def passed(rating: int) -> bool:
    """The one definition of a right answer in summaries, stats and reports: any rating
    above Again, as FSRS counts a recall (Hard is a pass)."""
    return int(rating) > 1


_TRUE = {"t", "true", "y", "yes", "1", "o", "참", "맞다", "예", "네", "fact", "사실"}
_FALSE = {"f", "false", "n", "no", "0", "x", "거짓", "틀리다", "아니오", "아니요", "myth", "미신"}


def parse_bool(text: str) -> bool | None:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None
