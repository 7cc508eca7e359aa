"""Load and validate card files, reporting every problem with its file and line.

Problems read ``file:line: card-id: field: message``. Loading is lenient: a card with
a problem is skipped and the rest still load; callers decide whether problems are
fatal (``--strict``, ``dlprep bank validate``). Cards are validated by the pydantic models
and kept as their plain twins (:mod:`dlprep.bank.cards`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dlprep import paths
from dlprep.bank.cards import CARD_TYPES, Card
from dlprep.bank.files import (
    MAX_CARDS,
    CardFileError,
    card_files,
    display_path,
    read_card_file,
)
from dlprep.bank.files import BankPathError as BankPathError  # callers catch it from here
from dlprep.bank.topics import TOPICS, in_map_order
from dlprep.record import record

if TYPE_CHECKING:  # yaml is imported where a file is parsed: a cached bank needs none
    import yaml

    from dlprep.registry import DemoInfo

Severity = Literal["error", "warning"]
NO_ID = "-"


@record
class Problem:
    """Something wrong in the bank, located by file and line."""

    file: str
    line: int
    card_id: str
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        tail = " (warning)" if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {self.card_id}: {self.field}: {self.message}{tail}"


@record
class Origin:
    """Where a loaded card came from."""

    file: str
    line: int
    builtin: bool


@record
class Bank:
    """Valid cards in load order, where each came from, and every problem found."""

    cards: dict[str, Card] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def card_topics(self) -> dict[str, str]:
        """Each card's topic, by card id in load order."""
        return {card_id: card.topic for card_id, card in self.cards.items()}

    def topics(self) -> list[str]:
        """Topics present, in the topic map's order, then any others alphabetically."""
        return in_map_order(card.topic for card in self.cards.values())


class _File:
    """A card file being loaded, with its item nodes: they locate a card's problems."""

    def __init__(self, name: str, nodes: list[yaml.Node]) -> None:
        self.name, self.nodes = name, nodes

    def node(self, index: int) -> yaml.Node | None:
        return self.nodes[index] if index < len(self.nodes) else None


@record
class _Raw:
    """One card item as parsed, before validation."""

    data: dict[str, Any]
    file: _File
    index: int
    line: int

    def line_at(self, loc: Sequence[int | str]) -> int:
        node = self.file.node(self.index)
        from dlprep.bank.yamlsafe import line_at

        return self.line if node is None else line_at(node, loc)


def _parse_file(path: Path, problems: list[Problem]) -> list[_Raw]:
    import yaml

    from dlprep.bank.yamlsafe import Builder, Refused, compose, line_of, syntax_error

    name = display_path(path)
    try:
        data = read_card_file(path)
        text = data.decode("utf-8")
        root = compose(text)
    except CardFileError as exc:
        problems.append(Problem(name, 1, NO_ID, "file", str(exc)))
        return []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(name, line, NO_ID, "file",
                                f"not UTF-8 text (byte {exc.start}: {exc.reason})"))
        return []
    except yaml.MarkedYAMLError as exc:
        line, what = syntax_error(exc)
        problems.append(Problem(name, line, NO_ID, "yaml", f"syntax error: {what}"))
        return []
    except yaml.YAMLError as exc:
        problems.append(Problem(name, 1, NO_ID, "yaml", f"syntax error: {exc}"))
        return []
    if root is None:
        problems.append(Problem(name, 1, NO_ID, "file", "no cards", "warning"))
        return []
    if not isinstance(root, yaml.SequenceNode):
        problems.append(Problem(name, line_of(root), NO_ID, "file", "must be a list of cards"))
        return []
    if len(root.value) > MAX_CARDS:  # e.g. a million "- 1" lines: one line, not a million
        problems.append(Problem(name, line_of(root), NO_ID, "file",
                                f"{len(root.value)} entries, more than the {MAX_CARDS} cards a "
                                "bank may hold; not loaded"))
        return []
    source = _File(name, list(root.value))
    builder = Builder(text)
    raws = []
    for index, node in enumerate(source.nodes):
        if not isinstance(node, yaml.MappingNode):
            problems.append(Problem(name, line_of(node), NO_ID, "card",
                                    "must be a mapping of fields"))
            continue
        card_id = _scalar_id(source, index)
        try:
            fields = builder.build(node)
        except Refused as exc:
            problems.append(Problem(name, exc.line, card_id, "yaml", exc.message))
            continue
        if builder.duplicates:
            for key, line in builder.duplicates:
                problems.append(Problem(name, line, card_id, key, "field given twice"))
            continue
        raws.append(_Raw(fields, source, index, line_of(node)))
    return raws


