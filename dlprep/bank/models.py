"""The card format: the single source of truth for validation and ``quizbank/schema.json``."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dlprep.bank.cards import item_key
from dlprep.bank.template import (
    MAX_COMBINATIONS,
    FormulaError,
    assignments,
    combinations,
    compile_formula,
    evaluate,
    placeholders,
)

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
# C0 and C1 controls other than tab and newlines: an escape sequence in a card would reach
# the learner's terminal as a command (`bank list` prints card text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    if not text.strip():
        raise ValueError("is only whitespace")
    bad = _CONTROL.search(text)
    if bad:
        raise ValueError(f"contains the control character U+{ord(bad.group()):04X} at "
                         f"character {bad.start() + 1}")
    return text


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):  # a bool is an int to Python: True would be 1
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


NonEmpty = Annotated[str, Field(min_length=1), AfterValidator(_printable)]
# Not strict: YAML 1.1 reads `3.3895e38` (no dot in the mantissa) as a string; NaN, inf and
# a bool are still refused.
Finite = Annotated[float, Field(allow_inf_nan=False, strict=False), BeforeValidator(_not_a_bool)]
NonNegative = Annotated[float, Field(allow_inf_nan=False, strict=False, ge=0),
                       BeforeValidator(_not_a_bool)]
Fraction = Annotated[float, Field(allow_inf_nan=False, strict=False, ge=0, le=1),
                     BeforeValidator(_not_a_bool)]


class _Strict(BaseModel):
    # strict: YAML's `yes`, `true` or "3" are not a boolean, a number or a difficulty
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, strict=True)


class Text(_Strict):
    """Text in both languages. Markdown, fenced code and inline math are allowed."""

    en: NonEmpty
    ko: NonEmpty

    def get(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


# A choice or an order item: plain text when it needs no translation (code, numbers).
Item = NonEmpty | Text


Path = Annotated[str, Field(
    pattern=r"^[^.\s][^.]*(\.[^.\s][^.]*)*$", max_length=200,
    description="A dotted path into the demo's numbers (plain-20.final_loss, runs.batch "
                "1.updates); a list is indexed by a number, from the end when negative "
                "(ranking.-1 is the last of ranking).")]


class _Predict(_Strict):
    """What the learner predicts before the demo runs, graded against what it measured."""

    en: NonEmpty
    ko: NonEmpty

    def get(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


class PredictNumber(_Predict):
    """A number in ``unit``, graded against the measured number at ``measure``."""

    kind: Literal["number"]
    measure: Path = Field(description="The measured number, in the base unit of `unit`'s "
                                      "family (bytes for MB, seconds for ms).")
    unit: str = Field(default="", description='The unit the learner types (e.g. "MB"); "" '
                                              "for a plain number.")
    tolerance: Tolerance | None = Field(
        default=None, description="How close counts as right; default: the card's own "
                                  "tolerance on a numeric card, else within 5 %.")


class PredictChoice(_Predict):
    """One of a few choices, graded against the measured outcome at ``measure``: a choice's
    key (its English text or plain string), or a number that ``bounds`` puts in a choice."""

    kind: Literal["choice"]
    measure: Path
    choices: list[Item] = Field(min_length=2, max_length=9)
    bounds: list[Finite] = Field(
        default_factory=list,
        description="For a measured number: the increasing upper bounds of every choice but "
                    "the last (a value below bounds[i] and not below bounds[i-1] is choice i).")
    rank: Path | None = Field(
        default=None, description="A list in the numbers ordering the choices' keys, first "
                                  "to last: the feedback says where the learner's pick came.")

    @field_validator("choices")
    @classmethod
    def _distinct_choices(cls, choices: list[str | Text]) -> list[str | Text]:
        _unique_keys(choices, "choice")
        return choices

    @model_validator(mode="after")
    def _bounds_fit(self) -> PredictChoice:
        if self.bounds:
            if len(self.bounds) != len(self.choices) - 1:
                raise ValueError(f"bounds: give {len(self.choices) - 1} bounds for "
                                 f"{len(self.choices)} choices (every choice but the last)")
            if any(b <= a for a, b in zip(self.bounds, self.bounds[1:], strict=False)):
                raise ValueError("bounds: must increase")
        if self.rank is not None and self.bounds:
            raise ValueError("rank: ranks choices by key, which binned choices have not")
        return self


class PredictYesNo(_Predict):
    """A yes or no, graded against a measured boolean (the demo's ``effect`` by default)."""

    kind: Literal["yesno"]
    measure: Path = "effect"
    yes_when: bool = Field(default=True, description="The measured value for which yes is "
                                                     "right (false: yes means the effect is "
                                                     "absent).")


Predict = Annotated[PredictNumber | PredictChoice | PredictYesNo, Field(discriminator="kind")]


class DemoLink(_Strict):
    """A registered demo that shows the answer, with parameter overrides."""

    name: Slug
    params: dict[str, bool | int | float | str] = Field(
        default_factory=dict,
        description="Overrides of the demo's parameters; on a templated card a string may "
                    'use its variables ("{b}", "784,{h},{h},10"), checked for every draw.')
    predict: Predict | None = Field(
        default=None, description="What the learner predicts before the demo runs, and how "
                                  "it is graded; without it the demo just runs.")


class _Card(_Strict):
    id: Slug = Field(description="Stable and unique across all banks; progress is keyed by it.")
    topic: Slug
    difficulty: Literal[1, 2, 3] = Field(description="1 easy, 2 medium, 3 hard.")
    tags: list[Slug] = Field(default_factory=list)
    q: Text = Field(description="The question (Markdown).")
    explain: Text = Field(description="Why the answer is right, in 2-6 sentences (Markdown).")
    refs: list[NonEmpty] = Field(
        min_length=1, description="Where the fact can be checked: paper (year), docs, textbook."
    )
    demo: DemoLink | None = None
    override: bool = Field(default=False, description="A user card replacing a built-in id.")

    @field_validator("difficulty", mode="before")
    @classmethod
    def _difficulty_not_a_bool(cls, value: object) -> object:
        return _not_a_bool(value)  # True == 1 to a Literal, even a strict one

    @model_validator(mode="after")
    def _params_use_template_vars(self) -> _Card:
        if self.demo is None:
            return self
        template = getattr(self, "template", None)
        known = set(template.vars) if template is not None else set()
        used = {name for value in self.demo.params.values() if isinstance(value, str)
                for name in placeholders(value)}
        if used - known:
            raise ValueError(f"demo: params use {sorted(used - known)}, which are not "
                             "template variables of this card")
        return self


def _unique_keys(items: list[str | Text], what: str) -> list[str]:
    keys = [item_key(i) for i in items]
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"{what} {key!r} appears twice")
        seen.add(key)
    return keys


