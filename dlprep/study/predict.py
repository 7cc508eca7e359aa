"""A learner's prediction against what a demo measured (pure core: no Textual, no torch).

A yes/no prediction is graded against the demo's own judgement of whether its effect
appeared (only where the card asks a question: a yes to no question means nothing); a
number typed in the link's unit is graded against the measured number with the card's
tolerance; anything else is shown beside what was measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlprep.bank.cards import Card, Numeric
from dlprep.bank.template import format_number
from dlprep.study.grading import grade_measured, measured_value, parse_bool
from dlprep.study.strings import t


@dataclass(frozen=True)
class Judged:
    right: bool | None  # None: not graded (free text, cancelled, nothing measured)
    measured: str  # what was measured, in words or with its unit; "" when nothing was


def judge(card: Card, said: str, numbers: Mapping[str, Any], cancelled: bool,
          lang: str) -> Judged:
    link = card.demo
    assert link is not None
    if cancelled:
        return Judged(None, "")
    if link.measure:
        return _judge_number(card, said, numbers)
    effect = numbers.get("effect", numbers.get("holds"))
    if not isinstance(effect, bool):
        return Judged(None, "")
    seen = t("effect_seen" if effect else "effect_gone", lang)
    guess = parse_bool(said) if link.predict is not None else None
    return Judged(None if guess is None else guess == effect, seen)


def _judge_number(card: Card, said: str, numbers: Mapping[str, Any]) -> Judged:
    from dlprep.study.units import family_of

    link = card.demo
    assert link is not None and link.measure is not None
    tolerance = card.tolerance if isinstance(card, Numeric) else None
    graded = grade_measured(said, numbers, link.measure, link.unit, tolerance)
    unit = f" {link.unit}" if link.unit else ""
    if graded is not None:
        right, _, value = graded
        return Judged(right, f"{format_number(value)}{unit}")
    measured = measured_value(numbers, link.measure)
    if measured is None:
        return Judged(None, "")
    shown = measured / (family_of(link.unit).factor(link.unit) or 1.0)
    return Judged(None, f"{format_number(shown)}{unit}")
