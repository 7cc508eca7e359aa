"""One home per card type: how it is presented, read, graded, rated, hinted and prompted.

Adding a card type means one :class:`Kind` here (and its twin in the bank) plus one answer
widget registered in :mod:`dlprep.tui.answers`; nothing else asks "which type is this?".
Pure core: no Textual, no torch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from dlprep.bank.cards import (
    Card,
    Mcq,
    Multi,
    Numeric,
    Order,
    Recall,
    TrueFalse,
    item_key,
    item_text,
)
from dlprep.bank.template import compile_formula, draw, evaluate, fill, format_number
from dlprep.study.grading import Given, Grade, Unreadable, parse_bool
from dlprep.study.present import Choice, Presented, bool_word, unwrap
from dlprep.study.strings import Note, t
from dlprep.study.units import UnitError, parse_quantity


class Kind:
    """The behaviour of one card type. Subclasses override what differs."""

    name = ""
    fast_seconds: float | None = 10.0  # a right answer this fast is rated Easy
    hint = ""  # string key of the line under the answer widget
    self_rated = False  # recall: the learner rates themselves after seeing the answer

    def present(self, card: Card, lang: str, rng: random.Random) -> Presented:
        return Presented(card, lang, card.q.get(lang))

    def expected_text(self, shown: Presented) -> str:
        raise NotImplementedError

    def read(self, shown: Presented, given: Given) -> Given:
        """``given`` as grading expects it; raises :class:`Unreadable` to re-ask."""
        return given

    def grade(self, shown: Presented, given: Given) -> Grade:
        raise NotImplementedError

    def given_text(self, shown: Presented, given: Given) -> str:
        """What the learner answered, written as the card shows it (choice text, Myth...)."""
        return str(given).strip() or "—"

    def hint_key(self, card: Card) -> str:
        return self.hint

    def marks(self, shown: Presented, given: Given) -> list[tuple[str, str]] | None:
        """Per choice, its text and how the answer treated it ("chosen", "missed", "wrong"
        or "" for left alone, rightly); None where the feedback marks no choices."""
        return None

    def label_key(self, card: Card) -> str:
        return f"type_{self.name}"

    def plain_prompt(self, shown: Presented, lang: str) -> str:
        """The prompt of ``dlprep quiz --plain`` (choices are listed above it)."""
        return f"1-{len(shown.choices)}"

    def plain_parse(self, shown: Presented, text: str) -> Given:
        """A typed line as a given answer; raises ValueError (or Unreadable) to re-ask."""
        raise NotImplementedError

    def example(self, shown: Presented, right: bool) -> Given:
        """A right (or wrong) answer: for tests, benchmarks and the snapshot history."""
        raise NotImplementedError


def _index(text: str, shown: Presented) -> int:
    number = int(text)
    if not 1 <= number <= len(shown.choices):
        raise ValueError(text)
    return number - 1


def _indices(text: str, shown: Presented) -> list[int]:
    parts = text.replace(",", " ").split()
    if not parts:
        raise ValueError(text)
    return [_index(p, shown) for p in parts]


def _choices(items: Sequence[str | object], lang: str) -> list[Choice]:
    return [Choice(item_key(i), item_text(i, lang)) for i in items]  # type: ignore[arg-type]


class McqKind(Kind):
    name = "mcq"
    fast_seconds = 8.0
    hint = "mcq_hint"

    def present(self, card: Card, lang: str, rng: random.Random) -> Presented:
        assert isinstance(card, Mcq | Multi)  # MultiKind shows its choices the same way
        choices = _choices(card.choices, lang)
        rng.shuffle(choices)
        return Presented(card, lang, card.q.get(lang), tuple(choices))

    def expected_text(self, shown: Presented) -> str:
        assert isinstance(shown.card, Mcq)
        return shown.text_of(shown.card.answer)

    def grade(self, shown: Presented, given: Given) -> Grade:
        assert isinstance(shown.card, Mcq)
        return Grade(str(given) == shown.card.answer, str(given))

    def given_text(self, shown: Presented, given: Given) -> str:
        return shown.text_of(str(given))

    def plain_parse(self, shown: Presented, text: str) -> Given:
        return shown.choices[_index(text, shown)].key

    def example(self, shown: Presented, right: bool) -> Given:
        assert isinstance(shown.card, Mcq)
        keys = [c.key for c in shown.choices]
        return shown.card.answer if right else next(k for k in keys if k != shown.card.answer)


class MultiKind(McqKind):
    name = "multi"
    fast_seconds = 15.0
    hint = "multi_hint"

    def expected_text(self, shown: Presented) -> str:
        assert isinstance(shown.card, Multi)
        return "; ".join(shown.text_of(a) for a in shown.card.answers)

    def read(self, shown: Presented, given: Given) -> Given:
        # Nothing chosen is no answer (every card has a right choice): an Enter pressed
        # once too often on the feedback screen must not answer this card.
        if not given:
            raise Unreadable(Note("ask_choose_first"), direct=True)
        return given

    def grade(self, shown: Presented, given: Given) -> Grade:
        assert isinstance(shown.card, Multi)
        chosen = {str(k) for k in ([given] if isinstance(given, str) else given)}  # type: ignore[union-attr]
        return Grade(chosen == set(shown.card.answers), " | ".join(sorted(chosen)))

    def given_text(self, shown: Presented, given: Given) -> str:
        keys = [given] if isinstance(given, str) else list(given)  # type: ignore[arg-type]
        return "; ".join(shown.text_of(str(k)) for k in keys) or "—"

    def marks(self, shown: Presented, given: Given) -> list[tuple[str, str]] | None:
        assert isinstance(shown.card, Multi)
        chosen = {str(k) for k in ([given] if isinstance(given, str) else given)}  # type: ignore[union-attr]
        answers = set(shown.card.answers)

        def how(key: str) -> str:
            if key in answers:
                return "chosen" if key in chosen else "missed"
            return "wrong" if key in chosen else ""

        return [(c.text, how(c.key)) for c in shown.choices]

    def plain_prompt(self, shown: Presented, lang: str) -> str:
        return t("multi_prompt", lang, n=len(shown.choices))

    def plain_parse(self, shown: Presented, text: str) -> Given:
        return [shown.choices[i].key for i in _indices(text, shown)]

    def example(self, shown: Presented, right: bool) -> Given:
        assert isinstance(shown.card, Multi)
        return list(shown.card.answers if right else shown.card.answers[:1])


class OrderKind(Kind):
    name = "order"
    fast_seconds = 20.0
    hint = "order_hint"

    def present(self, card: Card, lang: str, rng: random.Random) -> Presented:
        assert isinstance(card, Order)
        items = _choices(card.items, lang)
        # A shuffle that happens to be the answer would be a free point.
        for _ in range(10):
            rng.shuffle(items)
            if [c.key for c in items] != [item_key(i) for i in card.items]:
                break
        return Presented(card, lang, card.q.get(lang), tuple(items))

    def expected_text(self, shown: Presented) -> str:
        assert isinstance(shown.card, Order)
        return " → ".join(item_text(i, shown.lang) for i in shown.card.items)

    def read(self, shown: Presented, given: Given) -> Given:
        # The order as shown was shuffled away from the answer: submitting it untouched is
        # an Enter meant for the previous screen, not an answer.
        keys = [str(k) for k in given]  # type: ignore[union-attr]
        shown_keys = [c.key for c in shown.choices]
        assert isinstance(shown.card, Order)
        if keys == shown_keys and keys != [item_key(i) for i in shown.card.items]:
            raise Unreadable(Note("ask_move_first"), direct=True)
        return given

    def grade(self, shown: Presented, given: Given) -> Grade:
        assert isinstance(shown.card, Order)
        keys = [str(k) for k in given]  # type: ignore[union-attr]
        return Grade(keys == [item_key(i) for i in shown.card.items], " > ".join(keys))

    def given_text(self, shown: Presented, given: Given) -> str:
        return " → ".join(shown.text_of(str(k)) for k in given)  # type: ignore[union-attr]

    def plain_prompt(self, shown: Presented, lang: str) -> str:
        n = len(shown.choices)
        example = " ".join(str(i) for i in range(n, 0, -1))
        return t("order_prompt", lang, n=n, example=example)

    def plain_parse(self, shown: Presented, text: str) -> Given:
        picks = _indices(text, shown)
        if sorted(picks) != list(range(len(shown.choices))):
            raise ValueError(text)
        return [shown.choices[i].key for i in picks]

    def example(self, shown: Presented, right: bool) -> Given:
        assert isinstance(shown.card, Order)
        keys = [item_key(i) for i in shown.card.items]
        return keys if right else keys[::-1]


class TrueFalseKind(Kind):
    """True/false; a myth card asks "myth or fact?" with the same answer (True = fact)."""

    name = "truefalse"
    fast_seconds = 6.0

    def present(self, card: Card, lang: str, rng: random.Random) -> Presented:
        assert isinstance(card, TrueFalse)
        words = ("fact", "myth") if card.myth else ("true", "false")
        choices = (Choice("true", t(words[0], lang)), Choice("false", t(words[1], lang)))
        return Presented(card, lang, card.q.get(lang), choices)

    def expected_text(self, shown: Presented) -> str:
        assert isinstance(shown.card, TrueFalse)
        return bool_word(shown.card.answer, shown.lang, shown.card.myth)

    def read(self, shown: Presented, given: Given) -> Given:
        if isinstance(given, bool):
            return given
        value = parse_bool(str(given))
        if value is None:
            raise Unreadable(Note("note_not_bool"))
        return value

    def grade(self, shown: Presented, given: Given) -> Grade:
        assert isinstance(shown.card, TrueFalse)
        value = self.read(shown, given)
        return Grade(value == shown.card.answer, "true" if value else "false")

    def given_text(self, shown: Presented, given: Given) -> str:
        assert isinstance(shown.card, TrueFalse)
        try:
            value = self.read(shown, given)
        except Unreadable:
            return str(given)
        return bool_word(bool(value), shown.lang, shown.card.myth)

    def hint_key(self, card: Card) -> str:
        return "myth_hint" if getattr(card, "myth", False) else "tf_hint"

    def label_key(self, card: Card) -> str:
        return "type_myth" if getattr(card, "myth", False) else "type_truefalse"

    def plain_prompt(self, shown: Presented, lang: str) -> str:
        return f"{shown.choices[0].text}/{shown.choices[1].text} (t/f)"

    def plain_parse(self, shown: Presented, text: str) -> Given:
        value = parse_bool(text)
        if value is None:
            raise ValueError(text)
        return value

    def example(self, shown: Presented, right: bool) -> Given:
        assert isinstance(shown.card, TrueFalse)
        return shown.card.answer if right else not shown.card.answer


class NumericKind(Kind):
    name = "numeric"
    fast_seconds = 30.0
    hint = "numeric_hint"

    def present(self, card: Card, lang: str, rng: random.Random) -> Presented:
        assert isinstance(card, Numeric)
        question = card.q.get(lang)
        if card.template is None:
            assert card.answer is not None  # the model requires one of the two
            return Presented(card, lang, question, expected=card.answer)
        values = draw(card.template.vars, rng)
        tree = compile_formula(card.template.formula, frozenset(card.template.vars))
        return Presented(card, lang, fill(question, values), values=values,
                         expected=evaluate(tree, values))

    def expected_text(self, shown: Presented) -> str:
        assert isinstance(shown.card, Numeric)
        unit = f" {shown.card.unit}" if shown.card.unit else ""
        return f"{format_number(shown.expected)}{unit}"

    def _value(self, shown: Presented, given: Given) -> float:
        """The answer in the card's unit. Not a number, or a unit nobody knows (a typo):
        Unreadable, asked again. A known unit of another kind ("4 params" for MB) is an
        answer, graded wrong with a note."""
        assert isinstance(shown.card, Numeric)
        try:
            return parse_quantity(str(given), shown.card.unit)
        except UnitError as exc:
            if exc.note.key in ("note_not_number", "note_unknown_unit"):
                raise Unreadable(exc.note) from None
            raise

    def read(self, shown: Presented, given: Given) -> Given:
        try:
            self._value(shown, given)
        except UnitError:
            pass  # a readable answer with the wrong kind of unit
        return str(given).strip()

    def grade(self, shown: Presented, given: Given) -> Grade:
        card = shown.card
        assert isinstance(card, Numeric) and shown.expected is not None
        try:
            value = self._value(shown, given)
        except UnitError as exc:
            return Grade(False, str(given).strip(), exc.note)
        read = f"{value:.6g} {card.unit}".rstrip()
        return Grade(card.tolerance.accepts(value, shown.expected), str(given).strip(),
                     Note("note_read_as", (("value", read),)))

    def plain_prompt(self, shown: Presented, lang: str) -> str:
        assert isinstance(shown.card, Numeric)
        unit = shown.card.unit
        return (t("type_answer", lang, example=f"4 {unit}") if unit
                else t("type_number", lang, example="0.25"))

    def plain_parse(self, shown: Presented, text: str) -> Given:
        return self.read(shown, text)

    def example(self, shown: Presented, right: bool) -> Given:
        assert isinstance(shown.card, Numeric) and shown.expected is not None
        value = shown.expected if right else shown.expected * 3 + 1
        return f"{value:g} {shown.card.unit}".strip()


class RecallKind(Kind):
    name = "recall"
    fast_seconds = None
    hint = "grade_yourself"
    self_rated = True

    def expected_text(self, shown: Presented) -> str:
        assert isinstance(shown.card, Recall)
        return unwrap(shown.card.answer.get(shown.lang))

    def read(self, shown: Presented, given: Given) -> Given:
        from fsrs import Rating  # imported by a grade, not at start-up

        return Rating(int(given))  # type: ignore[arg-type]

    def grade(self, shown: Presented, given: Given) -> Grade:
        from fsrs import Rating  # imported by a grade, not at start-up

        rating = Rating(int(given))  # type: ignore[arg-type]
        return Grade(rating >= Rating.Good, rating.name.lower())

    def given_text(self, shown: Presented, given: Given) -> str:
        return t(f"rating_{int(given)}", shown.lang)  # type: ignore[arg-type]

    def plain_prompt(self, shown: Presented, lang: str) -> str:
        return "1-4"

    def plain_parse(self, shown: Presented, text: str) -> Given:
        from fsrs import Rating  # imported by a grade, not at start-up

        return Rating(int(text))

    def example(self, shown: Presented, right: bool) -> Given:
        from fsrs import Rating  # imported by a grade, not at start-up

        return Rating.Good if right else Rating.Again


KINDS: dict[str, Kind] = {k.name: k for k in (McqKind(), MultiKind(), TrueFalseKind(),
                                                RecallKind(), NumericKind(), OrderKind())}


def kind_of(card: Card) -> Kind:
    return KINDS[card.type]
