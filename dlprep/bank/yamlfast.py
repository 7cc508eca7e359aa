"""Plain data straight from libyaml's event stream, with the line of every card.

``yaml.load`` composes a node tree and then walks it again in Python to construct
objects; cards only need the objects, so this builds them from the events in one pass
(about twice as fast). Lines of nested fields are needed only when a card has a
problem; :func:`compose_nodes` recomposes that one file for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

_Y = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _Y + "str", _Y + "map", _Y + "seq", _Y + "merge"
_SCALARS = {_Y + t for t in ("null", "bool", "int", "float", "timestamp")}
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()
_FIRST_CHARS = set(Resolver.yaml_implicit_resolvers)


def _line(event: events.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 1


class UnsafeTag(Exception):
    def __init__(self, tag: str, line: int) -> None:
        super().__init__(tag)
        self.tag, self.line = tag, line


@dataclass
class Item:
    """One top-level list entry: its data, or why it could not be built."""

    line: int
    data: Any = None
    bad_tag: UnsafeTag | None = None
    duplicate_keys: list[tuple[str, int]] = field(default_factory=list)


class _Events:
    """An event iterator that tracks nesting depth, to skip the rest of a bad item."""

    def __init__(self, text: str) -> None:
        self._it: Iterator[events.Event] = yaml.parse(text, Loader=SafeLoader)
        self.depth = 0

    def next(self) -> events.Event:
        event = next(self._it)
        if isinstance(event, events.CollectionStartEvent):
            self.depth += 1
        elif isinstance(event, events.CollectionEndEvent):
            self.depth -= 1
        return event

    def skip_to(self, depth: int) -> None:
        while self.depth > depth:
            self.next()


def _scalar(event: events.ScalarEvent) -> Any:
    value, tag = event.value, event.tag
    if tag is None or tag == "!":
        if not event.implicit[0] or (value and value[0] not in _FIRST_CHARS):
            return value
        tag = _RESOLVER.resolve(ScalarNode, value, event.implicit)
    if tag == _STR:
        return value
    if tag in _SCALARS:
        node = ScalarNode(tag, value)
        return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
    if tag == _MERGE:
        return _MERGE
    raise UnsafeTag(tag, _line(event))


class _Builder:
    def __init__(self, stream: _Events, item: Item) -> None:
        self.stream, self.item = stream, item
        self.anchors: dict[str, Any] = {}

    def build(self, event: events.Event) -> Any:
        if isinstance(event, events.ScalarEvent):
            out = _scalar(event)
        elif isinstance(event, events.AliasEvent):
            out = self.anchors.get(event.anchor or "")
        elif isinstance(event, events.SequenceStartEvent):
            self._check_tag(event, _SEQ)
            out = []
            while not isinstance(nxt := self.stream.next(), events.SequenceEndEvent):
                out.append(self.build(nxt))
        elif isinstance(event, events.MappingStartEvent):
            self._check_tag(event, _MAP)
            out = self._mapping()
        else:  # pragma: no cover - the parser guarantees node events here
            raise UnsafeTag(type(event).__name__, _line(event))
        anchor = getattr(event, "anchor", None)
        if anchor and not isinstance(event, events.AliasEvent):
            self.anchors[anchor] = out
        return out

    def _check_tag(self, event: events.CollectionStartEvent, standard: str) -> None:
        if event.tag not in (None, "!", standard):
            raise UnsafeTag(event.tag, _line(event))

    def _mapping(self) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while not isinstance(key_event := self.stream.next(), events.MappingEndEvent):
            key = self.build(key_event)
            value = self.build(self.stream.next())
            if key == _MERGE:
                for merged in value if isinstance(value, list) else [value]:
                    for k, v in merged.items():
                        out.setdefault(k, v)
                continue
            try:
                duplicate = key in out
            except TypeError:  # an unhashable key such as a list
                raise UnsafeTag("complex key", _line(key_event)) from None
            if duplicate and self.stream.depth == 2:  # a card's own fields
                self.item.duplicate_keys.append((str(key), _line(key_event)))
            out[key] = value
        return out


def load_items(text: str) -> tuple[str, int, list[Item]]:
    """Parse a card file: ("seq" | "empty" | kind of other root, root line, items).

    Raises ``yaml.YAMLError`` for syntax errors.
    """
    stream = _Events(text)
    event = stream.next()
    while not isinstance(event, events.DocumentStartEvent | events.StreamEndEvent):
        event = stream.next()
    if isinstance(event, events.StreamEndEvent):
        return "empty", 1, []
    root = stream.next()
    line = _line(root)
    if isinstance(root, events.DocumentEndEvent):
        return "empty", line, []
    if not isinstance(root, events.SequenceStartEvent):
        return type(root).__name__, line, []
    items = []
    while not isinstance(event := stream.next(), events.SequenceEndEvent):
        item = Item(line=_line(event))
        depth = stream.depth - (1 if isinstance(event, events.CollectionStartEvent) else 0)
        try:
            item.data = _Builder(stream, item).build(event)
        except UnsafeTag as exc:
            item.bad_tag = exc
            stream.skip_to(depth)
        items.append(item)
    # the rest of the stream: a second document is a mistake worth reporting
    while not isinstance(event := stream.next(), events.StreamEndEvent):
        if isinstance(event, events.DocumentStartEvent):
            raise yaml.YAMLError(f"line {_line(event)}: only one document per file")
    return "seq", line, items


def compose_nodes(text: str) -> list[yaml.Node]:
    """The top-level item nodes of a file that already parsed, for exact field lines."""
    loader = SafeLoader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    return list(root.value) if isinstance(root, yaml.SequenceNode) else []
