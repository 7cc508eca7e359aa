"""Cards kept pickled one by one in the bank cache, each unpickled when first asked for.

A session reads only its cards' topics and difficulties to plan, then shows one card at a
time, so a start from the cache unpickles the card it shows rather than the whole bank:
the first card costs the same however large the bank grows.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from dlprep.bank.cards import Card


class Listing(NamedTuple):
    """What planning a session reads of the cards: each one's topic and difficulty, by id."""

    topics: Mapping[str, str]
    difficulties: Mapping[str, int]


class StoredCards(Mapping[str, "Card"]):
    """The cards by id, in bank order, each unpickled on its first look-up."""

    def __init__(self, blobs: dict[str, bytes], listing: Listing) -> None:
        self._blobs = blobs
        self.listing = listing
        self._cards: dict[str, Card] = {}

    def __getitem__(self, card_id: str) -> Card:
        card = self._cards.get(card_id)
        if card is None:
            card = self._cards[card_id] = pickle.loads(self._blobs[card_id])
        return card

    def __contains__(self, card_id: object) -> bool:
        return card_id in self._blobs  # Mapping's own would unpickle the card

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)

    @property
    def unpickled(self) -> int:
        """How many cards have been unpickled so far."""
        return len(self._cards)


def listing_of(cards: Mapping[str, Card]) -> Listing:
    """Each card's topic and difficulty: from the cache's index for stored cards (none is
    unpickled), else read off the cards."""
    if isinstance(cards, StoredCards):
        return cards.listing
    return Listing({card_id: card.topic for card_id, card in cards.items()},
                   {card_id: card.difficulty for card_id, card in cards.items()})
