"""The node builder gives what yaml.safe_load gives for plain YAML and refuses the rest."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from dlprep.bank.yamlsafe import MAX_DEPTH, Builder, Refused, compose

SAMPLES = [
    "- {a: 1, b: 2.5, c: true, d: null, e: ~, f: '1', g: \"yes\", h: yes, i: 0x1F}\n",
    "- [1, -2, +3, 1_000, .inf, -.5e3, 'x']\n- plain text: with colon\n",
    "- date: 2016-01-01\n  when: 2016-01-01 10:00:00\n  empty:\n  s: ''\n",
    "- |\n  block\n  text\n- >\n  folded\n  text\n",
    "- {ko: 한국어, math: θ ← θ − η∇J(θ), code: \"`x = 1`\", star: a * b & c}\n",
    "- !!str 12\n- !!int '7'\n- {x: !!float 1}\n",
]


def build_all(text: str) -> list[object]:
    root = compose(text)
    assert isinstance(root, yaml.SequenceNode)
    builder = Builder(text)
    return [builder.build(node) for node in root.value]


@pytest.mark.parametrize("text", SAMPLES)
def test_same_data_as_safe_load(text: str) -> None:
    assert build_all(text) == yaml.safe_load(text)


def test_timestamps_are_dates() -> None:
    assert build_all("- {when: 2016-01-01}\n") == [{"when": dt.date(2016, 1, 1)}]


def refusal(text: str) -> Refused:
    with pytest.raises(Refused) as caught:
        build_all(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- a: &x [1, 2]\n  b: 3\n  c: *x\n", 3, "aliases *x are not allowed (anchor at line 1)"),
        ("- {a: 1}\n- b: 2\n  <<: {a: 1}\n", 3, "merge keys (<<) are not allowed"),
        ("- id: x\n  run: !!python/object/apply:os.system [ls]\n", 2,
         "unsafe or unknown tag !!python/object/apply:os.system"),
        ("- id: x\n  s: !!set {a: null}\n", 2, "unsafe or unknown tag !!set"),
        ("- id: x\n  b: !!binary aGk=\n", 2, "unsafe or unknown tag !!binary"),
        ("- id: x\n  n: " + "9" * 5000 + "\n", 2, "cannot read the value 9999"),
        ("- id: x\n  d: 2016-02-30\n", 2, "cannot read the value 2016-02-30"),
        ("- ? [a, b]\n  : 1\n", 1, "a key must be a plain value"),
    ],
)
def test_refusals_name_their_line(text: str, line: int, message: str) -> None:
    refused = refusal(text)
    assert refused.line == line and refused.message.startswith(message), refused.message


def test_an_alias_to_another_card_is_caught_too() -> None:
    assert refusal("- a: &x hello\n- b: *x\n").line == 2


def test_billion_laughs_is_refused_at_once() -> None:
    rows = ["- a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    rows += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    rows.append("  q: {en: *a9, ko: *a9}")
    assert refusal("\n".join(rows) + "\n").line == 2


def test_depth_is_capped() -> None:
    ok = "- " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    assert build_all(ok)
    deep = "- " + "{a: " * 500 + "1" + "}" * 500 + "\n"
    assert "nested deeper than" in refusal(deep).message


def test_duplicate_keys_are_collected_with_their_path_and_line() -> None:
    text = "- id: a\n  x: 1\n  x: 2\n  q: {en: a, en: b}\n"
    root = compose(text)
    assert isinstance(root, yaml.SequenceNode)
    builder = Builder(text)
    builder.build(root.value[0])
    assert builder.duplicates == [("x", 3), ("q.en", 4)]


def test_roots() -> None:
    assert compose("") is None
    assert compose("# only a comment\n") is None
    assert compose("---\n") is None
    assert isinstance(compose("a: 1\n"), yaml.MappingNode)
    with pytest.raises(yaml.YAMLError):
        compose("- a\n---\n- b\n")
    with pytest.raises(yaml.YAMLError, match="nesting depth"):
        compose("- " + "[" * 5000 + "]" * 5000 + "\n")  # libyaml's own cap
