"""The shipped bank covers the topic map (docs/topics.md) as issue 6 asks."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest

from dlprep.bank import Bank, load_bank
from dlprep.bank.cards import Card, Text
from dlprep.bank.stats import bank_stats
from dlprep.bank.topics import TOPICS
from dlprep.registry import registry

MAP = Path(__file__).resolve().parents[2] / "docs" / "topics.md"
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def topic_map() -> tuple[dict[str, str], set[str]]:
    """Bullet tags (map-<section>-<n>) with their text, and which of them are myths.

    A bullet may wrap onto indented continuation lines; they belong to it.
    """
    bullets: dict[str, str] = {}
    section, n, current = 0, 0, ""
    for line in MAP.read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"## (\d+)\.", line):
            section, n, current = int(heading.group(1)), 0, ""
        elif line.startswith("- ") and section:
            n += 1
            current = f"map-{section}-{n}"
            bullets[current] = line[2:].strip()
        elif current and line.startswith((" ", "\t")) and line.strip():
            bullets[current] += " " + line.strip()
        else:
            current = ""
    myths = {tag for tag, text in bullets.items() if "**myth**" in text}
    return bullets, myths


@pytest.fixture(scope="module")
def bank() -> Bank:
    loaded = load_bank()
    assert loaded.problems == [], [str(p) for p in loaded.problems[:5]]
    return loaded


def test_size_and_sections(bank: Bank) -> None:
    assert len(bank.cards) >= 420
    per_topic = Counter(card.topic for card in bank.cards.values())
    assert set(per_topic) == set(TOPICS)
    assert min(per_topic.values()) >= 12, per_topic
    files = {Path(origin.file).stem for origin in bank.origins.values()}
    assert files == set(TOPICS), "one file per topic section"


def test_map_sections_are_the_topics() -> None:
    """docs/topics.md has one numbered section per topic slug, in the same order."""
    headings = re.findall(r"^## (\d+)\. (.+)$", MAP.read_text(encoding="utf-8"), re.M)
    assert [int(n) for n, _ in headings] == list(range(1, len(TOPICS) + 1))
    titles = [title for _, title in headings]
    for (slug, (en, _ko)), title in zip(TOPICS.items(), titles, strict=True):
        assert en.split(" (")[0] in title or title.split(" (")[0] in en, (slug, en, title)


def test_every_bullet_and_myth_is_covered(bank: Bank) -> None:
    bullets, myths = topic_map()
    assert len(bullets) >= 50 and len(myths) >= 5
    tags = Counter(tag for card in bank.cards.values() for tag in card.tags)
    missing = [b for b in bullets if not tags[b]]
    assert not missing, [bullets[b] for b in missing]
    for myth in myths:
        cards = [
            c for c in bank.cards.values()
            if myth in c.tags and c.type == "truefalse" and getattr(c, "myth", False)
        ]
        assert cards, f"no myth-or-fact card for {bullets[myth]}"
        assert all("myth" in c.tags for c in cards)


def test_types_difficulty_and_demo_links(bank: Bank) -> None:
    stats = bank_stats(bank)
    assert all(n > 0 for n in stats.by_type.values()), stats.by_type
    shares = {d: n / stats.total for d, n in stats.by_difficulty.items()}
    assert 0.30 <= shares[1] <= 0.50 and 0.30 <= shares[2] <= 0.50, shares
    assert 0.12 <= shares[3] <= 0.28, shares
    links = Counter(c.demo.name for c in bank.cards.values() if c.demo is not None)
    for name in registry():
        assert links[name] >= 3, f"demo {name} is linked from {links[name]} cards"
    with_predict = sum(
        1 for c in bank.cards.values() if c.demo is not None and c.demo.predict is not None
    )
    assert with_predict >= len(registry()) * 2
    templated = [c for c in bank.cards.values() if getattr(c, "template", None) is not None]
    assert len(templated) >= 5


def _texts(card: Card) -> list[Text]:
    found: list[Text] = []
    for value in (getattr(card, f.name) for f in dataclasses.fields(card)):
        if isinstance(value, Text):
            found.append(value)
        elif isinstance(value, tuple):
            found += [v for v in value if isinstance(v, Text)]
    demo = getattr(card, "demo", None)
    if demo is not None and demo.predict is not None:
        found.append(demo.predict)
    return found


def test_both_languages_written_and_refs(bank: Bank) -> None:
    for card in bank.cards.values():
        for text in _texts(card):
            assert text.en.strip() and text.ko.strip(), card.id
            assert HANGUL.search(text.ko) or text.ko == text.en, (card.id, text.ko)
        assert HANGUL.search(card.q.ko) and HANGUL.search(card.explain.ko), card.id
        assert all(len(ref) >= 10 for ref in card.refs), card.id


def test_no_two_cards_ask_the_same_thing(bank: Bank) -> None:
    def norm(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()

    seen: dict[str, str] = {}
    for card in bank.cards.values():
        key = norm(card.q.en)
        assert key not in seen, f"{card.id} repeats {seen[key]}"
        seen[key] = card.id
