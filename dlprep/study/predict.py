"""A learner's prediction against what a demo measured (pure core: no Textual, no torch).

Each card's ``demo.predict`` says how it is graded: a number in a unit against a measured
number (with a tolerance), one of a few choices against a measured outcome, or yes/no
against a measured boolean (the demo's ``effect``). :func:`read` turns the typed text into
a prediction or raises :class:`Unreadable` (asked again, never graded); :func:`judge`
compares it with the run's numbers, and :func:`feedback` writes the one line the learner
sees: "you: 2.1 MB · measured: 2.1 MB ✓ (exactly 2,139,560 B)".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dlprep.bank.cards import (
    Card,
    DemoLink,
    Numeric,
    Predict,
    PredictChoice,
    PredictNumber,
    Tolerance,
    item_key,
    item_text,
)
from dlprep.bank.template import fill_params, format_number
from dlprep.study.grading import Unreadable, parse_bool
from dlprep.study.strings import Note, t

MEASURED_TOLERANCE = Tolerance(rel=0.05)  # a number prompt on a card that is not numeric
# The family's base unit, written beside a rounded value (2.1 MB, exactly 2,139,560 B).
BASE_UNIT = {"bytes": "B", "time": "s", "flops": "FLOP", "percent": "%"}

Reading = float | int | bool  # a number, a choice's index, or yes (True) / no (False)


@dataclass(frozen=True)
class Judged:
    """One prediction against one run."""

    right: bool | None  # None: not graded (cancelled, or nothing measured)
    you: str  # the prediction, in the prompt's terms
    measured: str  # what was measured, in the same terms; "" when nothing was
    exact: str = ""  # the measured value in full, where ``measured`` rounds it
    note: str = ""  # where a wrong pick came in the measured ranking


def lookup(numbers: Any, path: str) -> Any:
    """``numbers["a"][-1]`` for the path ``a.-1``; None where the path leads nowhere."""
    value = numbers
    for key in path.split("."):
        if isinstance(value, Mapping):
            if key not in value:
                return None
            value = value[key]
        elif isinstance(value, list | tuple) and key.lstrip("-").isdigit():
            index = int(key)
            if not -len(value) <= index < len(value):
                return None
            value = value[index]
        else:
            return None
    return value


def measured_number(numbers: Any, path: str) -> float | None:
    """The finite number at ``path``, or None."""
    value = lookup(numbers, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def demo_command(link: DemoLink, values: Mapping[str, float]) -> str:
    """The shell command that runs a card's demo at its draw ``values``."""
    params = fill_params(link.params, values)
    settings = "".join(f" {k}={str(v).lower() if isinstance(v, bool) else v}"
                       for k, v in params.items())
    return f"dlprep demo {link.name}" + (f" --set{settings}" if settings else "")


def hint(predict: Predict, lang: str) -> str:
    """The input field's placeholder: what to type for this kind of prompt."""
    if isinstance(predict, PredictNumber):
        return t("predict_number", lang, unit=predict.unit or t("plain_number", lang))
    if isinstance(predict, PredictChoice):
        return t("predict_choice", lang, n=len(predict.choices))
    return t("predict_yesno", lang)


def options(predict: Predict, lang: str) -> list[str]:
    """A choice prompt's choices, numbered as the learner types them."""
    if not isinstance(predict, PredictChoice):
        return []
    return [f"{i}. {item_text(c, lang)}" for i, c in enumerate(predict.choices, 1)]


def read(predict: Predict, text: str, lang: str) -> Reading:
    """The prediction in ``text``; raises :class:`Unreadable` with a one-line hint."""
    from dlprep.study.units import UnitError, parse_quantity

    if isinstance(predict, PredictNumber):
        try:
            return parse_quantity(text, predict.unit)
        except UnitError as exc:
            raise Unreadable(exc.note) from None
    if isinstance(predict, PredictChoice):
        index = _choice_index(predict, text)
        if index is None:
            raise Unreadable(Note("unread_choice", (("n", str(len(predict.choices))),)),
                             direct=True)
        return index
    said = parse_bool(text)
    if said is None:
        raise Unreadable(Note("unread_yesno"), direct=True)
    return said


def _choice_index(predict: PredictChoice, text: str) -> int | None:
    word = " ".join(text.strip().lower().split())
    if word.isdigit():
        number = int(word)
        return number - 1 if 1 <= number <= len(predict.choices) else None
    names = [{item_text(c, lang).lower() for lang in ("en", "ko")} for c in predict.choices]
    exact = [i for i, said in enumerate(names) if word in said]
    if exact:
        return exact[0]
    if len(word) < 2:
        return None
    starts = [i for i, said in enumerate(names) if any(n.startswith(word) for n in said)]
    return starts[0] if len(starts) == 1 else None


