"""What the learner sees of a card: shuffled choices, fresh template values.

How each card type is presented lives in :mod:`dlprep.study.kinds`; this module holds the
shown card itself and the text helpers every type shares.
"""

from __future__ import annotations

import re
from dataclasses import field
from typing import TYPE_CHECKING

from dlprep.bank.cards import Card
from dlprep.record import record

if TYPE_CHECKING:
    import random


@record
class Choice:
    """One choice (or order item) as shown."""

    key: str  # how the card's answer refers to it (English text or the plain string)
    text: str  # shown in the session language


@record
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
        from dlprep.study.kinds import kind_of

        return kind_of(self.card).expected_text(self)

    def text_of(self, key: str) -> str:
        for choice in self.choices:
            if choice.key == key:
                return choice.text
        return key


def present(card: Card, lang: str, rng: random.Random) -> Presented:
    """Shuffle choices (or order items) and draw template values with ``rng``."""
    from dlprep.study.kinds import kind_of

    return kind_of(card).present(card, lang, rng)


def bool_word(value: bool, lang: str, myth: bool = False) -> str:
    """True/False, or Fact/Myth for a myth card, in ``lang``."""
    from dlprep.study.strings import t

    if myth:
        return t("fact" if value else "myth", lang)
    return t("true" if value else "false", lang)


# Whatever Markdown (markdown-it "gfm-like", as Textual parses it) could show differently
# from the bare text. Errs towards Markdown: a false alarm only costs start-up time.
INLINE_MARKDOWN = re.compile(
    r"[`*$\[\]\n]"  # code, emphasis, math, links and images, line breaks (Markdown joins lines)
    r"|(?<![^\W_])_|_(?![^\W_])"  # an underscore not inside a word (n_in stays plain)
    r"|<[A-Za-z/!?]|&#?\w+;|\\[!-/:-@\[-`{-~]|~~"  # HTML, entities, escapes, strikethrough
    r"|[A-Za-z0-9]\.[A-Za-z]{2}|://"  # what linkify could turn into a link ("model.py")
)
# What starts a block other than a paragraph: indented code, bullets, rules, quotes, headings,
# ordered lists (used with ``match``: only at the start of a line).
BLOCK_START = re.compile(r"\s|[-+=>#]|\d{1,9}[.)]")


def needs_markdown(text: str) -> bool:
    """Whether ``text`` uses any Markdown syntax; if not, it can be shown as it is.

    Mid-line ``>``, ``<`` before a space, ``&`` outside an entity, ``#``, ``|`` and ``~``
    are literal in Markdown too (a table needs a second line), so they need no Markdown.
    """
    text = text.rstrip()
    return BLOCK_START.match(text) is not None or INLINE_MARKDOWN.search(text) is not None


def plain_paragraph(text: str) -> str | None:
    """``text`` as Markdown would show it, when that is one paragraph of plain text; else None.

    A question written as a YAML block keeps the author's line breaks, which Markdown joins
    with a space (and it collapses runs of spaces). Such a question needs no Markdown widget:
    joined the same way, a plain Static shows the same paragraph, and start-up is spared the
    Markdown parser. Every line is judged by :func:`needs_markdown` as if it began the text
    (a line may start a list, heading, quote or rule); a blank line (a second paragraph), a
    ``|`` (a table needs a second line) or a hard break (a line ending in spaces or ``\\``)
    needs Markdown.
    """
    lines = text.strip("\n").rstrip().split("\n")
    if len(lines) > 1 and any(
        not line.strip() or "|" in line or line.endswith((" ", "\t", "\\")) for line in lines
    ):
        return None
    # The first line is judged as it is (leading spaces make indented code); a later line's
    # indent only continues the paragraph.
    if needs_markdown(lines[0]) or any(needs_markdown(line.strip()) for line in lines[1:]):
        return None
    return re.sub(r"\s+", " ", " ".join(line.strip() for line in lines))


def unwrap(text: str) -> str:
    """A YAML block keeps the author's line breaks; joined again, a paragraph wraps to the
    screen (Markdown does this itself; a plain line of text must). Code keeps its lines."""
    if "```" in text:
        return text.strip()
    # a break stays where the next line starts a list item, heading, quote, table or indent
    return re.sub(r"(?<!\n)\n(?!\n|\s|[-*+>#|]|\d+\.\s)", " ", text.strip())
