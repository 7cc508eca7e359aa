"""`dlprep export anki`: the bank as an Anki package, one deck per topic under ``dlprep``.

Each card type gets a note type that fits it (choices lettered on the front and the key on
the back, true/false and myth/fact, numeric with a box to type the number in and its value,
unit and tolerance on the back, order, recall).
Note GUIDs derive from the card id (and a templated card's values), model and deck ids from
fixed names, so importing a newer export updates the notes a learner already has instead of
adding copies, and their review history stays with them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlprep.bank.cards import (
    Card,
    Mcq,
    Multi,
    Numeric,
    Order,
    Recall,
    Text,
    TrueFalse,
    item_key,
)
from dlprep.bank.template import assignments, compile_formula, evaluate, fill, format_number
from dlprep.bank.topics import topic_title
from dlprep.export.html import in_langs, markdown, plain
from dlprep.study.strings import t

PARENT = "dlprep"
INSTANCES = 3  # concrete versions of a templated numeric card
LETTERS = "ABCDEFGHIJ"

CSS = """
.card { font-family: -apple-system, "Segoe UI", "Noto Sans KR", sans-serif; font-size: 18px;
        text-align: left; line-height: 1.45; max-width: 46em; margin: 0 auto; }
.lang-ko { margin-top: .6em; color: #555; }
.nightMode .lang-ko { color: #bbb; }
ol.choices { list-style-type: upper-alpha; }
.key, .answer { font-weight: bold; margin: .4em 0; }
.label { font-size: 80%; text-transform: uppercase; letter-spacing: .05em; color: #888;
         margin-top: 1em; }
pre, code { font-family: "JetBrains Mono", Menlo, Consolas, monospace; font-size: 90%; }
pre { background: rgba(127,127,127,.12); padding: .5em .7em; overflow-x: auto; }
.refs { font-size: 80%; color: #777; }
.demo code { background: rgba(127,127,127,.15); padding: .1em .3em; }
"""

BACK = ('{{FrontSide}}<hr id="answer">%s'
        '<div class="label">{{Why}}</div>{{Explanation}}'
        '{{#Demo}}<div class="label">Demo</div><div class="demo">{{Demo}}</div>{{/Demo}}'
        '<div class="label">{{RefsLabel}}</div><div class="refs">{{Refs}}</div>')
COMMON = ["Explanation", "Refs", "Demo", "Why", "RefsLabel", "CardId"]

# note type: (its fields before the common ones, front template, what the back adds)
NOTE_TYPES: dict[str, tuple[list[str], str, str]] = {
    "choice": (["Question", "Choices", "Key"],
               '{{Question}}<ol class="choices">{{Choices}}</ol>',
               '<div class="key">{{Key}}</div>'),
    "truefalse": (["Statement", "Prompt", "Answer"],
                  "{{Statement}}<div class=\"label\">{{Prompt}}</div>",
                  '<div class="answer">{{Answer}}</div>'),
    # Anki's type-in box: the learner types the number; on the back (through {{FrontSide}})
    # Anki shows it compared with Value
    "numeric": (["Question", "Value", "TypePrompt", "Answer", "Tolerance"],
                '{{Question}}<div class="label">{{TypePrompt}}</div>{{type:Value}}',
                '<div class="answer">{{Answer}}</div><div>{{Tolerance}}</div>'),
    "order": (["Question", "Items", "Order"], "{{Question}}<ol class=\"choices\">{{Items}}</ol>",
              '<ol class="answer">{{Order}}</ol>'),
    "recall": (["Question", "ModelAnswer"], "{{Question}}",
               '<div class="answer">{{ModelAnswer}}</div>'),
}
KIND = {"mcq": "choice", "multi": "choice", "truefalse": "truefalse", "numeric": "numeric",
        "order": "order", "recall": "recall"}


def stable_id(name: str) -> int:
    """A fixed 31-bit id for a model or deck name (Anki wants them stable and positive)."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF | 1 << 30


@dataclass(frozen=True)
class NoteData:
    """One note before genanki: which note type, its fields, tags and GUID seed."""

    kind: str
    deck: str
    fields: dict[str, str]
    tags: tuple[str, ...]
    guid_parts: tuple[str, ...]


def _label(key: str, langs: tuple[str, ...]) -> str:
    """A label from the one string table in each chosen language, joined by " / "."""
    return " / ".join(t(key, lang) for lang in langs)


def _items(items: Iterable[str]) -> str:
    return "".join(f"<li>{item}</li>" for item in items)


def _shuffled(card: Card, items: Sequence[Any]) -> list[Any]:
    """Choices in an order that depends only on the card id, so re-exports are identical."""
    order = list(items)
    random.Random(card.id).shuffle(order)
    if isinstance(card, Order) and len(order) > 1 and order == list(items):
        order = order[1:] + order[:1]  # a front already in the right order gives it away
    return order


def _tolerance(card: Numeric, expected: float, langs: tuple[str, ...]) -> str:
    tol = card.tolerance
    unit = f" {card.unit}" if card.unit else ""
    if tol.abs is not None:
        spread = f"± {format_number(tol.abs)}{unit}"
    else:
        rel = tol.rel or 0.0
        spread = f"± {format_number(rel * 100)} % ({format_number(abs(expected) * rel)}{unit})"
    return f"{_label('anki_within', langs)}: {plain(spread)}"


def _answer_fields(card: Card, langs: tuple[str, ...], values: dict[str, float]) -> dict[str, str]:
    if isinstance(card, Mcq | Multi):
        shown = _shuffled(card, card.choices)
        keys = [card.answer] if isinstance(card, Mcq) else list(card.answers)
        letters = [LETTERS[i] for i, c in enumerate(shown) if item_key(c) in keys]
        correct = [c for c in shown if item_key(c) in keys]
        key = ", ".join(letters) + "<br>" + "<br>".join(in_langs(c, langs) for c in correct)
        return {"Choices": _items(in_langs(c, langs) for c in shown), "Key": key}
    if isinstance(card, TrueFalse):
        if card.myth:
            answer = _label("fact" if card.answer else "myth", langs)
            prompt = _label("anki_myth_or_fact", langs)
        else:
            answer = _label("true" if card.answer else "false", langs)
            prompt = _label("anki_true_or_false", langs)
        return {"Prompt": prompt, "Answer": answer}
    if isinstance(card, Numeric):
        expected = _expected(card, values)
        unit = f" {card.unit}" if card.unit else ""
        typed = _label("anki_type_number", langs) + (f" ({plain(card.unit)})" if card.unit else "")
        # Anki compares what is typed character by character: no thousands separators
        return {"Value": plain(format_number(expected).replace(",", "")), "TypePrompt": typed,
                "Answer": plain(f"{format_number(expected)}{unit}"),
                "Tolerance": _tolerance(card, expected, langs)}
    if isinstance(card, Order):
        return {"Items": _items(in_langs(i, langs) for i in _shuffled(card, card.items)),
                "Order": _items(in_langs(i, langs) for i in card.items)}
    assert isinstance(card, Recall)
    return {"ModelAnswer": in_langs(card.answer, langs)}


def _expected(card: Numeric, values: dict[str, float]) -> float:
    if card.template is None:
        assert card.answer is not None  # the model requires one of the two
        return card.answer
    tree = compile_formula(card.template.formula, frozenset(card.template.vars))
    return evaluate(tree, values)


def _instances(card: Card) -> list[dict[str, float]]:
    """The template values to export: a few spread over all combinations, always the same."""
    if not isinstance(card, Numeric) or card.template is None:
        return [{}]
    combos = assignments({k: list(v) for k, v in card.template.vars.items()})
    if len(combos) <= INSTANCES:
        return combos
    step = (len(combos) - 1) / (INSTANCES - 1)
    return [combos[round(i * step)] for i in range(INSTANCES)]


def _filled(text: Text, values: dict[str, float]) -> Text:
    return Text(en=fill(text.en, values), ko=fill(text.ko, values)) if values else text


def _demo_command(card: Card, values: dict[str, float]) -> str:
    if card.demo is None:
        return ""
    from dlprep.study.predict import demo_command

    return f"<code>{plain(demo_command(card.demo, values))}</code>"


def notes_for(card: Card, langs: tuple[str, ...]) -> list[NoteData]:
    """The note(s) one card becomes: one, or one per exported template instance."""
    kind = KIND[card.type]
    tags = ("dlprep", f"topic::{card.topic}", f"type::{card.type}",
            f"difficulty::{card.difficulty}") + ((f"demo::{card.demo.name}",) if card.demo else ())
    out = []
    for values in _instances(card):
        question = in_langs(_filled(card.q, values), langs)
        fields = {"Question": question, "Statement": question,
                  **_answer_fields(card, langs, values),
                  "Explanation": in_langs(_filled(card.explain, values), langs),
                  "Refs": "<ul>" + _items(markdown(r) for r in card.refs) + "</ul>",
                  "Demo": _demo_command(card, values), "Why": _label("why", langs),
                  "RefsLabel": _label("refs", langs), "CardId": plain(card.id)}
        suffix = tuple(f"{k}={format_number(v)}" for k, v in sorted(values.items()))
        out.append(NoteData(kind, f"{PARENT}::{card.topic}", fields, tags, (card.id, *suffix)))
    return out


def _model(kind: str) -> Any:
    import genanki

    own, front, back = NOTE_TYPES[kind]
    return genanki.Model(
        stable_id(f"dlprep note type {kind}"), f"dlprep {kind}",
        fields=[{"name": name} for name in own + COMMON],
        templates=[{"name": "Card 1", "qfmt": front, "afmt": BACK % back}],
        css=CSS)


def build_package(cards: Iterable[Card], langs: tuple[str, ...]) -> tuple[Any, dict[str, int]]:
    """A genanki Package of ``cards``; also how many notes went into each deck."""
    import genanki

    models = {kind: _model(kind) for kind in NOTE_TYPES}
    decks: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for card in cards:
        for data in notes_for(card, langs):
            deck = decks.get(data.deck)
            if deck is None:
                title = " / ".join(topic_title(card.topic, lang) for lang in langs)
                deck = decks[data.deck] = genanki.Deck(stable_id(data.deck), data.deck, title)
            own = NOTE_TYPES[data.kind][0]
            note = genanki.Note(model=models[data.kind],
                                fields=[data.fields[name] for name in own + COMMON],
                                tags=list(data.tags), guid=genanki.guid_for(*data.guid_parts))
            deck.add_note(note)
            counts[data.deck] = counts.get(data.deck, 0) + 1
    return genanki.Package(list(decks.values())), counts


def export_anki(path: Path, cards: Iterable[Card], langs: tuple[str, ...], *, force: bool = False,
                timestamp: float | None = None) -> dict[str, int]:
    """Write ``cards`` to ``path`` (.apkg) atomically; returns notes per deck."""
    from dlprep.export.files import check_target, write_atomically

    check_target(path, force)
    package, counts = build_package(cards, langs)
    write_atomically(path, lambda temp: package.write_to_file(str(temp), timestamp=timestamp))
    return counts
