"""Load and validate card files, reporting every problem with its file and line.

Problems read ``file:line: card-id: field: message``. Loading is lenient: a card with
a problem is skipped and the rest still load; callers decide whether problems are
fatal (``--strict``, ``dlprep bank validate``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from dlprep.bank.models import CARD_TYPES, Card, card_adapter
from dlprep.bank.topics import TOPICS
from dlprep.paths import builtin_bank_dir, user_bank_paths

try:  # the C parser is several times faster; construction is the same Python code
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

Severity = Literal["error", "warning"]
NO_ID = "-"


class BankPathError(OSError):
    """A bank path that does not exist (a usage error, not a card problem)."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    card_id: str
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        tail = " (warning)" if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.card_id}: {self.field}: {self.message}{tail}"


@dataclass(frozen=True)
class Origin:
    file: str
    line: int
    builtin: bool


@dataclass
class Bank:
    """Valid cards in load order, where each came from, and every problem found."""

    cards: dict[str, Card] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def topics(self) -> list[str]:
        """Topics present, in the topic map's order, then any others alphabetically."""
        present = {card.topic for card in self.cards.values()}
        known = [t for t in TOPICS if t in present]
        return known + sorted(present - set(TOPICS))

    def by_topic(self, topic: str) -> list[Card]:
        return [c for c in self.cards.values() if c.topic == topic]


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def card_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
    raise BankPathError(f"no such file or directory: {path}")


@dataclass
class _Raw:
    data: dict[str, Any]
    node: yaml.MappingNode
    file: str


