"""Grade an answer to a presented card, and rate it for the scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from dlprep.bank.cards import Numeric, Order, TrueFalse, item_key
from dlprep.study.present import Presented
from dlprep.study.strings import Note
from dlprep.study.units import UnitError, parse_quantity


class Rating(IntEnum):
    """Same values as ``fsrs.Rating``; kept here so grading does not need fsrs."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


# A right answer this fast (seconds) is rated Easy: the learner knew it cold.
FAST_SECONDS = {"mcq": 8.0, "truefalse": 6.0, "multi": 15.0, "order": 20.0, "numeric": 30.0}

# What the learner gave, per card type:
#   mcq: the chosen key; multi: the chosen keys; truefalse: bool;
#   numeric: the typed text; order: keys in the learner's order; recall: the self-rating.
Given = str | bool | Sequence[str] | Rating


@dataclass(frozen=True)
class Grade:
    correct: bool
    answer: str  # what was given, as stored in the review log
    note: Note | None = None  # why a typed answer could not be read, or how it was read


def grade(shown: Presented, given: Given) -> Grade:
    card = shown.card
    kind = card.type
    if kind == "mcq":
        key = str(given)
        return Grade(key == card.answer, key)  # type: ignore[union-attr]
    if kind == "multi":
        keys = [given] if isinstance(given, str) else list(given)  # type: ignore[arg-type]
        chosen = {str(k) for k in keys}
        right = chosen == set(card.answers)  # type: ignore[union-attr]
        return Grade(right, " | ".join(sorted(chosen)))
    if isinstance(card, TrueFalse):
        value = given if isinstance(given, bool) else parse_bool(str(given))
        if value is None:
            return Grade(False, str(given), Note("note_not_bool"))
        return Grade(value == card.answer, "true" if value else "false")
    if isinstance(card, Numeric):
        return _grade_numeric(shown, str(given))
    if isinstance(card, Order):
        keys = [str(k) for k in given]  # type: ignore[union-attr]
        return Grade(keys == [item_key(i) for i in card.items], " > ".join(keys))
    # recall: the learner compared with the model answer and rated themselves
    rating = Rating(int(given))  # type: ignore[arg-type]
    return Grade(rating >= Rating.GOOD, rating.name.lower())


def _grade_numeric(shown: Presented, text: str) -> Grade:
    card = shown.card
    assert isinstance(card, Numeric) and shown.expected is not None
    try:
        value = parse_quantity(text, card.unit)
    except UnitError as exc:
        return Grade(False, text.strip(), exc.note)
    ok = card.tolerance.accepts(value, shown.expected)
    read = f"{value:.6g} {card.unit}".rstrip()
    return Grade(ok, text.strip(), Note("note_read_as", (("value", read),)))


_TRUE = {"t", "true", "y", "yes", "1", "o", "참", "맞다", "예", "네", "fact", "사실"}
_FALSE = {"f", "false", "n", "no", "0", "x", "거짓", "틀리다", "아니오", "아니요", "myth", "미신"}


def parse_bool(text: str) -> bool | None:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def auto_rating(kind: str, grade: Grade, seconds: float, self_rating: Rating | None) -> Rating:
    """Objective cards rate themselves; recall cards use the learner's own rating."""
    if kind == "recall":
        return self_rating if self_rating is not None else Rating.AGAIN
    if not grade.correct:
        return Rating.AGAIN
    if seconds <= FAST_SECONDS.get(kind, 10.0):
        return Rating.EASY
    return Rating.GOOD