class _ChoiceCard(_Card):
    """Cards with ``choices`` (declared by each subclass, to keep the fields' order)."""

    @field_validator("choices", check_fields=False)
    @classmethod
    def _distinct_choices(cls, choices: list[str | Text]) -> list[str | Text]:
        _unique_keys(choices, "choice")
        return choices


class Mcq(_ChoiceCard):
    type: Literal["mcq"]
    choices: list[Item] = Field(min_length=2, max_length=9)
    answer: NonEmpty = Field(description="English text (or plain text) of the correct choice.")

    @field_validator("answer")
    @classmethod
    def _answer_in_choices(cls, answer: str, info: ValidationInfo) -> str:
        choices = info.data.get("choices")
        if choices is not None and answer not in [item_key(c) for c in choices]:
            raise ValueError(f"{answer!r} is not among the choices")
        return answer


class Multi(_ChoiceCard):
    type: Literal["multi"]
    choices: list[Item] = Field(min_length=2, max_length=9)
    answers: list[NonEmpty] = Field(min_length=1, description="Every correct choice.")

    @field_validator("answers")
    @classmethod
    def _answers_in_choices(cls, answers: list[str], info: ValidationInfo) -> list[str]:
        choices = info.data.get("choices")
        keys = [item_key(c) for c in choices] if choices is not None else None
        for answer in answers:
            if keys is not None and answer not in keys:
                raise ValueError(f"{answer!r} is not among the choices")
        if len(set(answers)) != len(answers):
            raise ValueError("an answer is listed twice")
        return answers


class TrueFalse(_Card):
    type: Literal["truefalse"]
    answer: bool
    myth: bool = Field(default=False, description="A myth-or-fact card about a common claim.")


class Recall(_Card):
    type: Literal["recall"]
    answer: Text = Field(description="The model answer the learner grades against.")


class Tolerance(_Strict):
    abs: NonNegative | None = None
    rel: Fraction | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Tolerance:
        if (self.abs is None) == (self.rel is None):
            raise ValueError("give exactly one of abs or rel")
        return self

    def accepts(self, given: float, expected: float) -> bool:
        if self.abs is not None:
            return abs(given - expected) <= self.abs + 1e-12 * abs(expected)
        assert self.rel is not None
        return abs(given - expected) <= self.rel * abs(expected) + 1e-12


class Template(_Strict):
    """Variables drawn from listed values; the answer is computed from ``formula``."""

    vars: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], list[Finite]] = Field(
        min_length=1
    )
    formula: NonEmpty

    @field_validator("vars")
    @classmethod
    def _values_listed(cls, variables: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, options in variables.items():
            if not options:
                raise ValueError(f"variable {name!r} lists no values")
        return variables

    @field_validator("formula")
    @classmethod
    def _formula_is_safe(cls, formula: str, info: ValidationInfo) -> str:
        variables = info.data.get("vars")
        if variables is None:
            return formula
        if combinations(variables) > MAX_COMBINATIONS:  # each one is drawn, so each is checked
            raise ValueError(f"the variables have {combinations(variables):,} combinations; "
                             f"a template has at most {MAX_COMBINATIONS:,}")
        try:
            tree = compile_formula(formula, frozenset(variables))
            for values in assignments(variables):
                evaluate(tree, values)
        except FormulaError as exc:
            raise ValueError(str(exc)) from None
        return formula


class Numeric(_Card):
    type: Literal["numeric"]
    answer: Finite | None = Field(default=None, description="Fixed answer (omit with template).")
    template: Template | None = None
    unit: str = Field(description='Unit of the answer, e.g. "B", "MB", "params"; "" for none.')
    tolerance: Tolerance

    @model_validator(mode="after")
    def _answer_or_template(self) -> Numeric:
        # Reported under "answer" by the loader (see FIELD_OF_MODEL_ERROR).
        if (self.answer is None) == (self.template is None):
            raise ValueError("answer: give exactly one of answer or template")
        if self.template is not None:
            used = placeholders(self.q.en) | placeholders(self.q.ko)
            missing = used - set(self.template.vars)
            if missing:
                raise ValueError(f"q: uses undefined template variables {sorted(missing)}")
        return self


class Order(_Card):
    type: Literal["order"]
    items: list[Item] = Field(min_length=2, max_length=9, description="In the correct order.")

    @field_validator("items")
    @classmethod
    def _distinct(cls, items: list[str | Text]) -> list[str | Text]:
        _unique_keys(items, "item")
        return items


Card = Annotated[Mcq | Multi | TrueFalse | Recall | Numeric | Order, Field(discriminator="type")]

card_adapter: TypeAdapter[Card] = TypeAdapter(Card, config=ConfigDict(defer_build=True))