def _parse_file(path: Path, problems: list[Problem]) -> list[_Raw]:
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, 1, NO_ID, "file", f"cannot read: {exc}"))
        return []
    loader = SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problems.append(Problem(name, line, NO_ID, "yaml", f"syntax error: {exc.problem}"))
        return []
    except yaml.YAMLError as exc:
        problems.append(Problem(name, 1, NO_ID, "yaml", f"syntax error: {exc}"))
        return []
    finally:
        loader.dispose()
    if root is None:
        problems.append(Problem(name, 1, NO_ID, "file", "no cards", "warning"))
        return []
    if not isinstance(root, yaml.SequenceNode):
        problems.append(
            Problem(name, root.start_mark.line + 1, NO_ID, "file", "must be a list of cards")
        )
        return []
    raws = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            problems.append(Problem(name, line, NO_ID, "card", "must be a mapping of fields"))
            continue
        card_id = _scalar_id(node)
        keys = [k.value for k, _ in node.value]
        dupes = {k for k in keys if keys.count(k) > 1} if len(set(keys)) != len(keys) else set()
        if dupes:
            seen_keys: set[str] = set()
            for key_node, _ in node.value:
                if key_node.value in seen_keys:
                    problems.append(
                        Problem(
                            name, key_node.start_mark.line + 1, card_id, str(key_node.value),
                            "field given twice",
                        )
                    )
                seen_keys.add(key_node.value)
            continue
        try:
            data = loader.construct_document(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or node.start_mark
            problems.append(
                Problem(name, mark.line + 1, card_id, "yaml", _tag_message(str(exc.problem)))
            )
            continue
        raws.append(_Raw(data, node, name))
    return raws


def _scalar_id(node: yaml.MappingNode) -> str:
    for key, value in node.value:
        if key.value == "id" and isinstance(value, yaml.ScalarNode) and value.value:
            return str(value.value)
    return NO_ID


def _tag_message(problem: str) -> str:
    if "constructor for the tag" in problem:
        tag = problem.split("tag", 1)[1].strip().strip("'")
        tag = tag.replace("tag:yaml.org,2002:", "!!")
        return f"unsafe or unknown tag {tag} is rejected (cards are plain YAML)"
    return problem


def _line_at(node: yaml.Node, loc: Sequence[int | str]) -> int:
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


def _field_path(loc: Sequence[int | str]) -> str:
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "card"


def _message(err: Any) -> str:
    kind, msg, loc = err["type"], err["msg"], err["loc"]
    if kind == "missing" or kind == "union_tag_not_found":
        if loc and loc[-1] in ("en", "ko"):
            return f"missing language {loc[-1]!r}"
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "union_tag_invalid":
        return f"unknown card type {err['input'].get('type')!r}; use one of " + ", ".join(
            CARD_TYPES
        )
    if kind == "string_pattern_mismatch":
        return "must be lowercase letters, digits and single hyphens (a slug)"
    if kind == "too_short":
        return f"needs at least {err['ctx']['min_length']} item(s)"
    if kind == "too_long":
        return f"has more than {err['ctx']['max_length']} items"
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "literal_error":
        return f"{msg} (got {err['input']!r:.40})"
    return msg.removeprefix("Value error, ")


def _validate(raw: _Raw, problems: list[Problem]) -> Card | None:
    card_id = str(raw.data.get("id") or NO_ID)
    try:
        return card_adapter.validate_python(raw.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc: list[int | str] = list(err["loc"])
            if loc and loc[0] in CARD_TYPES and raw.data.get("type") == loc[0]:
                loc = loc[1:]  # the discriminator's tag is not a field
            if err["type"] == "union_tag_not_found" or err["type"] == "union_tag_invalid":
                loc = ["type"]
            message = _message(err)
            head, sep, rest = message.partition(": ")
            if not loc and sep and head.isidentifier():
                loc, message = [head], rest  # a model-level check naming its field
            line = _line_at(raw.node, loc)
            problems.append(Problem(raw.file, line, card_id, _field_path(loc), message))
        return None


def _check_demo(raw: _Raw, problems: list[Problem]) -> bool:
    """Check ``demo`` against the registry, on the raw data so it runs for invalid cards too."""
    demo = raw.data.get("demo")
    if not isinstance(demo, dict) or not isinstance(demo.get("name"), str):
        return True  # absent, or malformed and already reported by the model
    from dlprep.registry import ParamError, RegistryError, registry

    card_id = str(raw.data.get("id") or NO_ID)
    try:
        demos = registry()
    except RegistryError as exc:
        problems.append(Problem(raw.file, 1, card_id, "demo", f"demo registry: {exc}"))
        return False
    info = demos.get(demo["name"])
    if info is None:
        line = _line_at(raw.node, ["demo", "name"])
        known = ", ".join(sorted(demos)) or "none"
        problems.append(
            Problem(
                raw.file, line, card_id, "demo.name",
                f"no registered demo {demo['name']!r} (known: {known})",
            )
        )
        return False
    params = demo.get("params")
    ok = True
    for key, value in (params.items() if isinstance(params, dict) else ()):
        try:
            info.resolve({key: value})
        except ParamError as exc:
            line = _line_at(raw.node, ["demo", "params", key])
            problems.append(Problem(raw.file, line, card_id, f"demo.params.{key}", str(exc)))
            ok = False
    return ok


def load_paths(
    paths: Iterable[Path], *, builtin: Path | None = None, bank: Bank | None = None
) -> Bank:
    """Load ``builtin`` (if given) then ``paths``; user cards may override built-ins."""
    bank = bank or Bank()
    sources: list[tuple[Path, bool]] = []
    if builtin is not None:
        sources += [(f, True) for f in card_files(builtin)]
    seen_files = {f.resolve() for f, _ in sources}
    for path in paths:
        for f in card_files(path):
            if f.resolve() not in seen_files:
                seen_files.add(f.resolve())
                sources.append((f, False))
    for path, is_builtin in sources:
        problems: list[Problem] = []
        for raw in _parse_file(path, problems):
            card = _validate(raw, problems)
            demo_ok = _check_demo(raw, problems)
            if card is not None and demo_ok:
                _add(bank, card, Origin(raw.file, raw.node.start_mark.line + 1, is_builtin))
        bank.problems += sorted(problems, key=lambda p: p.line)
    return bank


def _add(bank: Bank, card: Card, origin: Origin) -> None:
    here = (origin.file, origin.line, card.id)
    if card.topic not in TOPICS:
        bank.problems.append(
            Problem(*here, "topic", f"{card.topic!r} is not in the topic map", "warning")
        )
    first = bank.origins.get(card.id)
    if first is None:
        if card.override and not origin.builtin:
            bank.problems.append(
                Problem(*here, "override", "no built-in card has this id", "warning")
            )
        bank.cards[card.id] = card
        bank.origins[card.id] = origin
        return
    where = f"{first.file}:{first.line}"
    if first.builtin and not origin.builtin:
        if card.override:
            bank.cards[card.id] = card
            bank.origins[card.id] = origin
            return
        message = f"a built-in card already uses this id ({where}); add override: true"
    else:
        message = f"duplicate id, first defined at {where}"
    bank.problems.append(Problem(*here, "id", message))


def load_bank(extra: Sequence[str] = (), *, builtin: bool = True) -> Bank:
    """The built-in bank merged with ``--bank`` paths and ``DLPREP_BANK``."""
    return load_paths(user_bank_paths(extra), builtin=builtin_bank_dir() if builtin else None)