def said_text(predict: Predict, reading: Reading, text: str, lang: str) -> str:
    """The prediction as the feedback shows it."""
    if isinstance(predict, PredictChoice):
        return item_text(predict.choices[int(reading)], lang)
    if isinstance(predict, PredictNumber):
        return " ".join(text.split())
    return t("yes" if reading else "no", lang)


def judge(card: Card, predict: Predict, reading: Reading, text: str,
          numbers: Mapping[str, Any], cancelled: bool, lang: str) -> Judged:
    """Grade ``reading`` (from :func:`read` of ``text``) against the run's ``numbers``."""
    you = said_text(predict, reading, text, lang)
    if cancelled:
        return Judged(None, you, "")
    if isinstance(predict, PredictNumber):
        return _judge_number(card, predict, float(reading), you, numbers)
    if isinstance(predict, PredictChoice):
        return _judge_choice(predict, int(reading), you, numbers, lang)
    value = lookup(numbers, predict.measure)
    if not isinstance(value, bool):
        return Judged(None, you, "")
    yes = value is predict.yes_when
    return Judged(bool(reading) is yes, you, t("yes" if yes else "no", lang))


def tolerance_of(card: Card, predict: PredictNumber) -> Tolerance:
    if predict.tolerance is not None:
        return predict.tolerance
    return card.tolerance if isinstance(card, Numeric) else MEASURED_TOLERANCE


def _judge_number(card: Card, predict: PredictNumber, guess: float, you: str,
                  numbers: Mapping[str, Any]) -> Judged:
    from dlprep.study.units import family_of

    measured = measured_number(numbers, predict.measure)
    if measured is None:
        return Judged(None, you, "")
    family = family_of(predict.unit)
    factor = family.factor(predict.unit) or 1.0
    value = measured / factor  # the demo measures in the family's base unit (bytes for MB)
    tolerance = tolerance_of(card, predict)
    shown = rounded(value, tolerance)
    unit = f" {predict.unit}" if predict.unit else ""
    base = BASE_UNIT.get(family.name)
    exact = (f"{format_number(measured)} {base}" if base and factor != 1.0
             else format_number(value))
    return Judged(tolerance.accepts(guess, value), you, shown + unit,
                  exact if exact != shown else "")


def rounded(value: float, tolerance: Tolerance) -> str:
    """``value`` to the last digit the tolerance leaves meaningful: the digit of the width
    of the accepted band (±0.05 → one decimal, ±0.5 → whole numbers)."""
    band = tolerance.abs if tolerance.abs is not None else (tolerance.rel or 0.0) * abs(value)
    if band <= 0 or not math.isfinite(value):
        return format_number(value)
    exponent = math.floor(math.log10(2 * band))
    if exponent < 0:
        return f"{value:,.{-exponent}f}"
    step = 10.0 ** exponent
    return format_number(float(round(value / step) * step))


def _judge_choice(predict: PredictChoice, pick: int, you: str, numbers: Mapping[str, Any],
                  lang: str) -> Judged:
    keys = [item_key(c) for c in predict.choices]
    value = lookup(numbers, predict.measure)
    if predict.bounds:
        number = measured_number(numbers, predict.measure)
        if number is None:
            return Judged(None, you, "")
        index = sum(number >= b for b in predict.bounds)
        shown = item_text(predict.choices[index], lang)
        return Judged(pick == index, you, f"{shown} ({number:.3g})")
    if not isinstance(value, str) or value not in keys:
        return Judged(None, you, "" if value is None else str(value))
    index = keys.index(value)
    shown = item_text(predict.choices[index], lang)
    note = ""
    order = lookup(numbers, predict.rank) if predict.rank else None
    if pick != index and isinstance(order, list | tuple) and keys[pick] in order:
        note = t("came", lang, pick=you, place=_place(order.index(keys[pick]) + 1, lang),
                 n=len(order))
    return Judged(pick == index, you, shown, note=note)


def _place(place: int, lang: str) -> str:
    if lang == "ko":
        return str(place)
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10,
                                                                                  "th")
    return f"{place}{suffix}"


def feedback(judged: Judged, lang: str) -> str:
    """"you: 2.1 MB · measured: 2.1 MB ✓ (exactly 2,139,560 B)"."""
    head = f"{t('you', lang)}: {judged.you}"
    if judged.right is None:
        if not judged.measured:
            return head
        return f"{head} · {t('measured', lang)}: {judged.measured}"
    mark = "✓" if judged.right else "✗"
    notes = ([t("exact", lang, value=judged.exact)] if judged.exact else []) + (
        [judged.note] if judged.note else [])
    tail = f" ({'; '.join(notes)})" if notes else ""
    return f"{head} · {t('measured', lang)}: {judged.measured} {mark}{tail}"
