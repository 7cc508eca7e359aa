"""Turn a bank card into what the learner sees: shuffled choices, fresh template values."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from dlprep.bank.cards import Card, Mcq, Multi, Numeric, Order, item_key, item_text
from dlprep.bank.template import compile_formula, draw, evaluate, fill, format_number


@dataclass(frozen=True)
class Choice:
    key: str  # how the card's answer refers to it (English text or the plain string)
    text: str  # shown in the session language


@dataclass(frozen=True)
class Presented:
    """One showing of a card. Grading uses only this, so a redraw cannot change the answer."""

    card: Card
    lang: str
    question: str
    choices: tuple[Choice, ...] = ()  # mcq/multi in shown order; order: the shuffled start
    values: dict[str, float] = field(default_factory=dict)  # template draw
    expected: float | None = None  # numeric answer in the card's unit

    @property
    def kind(self) -> str:
        return self.card.type

    @property
    def card_id(self) -> str:
        return self.card.id

    def expected_text(self) -> str:
        """The correct answer, written for the feedback screen."""
        card = self.card
        if isinstance(card, Mcq):
            return self._text_of(card.answer)
        if isinstance(card, Multi):
            return "; ".join(self._text_of(a) for a in card.answers)
        if isinstance(card, Order):
            return " → ".join(item_text(i, self.lang) for i in card.items)
        if isinstance(card, Numeric):
            unit = f" {card.unit}" if card.unit else ""
            return f"{format_number(self.expected)}{unit}"
        if card.type == "truefalse":
            return _bool_word(card.answer, self.lang)
        return unwrap(card.answer.get(self.lang))

    def _text_of(self, key: str) -> str:
        for choice in self.choices:
            if choice.key == key:
                return choice.text
        return key


def _bool_word(value: bool, lang: str) -> str:
    if lang == "ko":
        return "참" if value else "거짓"
    return "True" if value else "False"


def present(card: Card, lang: str, rng: random.Random) -> Presented:
    """Shuffle choices (or order items) and draw template values with ``rng``."""
    question = card.q.get(lang)
    if isinstance(card, Mcq | Multi):
        choices = [Choice(item_key(c), item_text(c, lang)) for c in card.choices]
        rng.shuffle(choices)
        return Presented(card, lang, question, tuple(choices))
    if isinstance(card, Order):
        items = [Choice(item_key(i), item_text(i, lang)) for i in card.items]
        # A shuffle that happens to be the answer would be a free point.
        for _ in range(10):
            rng.shuffle(items)
            if [c.key for c in items] != [item_key(i) for i in card.items]:
                break
        return Presented(card, lang, question, tuple(items))
    if isinstance(card, Numeric):
        if card.template is None:
            assert card.answer is not None  # the model requires one of the two
            return Presented(card, lang, question, expected=card.answer)
        values = draw(card.template.vars, rng)
        tree = compile_formula(card.template.formula, frozenset(card.template.vars))
        expected = evaluate(tree, values)
        return Presented(card, lang, fill(question, values), values=values, expected=expected)
    return Presented(card, lang, question)


# Whatever Markdown (markdown-it "gfm-like", as Textual parses it) could show differently
# from the bare text. Errs towards Markdown: a false alarm only costs start-up time.
_MARKDOWN = re.compile(
    r"[`*$\[\]\n]"  # code, emphasis, math, links and images, line breaks (Markdown joins lines)
    r"|(?<![^\W_])_|_(?![^\W_])"  # an underscore not inside a word (n_in stays plain)
    r"|^\s|^[-+=>#]|^\d{1,9}[.)]"  # indented code, bullets, rules, quotes, headings, lists
    r"|<[A-Za-z/!?]|&#?\w+;|\\[!-/:-@\[-`{-~]|~~"  # HTML, entities, escapes, strikethrough
    r"|[A-Za-z0-9]\.[A-Za-z]{2}|://"  # what linkify could turn into a link ("model.py")
)


def needs_markdown(text: str) -> bool:
    """Whether ``text`` uses any Markdown syntax; if not, it can be shown as it is.

    Mid-line ``>``, ``<`` before a space, ``&`` outside an entity, ``#``, ``|`` and ``~``
    are literal in Markdown too (a table needs a second line), so they need no Markdown.
    """
    return _MARKDOWN.search(text.rstrip()) is not None


def unwrap(text: str) -> str:
    """A YAML block keeps the author's line breaks; joined again, a paragraph wraps to the
    screen (Markdown does this itself; a plain line of text must). Code keeps its lines."""
    if "```" in text:
        return text.strip()
    # a break stays where the next line starts a list item, heading, quote, table or indent
    return re.sub(r"(?<!\n)\n(?!\n|\s|[-*+>#|]|\d+\.\s)", " ", text.strip())
