"""Counts over a loaded bank (pure; the CLI and the TUI both render them)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dlprep.bank.cards import CARD_TYPES, LANGS, Card, Text
from dlprep.bank.loader import Bank


@dataclass(frozen=True)
class BankStats:
    total: int
    by_topic: dict[str, int]
    by_type: dict[str, int]
    by_difficulty: dict[int, int]
    with_demo: int
    myths: int
    complete: dict[str, int]  # cards whose every text field is written in that language
    skipped: int  # invalid cards left out by lenient loading


def _texts(card: Card) -> list[Text | str]:
    out: list[Text | str] = [card.q, card.explain]
    for name in ("choices", "items"):
        out += getattr(card, name, [])
    answer = getattr(card, "answer", None)
    if isinstance(answer, Text):
        out.append(answer)
    predict = card.demo.predict if card.demo is not None else None
    if predict is not None:
        out += [Text(predict.en, predict.ko), *getattr(predict, "choices", ())]
    return out


def _complete_in(card: Card, lang: str) -> bool:
    return all(isinstance(t, str) or t.get(lang).strip() for t in _texts(card))


def bank_stats(bank: Bank) -> BankStats:
    cards = list(bank.cards.values())
    topics = Counter(c.topic for c in cards)
    types: Counter[str] = Counter(c.type for c in cards)
    levels = Counter(c.difficulty for c in cards)
    skipped = sum(1 for p in bank.errors if p.field not in {"id", "override"})
    return BankStats(
        total=len(cards),
        by_topic={t: topics[t] for t in bank.topics()},
        by_type={t: types[t] for t in CARD_TYPES},
        by_difficulty={d: levels[d] for d in (1, 2, 3)},
        with_demo=sum(1 for c in cards if c.demo is not None),
        myths=sum(1 for c in cards if getattr(c, "myth", False)),
        complete={lang: sum(1 for c in cards if _complete_in(c, lang)) for lang in LANGS},
        skipped=skipped,
    )
