"""An answer cannot be guessed from its length (issue 23).

In the second edition 80 % of the mcq keys were strictly the longest choice: a learner who
always picked the longest, most qualified option passed without knowing anything. Over the
whole bank (every file, whoever wrote it), at most 35 % of mcq cards may have a key that is
strictly longer than every distractor, and at most 35 % of multi cards may have keys that
are all strictly longer than every distractor, each measured on the English and on the
Korean text the learner sees. Making every key the second longest would only move the tell,
so no single length rank may hold the key in more than half of the mcq cards either.
"""

from __future__ import annotations

from collections import Counter

import pytest

from dlprep.bank import Bank, load_bank
from dlprep.bank.cards import Item, Mcq, Multi, Text, item_key, item_text

LIMIT = 0.35
RANK_LIMIT = 0.5


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank()


def keys_stand_out(choices: tuple[Item, ...], keys: set[str], lang: str) -> bool:
    """Whether every key is strictly longer than every distractor, in ``lang``."""
    right = [len(item_text(c, lang)) for c in choices if item_key(c) in keys]
    wrong = [len(item_text(c, lang)) for c in choices if item_key(c) not in keys]
    return bool(right and wrong) and min(right) > max(wrong)


def guessable(cards: list[Mcq | Multi], lang: str) -> list[str]:
    out = []
    for card in cards:
        keys = {card.answer} if isinstance(card, Mcq) else set(card.answers)
        if keys_stand_out(card.choices, keys, lang):
            out.append(card.id)
    return out


@pytest.mark.parametrize("kind", [Mcq, Multi])
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_longest_choice_is_rarely_the_answer(bank: Bank, kind: type, lang: str) -> None:
    cards = [c for c in bank.cards.values() if isinstance(c, kind)]
    assert len(cards) >= 40
    found = guessable(cards, lang)
    share = len(found) / len(cards)
    assert share <= LIMIT, (
        f"{len(found)} of {len(cards)} {kind.__name__.lower()} cards ({share:.0%}) have keys "
        f"strictly longer than every other choice in {lang}; make distractors as specific "
        f"as the key or shorten it (moving the justification to explain): " + ", ".join(found)
    )


def key_rank(card: Mcq, lang: str) -> int:
    """How many choices are strictly longer than the key: 0 when it is the longest."""
    length = {item_key(c): len(item_text(c, lang)) for c in card.choices}
    return sum(1 for key, n in length.items() if key != card.answer and n > length[card.answer])


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_no_length_rank_gives_the_key_away(bank: Bank, lang: str) -> None:
    cards = [c for c in bank.cards.values() if isinstance(c, Mcq)]
    ranks = Counter(key_rank(c, lang) for c in cards)
    rank, count = ranks.most_common(1)[0]
    assert count / len(cards) <= RANK_LIMIT, (
        f"in {count} of {len(cards)} mcq cards the key has exactly {rank} longer choices ({lang})"
    )


@pytest.mark.parametrize(
    ("choices", "keys", "expected"),
    [
        (("a long, well qualified answer", "short", "brief"), {"a long, well qualified answer"},
         True),
        (("short", "a long but wrong distractor"), {"short"}, False),
        (("equal", "eqaul", "other"), {"equal"}, False),  # a tie is not "strictly longest"
        (("both keys long", "keys both long", "no"), {"both keys long", "keys both long"}, True),
        (("key one", "a longer distractor", "key 2"), {"key one", "key 2"}, False),
    ],
)
def test_the_measure(choices: tuple[str, ...], keys: set[str], expected: bool) -> None:
    assert keys_stand_out(choices, keys, "en") is expected


def test_key_rank_counts_longer_choices() -> None:
    card = Mcq(id="m", topic="t", difficulty=1, q=Text("q", "질문"), explain=Text("e", "설명"),
               refs=("r",), type="mcq", choices=("mid key", "longest one", "s", "longer one"),
               answer="mid key")
    assert key_rank(card, "en") == 2


def test_each_language_is_measured_on_its_own_text() -> None:
    choices = (Text("Right", "한국어로는 훨씬 더 긴 정답"), Text("A wrong one", "오답"))
    assert not keys_stand_out(choices, {"Right"}, "en")
    assert keys_stand_out(choices, {"Right"}, "ko")
