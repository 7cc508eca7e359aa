"""The cards the app works with: plain frozen dataclasses, twins of the pydantic models.

:mod:`dlprep.bank.models` stays the single source of truth for validation and the schema;
a validated model is turned into its twin here (:mod:`dlprep.bank.convert`) and the app
only ever sees twins. They need no pydantic, so a quiz served from the bank cache starts
without importing it (tens of milliseconds of start-up). ``tests/bank/test_cards.py``
keeps the twins' fields, order and defaults in step with the models.

Lists become tuples so a card is immutable all the way down.

Every quiz start imports this module, and Python 3.11 builds a dataclass's methods by
compiling generated source, per class: for these eleven classes that was 7% of a bare
Textual app's whole start-up. So the classes are dataclasses for their fields (``fields``,
``asdict`` and ``replace`` work as usual) while :class:`Frozen` gives all of them one
keyword-only ``__init__``, equality, hashing, ``repr`` and immutability, written once.
"""

from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from typing import Any, Literal, Protocol

LANGS = ("en", "ko")
CARD_TYPES = ("mcq", "multi", "truefalse", "recall", "numeric", "order")


class Frozen:
    """What ``@dataclass(frozen=True, kw_only=True)`` generates per class, written once.

    A subclass is a ``@dataclass(init=False, eq=False, repr=False)``. An instance's
    ``__dict__`` holds exactly its fields, in order (set only here; unpickling restores it
    as it was), which equality, hashing and ``repr`` read.
    """

    def __init__(self, **values: Any) -> None:
        for spec in fields(self):  # type: ignore[arg-type]
            if spec.name in values:
                value = values.pop(spec.name)
            elif spec.default is not MISSING:
                value = spec.default
            elif spec.default_factory is not MISSING:
                value = spec.default_factory()
            else:
                raise TypeError(f"{type(self).__name__}() missing keyword argument {spec.name!r}")
            object.__setattr__(self, spec.name, value)
        if values:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{', '.join(map(repr, values))}")

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:  # a TypeError for a card with a dict field, as a dataclass's
        return hash(tuple(self.__dict__.values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__qualname__}({shown})"


@dataclass(init=False, eq=False, repr=False)
class Text(Frozen):
    """Text in both languages. Markdown, fenced code and inline math are allowed."""

    en: str
    ko: str

    def __init__(self, en: str, ko: str) -> None:  # positional too: Text("loss", "손실")
        super().__init__(en=en, ko=ko)

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


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class DemoLink(Frozen):
    """A card's live demo: which one, its preset parameters and what to predict."""

    name: str
    params: dict[str, bool | int | float | str] = field(default_factory=dict)
    predict: Text | None = None
    measure: str | None = None  # a numeric prediction is graded against numbers[measure]
    unit: str = ""


# kw_only: the base's defaulted fields come before each type's required ones, as in the models.
@dataclass(kw_only=True, init=False, eq=False, repr=False)
class _Card(Frozen):
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


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class Mcq(_Card):
    """Multiple choice with one right answer."""

    type: Literal["mcq"]
    choices: tuple[Item, ...]
    answer: str


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class Multi(_Card):
    """Multiple choice where every right answer must be picked."""

    type: Literal["multi"]
    choices: tuple[Item, ...]
    answers: tuple[str, ...]


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class TrueFalse(_Card):
    """A statement to judge; a myth card says Myth/Fact instead of False/True."""

    type: Literal["truefalse"]
    answer: bool
    myth: bool = False


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class Recall(_Card):
    """Answered in the learner's head, then self-rated against the model answer."""

    type: Literal["recall"]
    answer: Text


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class Tolerance(Frozen):
    """How far a numeric answer may be from the expected one (absolute or relative)."""

    abs: float | None = None
    rel: float | None = None

    def accepts(self, given: float, expected: float) -> bool:
        if self.abs is not None:
            return abs(given - expected) <= self.abs + 1e-12 * abs(expected)
        assert self.rel is not None
        return abs(given - expected) <= self.rel * abs(expected) + 1e-12


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class Template(Frozen):
    """Variables drawn from listed values; the answer is computed from ``formula``."""

    vars: dict[str, tuple[float, ...]]
    formula: str


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class Numeric(_Card):
    """A number with a unit, fixed or computed from a template's drawn values."""

    type: Literal["numeric"]
    answer: float | None = None
    template: Template | None = None
    unit: str
    tolerance: Tolerance


@dataclass(kw_only=True, init=False, eq=False, repr=False)
class Order(_Card):
    """Items to put in order; ``items`` lists them in the right order."""

    type: Literal["order"]
    items: tuple[Item, ...]


Card = Mcq | Multi | TrueFalse | Recall | Numeric | Order
