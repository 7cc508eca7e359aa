"""Which cards a session shows, and in what order."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from itertools import zip_longest
from typing import TYPE_CHECKING

from dlprep.bank.stored import Listing, listing_of
from dlprep.bank.topics import in_map_order
from dlprep.record import record
from dlprep.study.schedule import Scheduler

if TYPE_CHECKING:
    import fsrs

    from dlprep.bank.cards import Card

MODES = ("due", "cram", "mock")


@record
class Spec:
    """What the learner asked for: the mode, topics and size of a session."""

    mode: str = "due"  # due: the schedule's choice; cram: practice only; mock: interview
    topics: tuple[str, ...] = ()  # empty: every topic
    length: int = 20  # most cards in a due or cram session
    mock_cards: int = 10
    until: date | None = None  # interview date: pull forward what would come due after it
    mock_seconds_per_card: float = 90.0

    @property
    def size(self) -> int:
        return self.mock_cards if self.mode == "mock" else self.length


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def plan(
    cards: Mapping[str, Card],
    states: Mapping[str, fsrs.Card],
    spec: Spec,
    scheduler: Scheduler,
    now: datetime,
    rng: random.Random,
) -> list[str]:
    # Topics and difficulties only: a bank served from the cache unpickles no card to plan.
    listing = listing_of(cards)
    pool = [cid for cid, topic in listing.topics.items() if not spec.topics or topic in spec.topics]
    if spec.mode == "cram":
        # Weakest first (lowest recall probability now, unseen counting as weakest).
        rng.shuffle(pool)
        pool.sort(key=lambda cid: _recall(cid, states, scheduler, now))
        return pool[: spec.length]
    if spec.mode == "mock":
        return _across_topics(pool, listing, rng)[: spec.mock_cards]
    due = sorted((cid for cid in pool if cid in states and states[cid].due <= now),
                 key=lambda cid: states[cid].due)
    new = _introduce([cid for cid in pool if cid not in states], listing)
    queue = due + new
    if spec.until is not None:
        # Cards whose next review falls after the interview would be skipped before it:
        # review them now, the ones least likely to be remembered on the day first.
        deadline = end_of_day(spec.until)
        later = [cid for cid in pool if cid in states and states[cid].due > deadline]
        later.sort(key=lambda cid: scheduler.retrievability(states[cid], deadline))
        queue += later
    return queue[: spec.length]


def _introduce(new: Sequence[str], listing: Listing) -> list[str]:
    """New cards take turns by topic in the map's order, easiest first within each topic,
    so a first session over every topic starts with the basics of each, not one file."""
    easiest_first = sorted(new, key=listing.difficulties.__getitem__)  # stable: bank order
    by_topic = _by_topic(easiest_first, listing.topics)
    return _take_turns(by_topic[topic] for topic in in_map_order(by_topic))


def _recall(cid: str, states: Mapping[str, fsrs.Card], sch: Scheduler, now: datetime) -> float:
    state = states.get(cid)
    return -1.0 if state is None else sch.retrievability(state, now)


def _across_topics(pool: Sequence[str], listing: Listing, rng: random.Random) -> list[str]:
    """Round-robin over shuffled topics so a mock interview is not one topic's cards."""
    by_topic = _by_topic(pool, listing.topics)
    for ids in by_topic.values():
        rng.shuffle(ids)
    order = sorted(by_topic)
    rng.shuffle(order)
    return _take_turns(by_topic[topic][::-1] for topic in order)


def _by_topic(ids: Iterable[str], topics: Mapping[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for cid in ids:
        groups.setdefault(topics[cid], []).append(cid)
    return groups


def _take_turns(queues: Iterable[Sequence[str]]) -> list[str]:
    """The first of every queue, then the second of every queue, and so on."""
    return [cid for turn in zip_longest(*queues) for cid in turn if cid is not None]
