"""Statistics for the Stats screen and ``dlprep stats``: computed, never rendered, here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import fsrs

from dlprep.bank.cards import Card
from dlprep.bank.topics import in_map_order
from dlprep.study.grading import passed
from dlprep.study.schedule import Scheduler
from dlprep.study.store import Review

FORECAST_DAYS = 14
MATURE = timedelta(days=21)
MIN_REVIEWS_FOR_WEAKEST = 1  # a topic answered wrong once is already worth suggesting
SUGGESTED_LENGTH = 15


@dataclass(frozen=True)
class TopicStats:
    topic: str
    cards: int
    seen: int
    new: int  # never reviewed: not due, just new
    due: int  # reviewed cards whose next review has come
    reviews: int
    correct: int  # reviews that passed (rated above Again: Hard is a pass, as in FSRS)
    graded: int  # reviews counted for accuracy: every review, recall cards' too
    retention: float | None  # share of mature reviews (21+ days since the last) recalled

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.graded if self.graded else None


@dataclass(frozen=True)
class Stats:
    topics: list[TopicStats]
    reviews: int
    correct: int
    graded: int
    streak: int  # consecutive days with a review, ending today or yesterday
    forecast: list[tuple[date, int]]  # cards due per day; day 0 includes overdue cards
    weakest: list[str]
    suggestion: list[str]  # arguments for ``dlprep quiz``

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.graded if self.graded else None


def compute(
    cards: Mapping[str, Card],
    states: Mapping[str, fsrs.Card],
    reviews: Sequence[Review],
    scheduler: Scheduler,
    now: datetime,
) -> Stats:
    topic_of = {cid: c.topic for cid, c in cards.items()}
    topics: dict[str, list[str]] = {}
    for cid, card in cards.items():
        topics.setdefault(card.topic, []).append(cid)
    per_topic: list[TopicStats] = []
    for topic in in_map_order(topics):
        ids = topics[topic]
        mine = [r for r in reviews if (r.topic or topic_of.get(r.card_id)) == topic]
        seen = [states[c] for c in ids if c in states]
        per_topic.append(TopicStats(
            topic=topic, cards=len(ids), seen=len(seen), new=len(ids) - len(seen),
            due=sum(1 for s in seen if s.due <= now),
            reviews=len(mine), correct=sum(1 for r in mine if passed(r.rating)),
            graded=len(mine),
            retention=retention(mine),
        ))
    # The totals are the sum of the rows shown: reviews of a topic no longer in any bank
    # (a removed user bank) count for the streak only.
    shown = [r for r in reviews if (r.topic or topic_of.get(r.card_id)) in topics]
    weakest = _weakest(per_topic)
    return Stats(
        topics=per_topic, reviews=len(shown),
        correct=sum(1 for r in shown if passed(r.rating)), graded=len(shown),
        streak=streak(reviews, now.astimezone().date()),
        forecast=forecast(states, now, set(cards)),
        weakest=weakest,
        suggestion=_suggest(weakest),
    )


def retention(reviews: Sequence[Review]) -> float | None:
    """The share of mature reviews (the card's previous review 21+ days before) that were
    recalled (rated above Again), as Anki counts it; None before any review is mature."""
    last: dict[str, datetime] = {}
    mature = recalled = 0
    for review in sorted(reviews, key=lambda r: r.at):
        before = last.get(review.card_id)
        if before is not None and review.at - before >= MATURE:
            mature += 1
            recalled += passed(review.rating)
        last[review.card_id] = review.at
    return recalled / mature if mature else None


def streak(reviews: Sequence[Review], today: date) -> int:
    """Consecutive days with a review, in the learner's own time zone."""
    days = {r.at.astimezone().date() for r in reviews}
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def forecast(
    states: Mapping[str, fsrs.Card], now: datetime, known: set[str]
) -> list[tuple[date, int]]:
    today = now.astimezone().date()  # days as the learner lives them, not UTC
    counts = [0] * FORECAST_DAYS
    for cid, state in states.items():
        if cid not in known:
            continue  # progress for a card no longer in the bank
        offset = max(0, (state.due.astimezone().date() - today).days)
        if offset < FORECAST_DAYS:
            counts[offset] += 1
    return [(today + timedelta(days=i), n) for i, n in enumerate(counts)]


def _weakest(per_topic: Sequence[TopicStats], limit: int = 3) -> list[str]:
    tried = [t for t in per_topic if t.graded >= MIN_REVIEWS_FOR_WEAKEST]

    def weakness(t: TopicStats) -> tuple[float, float]:
        return (t.accuracy or 0.0, t.retention if t.retention is not None else 0.0)

    return [t.topic for t in sorted(tried, key=weakness)[:limit] if weakness(t)[0] < 0.9]


def _suggest(weakest: Sequence[str]) -> list[str]:
    if not weakest:
        return []
    args: list[str] = []
    for topic in weakest:
        args += ["--topic", topic]
    return args + ["--length", str(SUGGESTED_LENGTH)]
