"""Card files as plain data: libyaml composes the nodes, a small builder turns them into data.

Cards are plain YAML (mappings, lists, strings, numbers, booleans). The builder refuses what
cards never need and a hostile file uses to exhaust time or memory: aliases (a 1 KB "billion
laughs" expands to gigabytes), tags beyond the standard scalars (``!!python/...`` runs code
under an unsafe loader), merge keys, and nesting deeper than :data:`MAX_DEPTH` (libyaml itself
stops at 1000 levels). The nodes keep their lines, so a card's problem is located without
parsing the file again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

MAX_DEPTH = 32  # a card needs 5 levels (card > template > vars > name > values)

_Y = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _Y + "str", _Y + "map", _Y + "seq", _Y + "merge"
_CONSTRUCTOR = SafeConstructor()
_SCALARS: dict[str, Callable[[SafeConstructor, yaml.ScalarNode], Any]] = {
    _Y + name: SafeConstructor.yaml_constructors[_Y + name]
    for name in ("null", "bool", "int", "float", "timestamp")
}


class Refused(Exception):
    """Something a card file may not contain, with the line it is on."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def short_tag(tag: str) -> str:
    return tag.replace(_Y, "!!")


def compose(text: str) -> yaml.Node | None:
    """The file's single document as nodes (None if empty); raises ``yaml.YAMLError``."""
    loader = SafeLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    finally:
        loader.dispose()
    if isinstance(node, yaml.ScalarNode) and node.tag == _Y + "null" and not node.value:
        return None  # a document with nothing in it ("---" alone)
    return node


@dataclass
class Builder:
    """Builds items of one file; ``seen`` spans the file, so an alias to another item is caught.

    ``duplicates`` collects (field path, line) of every key given twice in a mapping.
    """

    text: str
    seen: set[int] = field(default_factory=set)
    duplicates: list[tuple[str, int]] = field(default_factory=list)

    def build(self, node: yaml.Node) -> Any:
        self.duplicates = []
        return self._build(node, 1, "")

    def _build(self, node: yaml.Node, depth: int, path: str) -> Any:
        if id(node) in self.seen:  # the composer hands an alias back as its anchor's node
            raise self._alias(node)
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            raise Refused(f"nested deeper than {MAX_DEPTH} levels (cards need about 5)",
                          line_of(node))
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            _check_tag(node, _SEQ)
            return [self._build(item, depth + 1, f"{path}[{i}]")
                    for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            _check_tag(node, _MAP)
            return self._mapping(node, depth, path)
        raise Refused(f"unexpected YAML node {type(node).__name__}", line_of(node))

    def _mapping(self, node: yaml.MappingNode, depth: int, path: str) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise Refused("merge keys (<<) are not allowed; cards are plain YAML",
                              line_of(key_node))
            key = self._build(key_node, depth + 1, path)
            if isinstance(key, list | dict):
                raise Refused("a key must be a plain value, not a list or mapping",
                              line_of(key_node))
            name = f"{path}.{key}" if path else str(key)
            if key in out:
                self.duplicates.append((name, line_of(key_node)))
            out[key] = self._build(value_node, depth + 1, name)
        return out

    def _alias(self, node: yaml.Node) -> Refused:
        """Name the first alias at or after the anchor; found by reparsing, on this rare path."""
        anchor_line, found = line_of(node), None
        for event in yaml.parse(self.text, Loader=SafeLoader):
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent) and mark and mark.line + 1 >= anchor_line:
                found = event
                break
        line = found.start_mark.line + 1 if found and found.start_mark else anchor_line
        name = f" *{found.anchor}" if found else ""
        return Refused(f"aliases{name} are not allowed (anchor at line {anchor_line}); cards "
                       "are plain YAML, write the value out", line)


def _check_tag(node: yaml.Node, standard: str) -> None:
    if node.tag != standard:
        raise Refused(f"unsafe or unknown tag {short_tag(node.tag)} is rejected "
                      "(cards are plain YAML)", line_of(node))


def _scalar(node: yaml.ScalarNode) -> Any:
    if node.tag == _STR:
        return node.value
    construct = _SCALARS.get(node.tag)
    if construct is None:
        raise Refused(f"unsafe or unknown tag {short_tag(node.tag)} is rejected "
                      "(cards are plain YAML)", line_of(node))
    try:
        return construct(_CONSTRUCTOR, node)
    except (ValueError, OverflowError) as exc:  # a 5,000-digit int, a 30th of February
        why = str(exc).split(";")[0]
        raise Refused(f"cannot read the value {node.value:.20}: {why}", line_of(node)) from None


def syntax_error(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """Where to look and what is wrong: an unclosed quote or bracket is reported where it
    opens, not at the end of the file where libyaml notices."""
    problem, context = exc.problem or "invalid YAML", exc.context
    mark, start = exc.problem_mark, exc.context_mark
    line = mark.line + 1 if mark else 1
    if start is not None and context and "end of stream" in problem:
        return start.line + 1, f"{context} that starts here, {problem} (line {line})"
    if start is not None and context and start.line + 1 != line:
        return line, f"{context} (from line {start.line + 1}): {problem}"
    return line, f"{context}: {problem}" if context else problem


def line_at(node: yaml.Node, loc: Sequence[int | str]) -> int:
    """The line of a validation error's location: the key of the deepest field found.

    A missing field points at the key of the mapping that lacks it (or at the card).
    """
    line = node.start_mark.line + 1
    for step in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for key, value in node.value:
                if key.value == step:
                    line, nxt = key.start_mark.line + 1, value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if 0 <= step < len(node.value):
                nxt = node.value[step]
                line = nxt.start_mark.line + 1
        if nxt is None:
            break
        node = nxt
    return line
