"""Venues are cited by the name they had that year: NIPS until 2017, NeurIPS from 2018."""

from __future__ import annotations

import re

import pytest

from dlprep.bank import load_bank
from dlprep.bank.cards import Card
from dlprep.bank.glossary import korean_fields

# NeurIPS 2018 was the first edition under the new name.
RENAMED = 2018
CITATION = re.compile(r"\b(NeurIPS|NIPS)\b[^0-9\n]{0,40}?\b((?:19|20)\d\d)\b")


def misnamed(text: str) -> list[str]:
    wrong = []
    for match in CITATION.finditer(text):
        name, year = match.group(1), int(match.group(2))
        if (name == "NeurIPS") != (year >= RENAMED):
            wrong.append(match.group(0))
    return wrong


def card_text(card: Card) -> list[str]:
    texts = [t for _, pair in korean_fields(card) for t in (pair.en, pair.ko)]
    return [*card.refs, *texts]


def test_every_ref_uses_the_venue_name_of_its_year() -> None:
    bank = load_bank()
    found = [(c.id, w) for c in bank.cards.values() for t in card_text(c) for w in misnamed(t)]
    assert not found, found
    cited = [t for c in bank.cards.values() for t in c.refs if CITATION.search(t)]
    assert len(cited) >= 5, "the check must see NIPS/NeurIPS citations to mean anything"


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("Sutskever et al., Sequence to Sequence Learning, NeurIPS 2014", ["NeurIPS 2014"]),
        ("Paszke et al., PyTorch, NIPS 2019", ["NIPS 2019"]),
        ("Krizhevsky et al., ImageNet Classification, NIPS 2012", []),
        ("Paszke et al., PyTorch, NeurIPS 2019", []),
        ("2012 AlexNet (NIPS), 2013 Maxout (ICML)", []),  # no year after the name
    ],
)
def test_the_rule(text: str, wrong: list[str]) -> None:
    assert misnamed(text) == wrong
