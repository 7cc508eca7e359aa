"""Checks on a valid card's content that the models cannot express (reported as warnings).

An order card must have exactly one defensible order. When its own explanation says that
an item may move ("may also come right after", "either order", "before or after"), the
card contradicts itself: the learner can be marked wrong for an order the card admits.
The check reads the English explanation, sentence by sentence, and warns when a sentence
with such a phrase names one of the items (most of that item's words appear in it).
"""

from __future__ import annotations

import re

from dlprep.bank.cards import Card, Order, item_key

_PHRASES = (
    r"(?:may|can|could) also (?:come|go|be (?:done|called|placed|put))",
    r"either order", r"in any order", r"order (?:does not|doesn't) matter",
    r"commute", r"interchangeabl[ey]", r"can be swapped", r"before or after",
    r"(?:is|are) (?:equally )?(?:fine|valid|correct) (?:first|last|too)",
)
# Explanations are wrapped YAML blocks: a phrase may span a line break.
MOVABLE = re.compile(
    "|".join(r"\b" + p.replace(" ", r"\s+") + r"\b" for p in _PHRASES), re.IGNORECASE
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")
_STOP = frozenset(
    "with that this then from into each only their there them they what when which have "
    "been will would should could also just more than once".split()
)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def _named_items(sentence: str, items: list[str]) -> list[str]:
    said = _words(sentence)
    named = []
    for item in items:
        words = _words(item)
        if words and len(words & said) * 2 >= len(words):
            named.append(item)
    return named


def lint_card(card: Card) -> list[tuple[str, str]]:
    """``(field, message)`` warnings for a valid card; empty when it reads consistently."""
    if not isinstance(card, Order):
        return []
    items = [item_key(i) for i in card.items]
    found = []
    for sentence in _SENTENCE.split(card.explain.en):
        phrase = MOVABLE.search(sentence)
        if phrase is None:
            continue
        named = _named_items(sentence, items)
        if named:
            which = ", ".join(repr(i) for i in named)
            said = " ".join(phrase.group(0).split())
            found.append(
                (
                    "explain",
                    f"says {which} may move ({said!r}); an order card needs exactly one "
                    "defensible order: merge, drop or pin the movable item",
                )
            )
    return found
