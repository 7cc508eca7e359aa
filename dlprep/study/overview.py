"""The home screen's topic rows: each topic's cards, how many are new and how many are due.

Built from the store's due flags (:meth:`Store.due_now`), not from decoded scheduler states,
so showing the first screen imports no fsrs; the counts are the Stats screen's (a test
holds them equal).
"""

from __future__ import annotations

from collections.abc import Mapping

from dlprep.bank.topics import in_map_order
from dlprep.record import record


@record
class TopicRow:
    """One home row: ``new`` cards were never reviewed; ``due`` ones were and are due now."""

    topic: str
    cards: int
    new: int
    due: int


def topic_rows(card_topics: Mapping[str, str], due_now: Mapping[str, bool]) -> list[TopicRow]:
    """Rows in the topic map's order, from each card's topic (by card id: the bank's
    ``card_topics``, which a cached bank knows without its cards); ``due_now`` maps each
    reviewed card to whether it is due (cards of other banks in it are ignored)."""
    by_topic: dict[str, list[str]] = {}
    for card_id, topic in card_topics.items():
        by_topic.setdefault(topic, []).append(card_id)
    rows = []
    for topic in in_map_order(by_topic):
        flags = [due_now[c] for c in by_topic[topic] if c in due_now]
        rows.append(TopicRow(topic=topic, cards=len(by_topic[topic]),
                             new=len(by_topic[topic]) - len(flags), due=sum(flags)))
    return rows
