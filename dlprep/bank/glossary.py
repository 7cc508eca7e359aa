"""The bank's Korean terminology (``quizbank/glossary.yaml``) and a check of card text against it.

Pure: loading the glossary needs yaml, checking a card needs only ``re``. The check looks
at every Korean text of a card (question, explanation, model answer, choices, order items,
demo prompt) for the variants the glossary says to avoid, so one term means one thing
across all sections of the bank.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dlprep.bank.cards import Card, Text
from dlprep.paths import builtin_bank_dir

GLOSSARY_NAME = "glossary.yaml"


class GlossaryError(ValueError):
    """A glossary file that is not the documented shape."""


@dataclass(frozen=True)
class Rule:
    """One avoided variant: where it came from and what to write instead."""

    pattern: re.Pattern[str]
    term: str  # the English term, or "phrase" for a calque
    instead: str
    only_if_en: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Term:
    en: str
    ko: str
    parens: bool
    why: str


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Hit:
    card_id: str
    field: str
    found: str
    rule: Rule

    def __str__(self) -> str:
        return (f"{self.card_id}: {self.field}: {self.found!r} ({self.rule.term}); "
                f"write {self.rule.instead}")


def glossary_path() -> Path:
    return builtin_bank_dir() / GLOSSARY_NAME


def _compile(source: object, where: str) -> re.Pattern[str]:
    if not isinstance(source, str) or not source:
        raise GlossaryError(f"{where}: a non-empty regular expression is required")
    try:
        return re.compile(source)
    except re.error as exc:
        raise GlossaryError(f"{where}: not a valid regular expression: {exc}") from None


def _text(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise GlossaryError(f"{where}.{key}: required text")
    return value.strip()


def parse_glossary(data: object) -> Glossary:
    """Validate the parsed YAML; raises :class:`GlossaryError` naming the bad entry."""
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        raise GlossaryError("glossary: needs a 'terms' list")
    terms, rules = [], []
    for n, entry in enumerate(data["terms"]):
        where = f"terms[{n}]"
        if not isinstance(entry, dict):
            raise GlossaryError(f"{where}: must be a mapping")
        term = Term(_text(entry, "en", where), _text(entry, "ko", where),
                    bool(entry.get("parens", False)), _text(entry, "why", where))
        gate = entry.get("only_if_en")
        only = None if gate is None else _compile(gate, f"{where}.only_if_en")
        avoid = entry.get("avoid", [])
        if not isinstance(avoid, list):
            raise GlossaryError(f"{where}.avoid: must be a list")
        for k, source in enumerate(avoid):
            pattern = _compile(source, f"{where}.avoid[{k}]")
            if pattern.search(term.ko):
                raise GlossaryError(f"{where}.avoid[{k}]: matches the preferred term itself")
            rules.append(Rule(pattern, term.en, term.ko, only))
        terms.append(term)
    for n, entry in enumerate(data.get("phrases", [])):
        where = f"phrases[{n}]"
        if not isinstance(entry, dict):
            raise GlossaryError(f"{where}: must be a mapping")
        pattern = _compile(entry.get("avoid"), f"{where}.avoid")
        rules.append(Rule(pattern, "phrase", _text(entry, "instead", where)))
        _text(entry, "why", where)
    return Glossary(tuple(terms), tuple(rules))


def load_glossary(path: Path | None = None) -> Glossary:
    import yaml

    path = path or glossary_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GlossaryError(f"{path}: {exc}") from None
    return parse_glossary(data)


def korean_fields(card: Card) -> Iterator[tuple[str, Text]]:
    """Every bilingual text of a card with its field path (``choices[2]``, ``demo.predict``)."""
    yield "q", card.q
    yield "explain", card.explain
    answer = getattr(card, "answer", None)
    if isinstance(answer, Text):
        yield "answer", answer
    for name in ("choices", "items"):
        for n, item in enumerate(getattr(card, name, ())):
            if isinstance(item, Text):
                yield f"{name}[{n}]", item
    predict = card.demo.predict if card.demo is not None else None
    if predict is not None:
        yield "demo.predict", Text(predict.en, predict.ko)
        for n, item in enumerate(getattr(predict, "choices", ())):
            if isinstance(item, Text):
                yield f"demo.predict.choices[{n}]", item


def check_card(card: Card, glossary: Glossary) -> list[Hit]:
    """The avoided variants found in the card's Korean text."""
    fields = list(korean_fields(card))
    english = "\n".join(text.en for _, text in fields)
    hits = []
    for rule in glossary.rules:
        if rule.only_if_en is not None and not rule.only_if_en.search(english):
            continue
        for name, text in fields:
            for match in rule.pattern.finditer(text.ko):
                hits.append(Hit(card.id, name, match.group(0), rule))
    return hits
