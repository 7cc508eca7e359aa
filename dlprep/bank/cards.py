"""The cards the app works with: plain frozen dataclasses, twins of the pydantic models.

:mod:`dlprep.bank.models` stays the single source of truth for validation and the schema;
a validated model is turned into its twin here (:mod:`dlprep.bank.convert`) and the app
only ever sees twins. They need no pydantic, so a quiz served from the bank cache starts
without importing it (tens of milliseconds of start-up). ``tests/bank/test_cards.py``
keeps the twins' fields, order and defaults in step with the models.

Lists become tuples so a card is immutable all the way down.

The classes are :func:`dlprep.record.record` classes: frozen dataclasses that cost far less
to define, since every quiz start imports this module.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal, Protocol

from dlprep.record import record

LANGS = ("en", "ko")
CARD_TYPES = ("mcq", "multi", "truefalse", "recall", "numeric", "order")


@record
class Text:
    """Text in both languages. Markdown, fenced code and inline math are allowed."""

    en: str
    ko: str

    def get(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


# A choice or an order item: plain text when it needs no translation (code, numbers).
Item = str | Text


class Bilingual(Protocol):
    """A :class:`Text` or its pydantic model: the helpers below serve validation too."""

    @property
    def en(self) -> str: ...

    def get(self, lang: str) -> str: ...


def item_key(item: str | Bilingual) -> str:
    """How answers refer to a choice: its English text, or the plain string."""
    return item if isinstance(item, str) else item.en


def item_text(item: str | Bilingual, lang: str) -> str:
    return item if isinstance(item, str) else item.get(lang)


@record(kw_only=True)
class _Predict:
    """A prediction prompt's question in both languages (each kind adds how it is graded)."""

    en: str
    ko: str

    def get(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


@record(kw_only=True)
class PredictNumber(_Predict):
    """A number in ``unit``, graded against the measured number at ``measure``."""

    kind: Literal["number"]
    measure: str
    unit: str = ""
    tolerance: Tolerance | None = None


@record(kw_only=True)
class PredictChoice(_Predict):
    """One of a few choices, graded against the measured outcome at ``measure``."""

    kind: Literal["choice"]
    measure: str
    choices: tuple[Item, ...]
    bounds: tuple[float, ...] = ()
    rank: str | None = None


@record(kw_only=True)
class PredictYesNo(_Predict):
    """A yes or no, graded against a measured boolean (the demo's ``effect`` by default)."""

    kind: Literal["yesno"]
    measure: str = "effect"
    yes_when: bool = True


Predict = PredictNumber | PredictChoice | PredictYesNo


@record(kw_only=True)
class DemoLink:
    """A card's live demo: which one, its preset parameters and what to predict."""

    name: str
    params: dict[str, bool | int | float | str] = field(default_factory=dict)
    predict: Predict | None = None


# kw_only: the base's defaulted fields come before each type's required ones, as in the models.
@record(kw_only=True)
class _Card:
    """What every card type has; never shown on its own."""

    id: str
    topic: str
    difficulty: Literal[1, 2, 3]
    tags: tuple[str, ...] = ()
    q: Text
    explain: Text
    refs: tuple[str, ...]
    demo: DemoLink | None = None
    override: bool = False


@record(kw_only=True)
class Mcq(_Card):
    """Multiple choice with one right answer."""

    type: Literal["mcq"]
    choices: tuple[Item, ...]
    answer: str


@record(kw_only=True)
class Multi(_Card):
    """Multiple choice where every right answer must be picked."""

    type: Literal["multi"]
    choices: tuple[Item, ...]
    answers: tuple[str, ...]


@record(kw_only=True)
class TrueFalse(_Card):
    """A statement to judge; a myth card says Myth/Fact instead of False/True."""

    type: Literal["truefalse"]
    answer: bool
    myth: bool = False


@record(kw_only=True)
class Recall(_Card):
    """Answered in the learner's head, then self-rated against the model answer."""

    type: Literal["recall"]
    answer: Text


@record(kw_only=True)
class Tolerance:
    """How far a numeric answer may be from the expected one (absolute or relative)."""

    abs: float | None = None
    rel: float | None = None

    def accepts(self, given: float, expected: float) -> bool:
        if self.abs is not None:
            return abs(given - expected) <= self.abs + 1e-12 * abs(expected)
        assert self.rel is not None
        return abs(given - expected) <= self.rel * abs(expected) + 1e-12


@record(kw_only=True)
class Template:
    """Variables drawn from listed values; the answer is computed from ``formula``."""

    vars: dict[str, tuple[float, ...]]
    formula: str


@record(kw_only=True)
class Numeric(_Card):
    """A number with a unit, fixed or computed from a template's drawn values."""

    type: Literal["numeric"]
    answer: float | None = None
    template: Template | None = None
    unit: str
    tolerance: Tolerance


@record(kw_only=True)
class Order(_Card):
    """Items to put in order; ``items`` lists them in the right order."""

    type: Literal["order"]
    items: tuple[Item, ...]


Card = Mcq | Multi | TrueFalse | Recall | Numeric | Order