def _scalar_id(source: _File, index: int) -> str:
    import yaml

    node = source.node(index)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "id" and isinstance(value, yaml.ScalarNode) and value.value:
                return str(value.value)
    return NO_ID


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
        tag = err["ctx"]["discriminator"].strip("'")
        what = "card type" if tag == "type" else tag
        tags = ", ".join(tag.strip(" '") for tag in err["ctx"]["expected_tags"].split(","))
        return f"unknown {what} {err['ctx']['tag']!r}; use one of {tags}"
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
    """The card's runtime twin if the pydantic model accepts it, else its problems."""
    # Imported here: pydantic only validates, and a bank served from the cache needs none.
    from pydantic import ValidationError

    from dlprep.bank.convert import to_card
    from dlprep.bank.models import card_adapter

    card_id = str(raw.data.get("id") or NO_ID)
    try:
        return to_card(card_adapter.validate_python(raw.data))
    except ValidationError as exc:
        for err in exc.errors():
            loc: list[int | str] = list(err["loc"])
            if loc and loc[0] in CARD_TYPES and raw.data.get("type") == loc[0]:
                loc = loc[1:]  # the discriminator's tag is not a field
            if err["type"] == "union_tag_not_found" or err["type"] == "union_tag_invalid":
                loc = [*loc, err["ctx"]["discriminator"].strip("'")] if loc else ["type"]
            message = _message(err)
            head, sep, rest = message.partition(": ")
            if not loc and sep and head.isidentifier():
                loc, message = [head], rest  # a model-level check naming its field
            line = raw.line_at(loc)
            problems.append(Problem(raw.file.name, line, card_id, _field_path(loc), message))
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
        problems.append(Problem(raw.file.name, raw.line, card_id, "demo", f"demo registry: {exc}"))
        return False
    info = demos.get(demo["name"])
    if info is None:
        line = raw.line_at(["demo", "name"])
        known = ", ".join(sorted(demos)) or "none"
        problems.append(
            Problem(
                raw.file.name, line, card_id, "demo.name",
                f"no registered demo {demo['name']!r} (known: {known})",
            )
        )
        return False
    if not _check_choices(raw, info, problems):
        return False
    params = demo.get("params")
    if not isinstance(params, dict):
        return True
    draws = _draws(raw)
    if isinstance(draws, str):
        problems.append(Problem(raw.file.name, raw.line_at(["demo", "params"]), card_id,
                                "demo.params", draws))
        return False
    from dlprep.bank.template import fill_params, format_number

    reported: set[str] = set()  # each parameter (and the demo's rule) once, at its first draw

    def report(key: str, exc: Exception, values: dict[str, float]) -> None:
        field = "demo.params" + (f".{key}" if key else "")
        if field in reported:
            return
        reported.add(field)
        at = ", ".join(f"{k}={format_number(v)}" for k, v in values.items())
        line = raw.line_at(["demo", "params", key] if key else ["demo", "params"])
        problems.append(Problem(raw.file.name, line, card_id, field,
                                f"{exc}" + (f" (at the draw {at})" if at else "")))

    for values in draws:
        filled: dict[str, object] = {}
        for key, value in params.items():
            try:
                filled.update(fill_params({key: value}, values))
                info.coerce({key: filled[key]})
            except (ParamError, TypeError) as exc:
                report(str(key), exc, values)
        if len(filled) == len(params) and not reported:
            try:  # the whole combination, by the demo's own rule (e.g. gpu-memory's size)
                info.check_values(info.coerce(filled))
            except ParamError as exc:
                report(exc.param, exc, values)
    return not reported


