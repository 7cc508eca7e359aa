"""The event-stream builder gives exactly what yaml.safe_load gives for plain YAML."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from dlprep.bank.yamlfast import load_items

SAMPLES = [
    "- {a: 1, b: 2.5, c: true, d: null, e: ~, f: '1', g: \"yes\", h: yes, i: 0x1F}\n",
    "- [1, -2, +3, 1_000, .inf, -.5e3, 'x']\n- plain text: with colon\n",
    "- date: 2016-01-01\n  when: 2016-01-01 10:00:00\n  empty:\n  s: ''\n",
    "- base: &b {x: 1, y: 2}\n  other: *b\n  merged: {<<: *b, y: 3}\n",
    "- |\n  block\n  text\n- >\n  folded\n  text\n",
    "- {ko: 한국어, math: θ ← θ − η∇J(θ), code: \"`x = 1`\"}\n",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_same_data_as_safe_load(text: str) -> None:
    kind, _, items = load_items(text)
    assert kind == "seq"
    assert [item.data for item in items] == yaml.safe_load(text)


def test_lines_tags_and_duplicates() -> None:
    text = (
        "- id: a\n  x: 1\n"
        "- id: b\n  x: !!python/name:os.system\n  y: 2\n"
        "- id: c\n  x: 1\n  x: 2\n"
        "- id: d\n  when: 2016-01-01\n"
    )
    _, _, items = load_items(text)
    assert [i.line for i in items] == [1, 3, 6, 9]
    assert items[1].bad_tag is not None and items[1].bad_tag.line == 4
    assert "python/name" in items[1].bad_tag.tag
    assert items[2].duplicate_keys == [("x", 8)]
    assert items[3].data == {"id": "d", "when": dt.date(2016, 1, 1)}


def test_roots() -> None:
    assert load_items("")[0] == "empty"
    assert load_items("# only a comment\n")[0] == "empty"
    assert load_items("a: 1\n")[0] == "MappingStartEvent"
    with pytest.raises(yaml.YAMLError):
        load_items("- a\n---\n- b\n")