def _check_choices(raw: _Raw, info: DemoInfo, problems: list[Problem]) -> bool:
    """A choice prompt graded against a word offers every word the demo declares it can
    measure there (META "measures"): at any parameters a learner sets, what it measured is
    a choice to grade against."""
    predict = raw.data["demo"].get("predict")
    if not (isinstance(predict, dict) and predict.get("kind") == "choice"
            and not predict.get("bounds") and isinstance(predict.get("measure"), str)
            and isinstance(predict.get("choices"), list)):
        return True  # not a choice among words, or malformed and reported by the model
    card_id, measure = str(raw.data.get("id") or NO_ID), predict["measure"]
    words = info.words_at(measure)
    if words is None:
        problems.append(Problem(
            raw.file.name, raw.line_at(["demo", "predict", "measure"]), card_id,
            "demo.predict.measure", f"{info.name} declares no words for {measure} (META "
            "measures), so its choices cannot be checked against what it measures"))
        return False
    keys = {c.get("en") if isinstance(c, dict) else c for c in predict["choices"]}
    missing = [w for w in words if w not in keys]
    if missing:
        problems.append(Problem(
            raw.file.name, raw.line_at(["demo", "predict", "choices"]), card_id,
            "demo.predict.choices", f"{info.name} can measure "
            f"{', '.join(map(repr, missing))} at {measure}, which no choice offers"))
        return False
    return True


MAX_DRAWS = 256  # template draws a templated demo link is checked at, each against the ranges


def _draws(raw: _Raw) -> list[dict[str, float]] | str:
    """Every draw of a templated card's variables ([{}] without a template); a message
    when there are more than :data:`MAX_DRAWS` to check."""
    from dlprep.bank.template import assignments, combinations

    template = raw.data.get("template")
    variables = template.get("vars") if isinstance(template, dict) else None
    if not isinstance(variables, dict) or not all(
            isinstance(v, list) and all(isinstance(x, int | float) for x in v)
            for v in variables.values()):
        return [{}]  # absent, or malformed and reported by the model
    uses = any(isinstance(v, str) and "{" in v for v in raw.data["demo"]["params"].values())
    if not uses:
        return [{}]
    count = combinations(variables)
    if count > MAX_DRAWS:
        return (f"the template has {count} draws, more than the {MAX_DRAWS} a templated demo "
                "link is checked at; list fewer values")
    return assignments(variables, MAX_DRAWS)


def load_paths(
    paths: Iterable[Path], *, builtin: Path | None = None, bank: Bank | None = None
) -> Bank:
    """Load ``builtin`` (if given) then ``paths``; user cards may override built-ins."""
    bank = bank or Bank()
    sources: list[tuple[Path, bool]] = []
    if builtin is not None:
        sources += [(f, True) for f in card_files(builtin)]
    seen_files = {_resolved(f) for f, _ in sources}
    for path in paths:
        for f in card_files(path):
            if _resolved(f) not in seen_files:
                seen_files.add(_resolved(f))
                sources.append((f, False))
    read = 0
    for number, (path, is_builtin) in enumerate(sources):
        problems: list[Problem] = []
        raws = _parse_file(path, problems)
        full = read + len(raws) > MAX_CARDS
        if full:  # a 50 MB bank would take minutes and gigabytes: stop with one clear line
            first, rest = raws[MAX_CARDS - read], len(sources) - number - 1
            problems.append(Problem(
                first.file.name, first.line, NO_ID, "bank",
                f"more than {MAX_CARDS} cards in the bank; this card, the rest of this file "
                f"and {rest} later file(s) were not loaded"))
            raws = raws[: MAX_CARDS - read]
        read += len(raws)
        for raw in raws:
            card = _validate(raw, problems)
            demo_ok = _check_demo(raw, problems)
            if card is not None and demo_ok:
                _add(bank, card, Origin(raw.file.name, raw.line, is_builtin))
        bank.problems.extend(sorted(problems, key=lambda p: p.line))
        if full:
            break
    return bank


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        return path.absolute()


def _add(bank: Bank, card: Card, origin: Origin) -> None:
    from dlprep.bank.lint import lint_card  # only a load lints: a cache hit needs none of it

    here = (origin.file, origin.line, card.id)
    if card.topic not in TOPICS:
        bank.problems.append(
            Problem(*here, "topic", f"{card.topic!r} is not in the topic map", "warning")
        )
    for name, message in lint_card(card):
        bank.problems.append(Problem(*here, name, message, "warning"))
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
    return load_paths(paths.user_bank_paths(extra),
                      builtin=paths.builtin_bank_dir() if builtin else None)
