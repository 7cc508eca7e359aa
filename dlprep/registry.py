"""The demo registry, read from the demo files' ``META`` literals without importing them.

Each module in ``demos/`` starts with a literal dictionary::

    META = {
        "name": "vanishing-gradient",           # CLI name
        "claim": "Sigmoid gradients shrink ...",  # one sentence, English
        "claim_ko": "시그모이드 ...",               # the same claim in Korean
        "cpu_seconds": 3,                       # typical default run on a 2-core CPU
        "metric": "loss",                       # main metric a chart shows
        "params": {
            "depth": {"default": 10, "help": "hidden layers", "min": 2, "max": 40},
            "activation": {"default": "sigmoid", "choices": ["sigmoid", "tanh"],
                           "help": "hidden activation"},
        },
    }

Reading it with :func:`ast.literal_eval` keeps ``dlprep bank validate`` and the quiz
free of torch until a demo actually runs.

A rule across parameters (gpu-memory: these layers at this batch fit in 2 GB) is named by
META ``"check": "_helper.function"``: a function in a torch-free ``demos/_*.py`` helper,
called as ``function(values, device)`` with ``device`` "cpu" or "cuda", that raises
``ValueError`` with one line for a combination the demo cannot run. :meth:`DemoInfo.resolve`
calls it, so bank validation, ``--set``, the TUI's parameter fields and the run itself all
apply the same rule before torch is imported.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from dlprep.numparse import parse_number, parse_whole, shown
from dlprep.paths import demos_dir

ParamValue = bool | int | float | str


class RegistryError(ValueError):
    """A demo file whose META is missing or malformed."""


class ParamError(ValueError):
    """An unknown demo parameter or a value it does not accept; ``param`` names the one
    parameter at fault ("" for a rule across parameters)."""

    def __init__(self, message: str, param: str = "") -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: ParamValue
    help: str = ""
    choices: tuple[ParamValue, ...] = ()
    min: float | None = None
    max: float | None = None

    def coerce(self, value: object) -> ParamValue:
        """Convert ``value`` (a CLI string or a YAML scalar) to this parameter's type."""
        kind = type(self.default)
        try:
            out = _convert(kind, value)
        except (TypeError, ValueError) as exc:
            got = shown(value) if isinstance(value, str) else repr(value)
            if "finite" in str(exc):
                raise ParamError(f"{self.name}: must be a finite number, got {got}",
                                 self.name) from None
            raise ParamError(f"{self.name}: expected {kind.__name__}, got {got}",
                             self.name) from None
        if self.choices and out not in self.choices:
            options = ", ".join(map(str, self.choices))
            raise ParamError(f"{self.name}: {out!r} is not one of {options}", self.name)
        if isinstance(out, int | float) and not isinstance(out, bool):
            if not math.isfinite(out):
                raise ParamError(f"{self.name}: must be a finite number, got {value!r}",
                                 self.name)
            if self.min is not None and out < self.min:
                raise ParamError(f"{self.name}: {out} is below the minimum {self.min:g}",
                                 self.name)
            if self.max is not None and out > self.max:
                raise ParamError(f"{self.name}: {out} is above the maximum {self.max:g}",
                                 self.name)
        return out


def _convert(kind: type, value: object) -> ParamValue:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ValueError(value)
    if kind is int:
        if isinstance(value, bool):
            raise TypeError(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(value)
            return int(value)
        if isinstance(value, int):
            return value
        return parse_whole(str(value))  # accepts 1e3 for counts; not "٣" or 5,000 digits
    if kind is float:
        if isinstance(value, bool):
            raise TypeError(value)
        if isinstance(value, int | float):
            return float(value)
        return parse_number(str(value))
    if isinstance(value, bool | int | float):
        raise TypeError(value)
    return str(value)


@dataclass(frozen=True)
class DemoInfo:
    name: str
    path: Path
    claim: str
    claim_ko: str
    cpu_seconds: float
    metric: str
    params: dict[str, ParamSpec] = field(default_factory=dict)
    # The --set overrides that remove the demo's cause (its control experiment).
    control: dict[str, ParamValue] = field(default_factory=dict)
    # Per-layer quantity the claim is about: {"prefix": "grad_norm/", "label": ...,
    # "label_ko": ..., "verdict": "init"}; metrics "<prefix>1".."<prefix>L" are drawn as
    # one bar per layer; a finished run shows its last record's bars, or its first's (the
    # nets at init) where "verdict" is "init".
    layers: dict[str, str] = field(default_factory=dict)
    # META "check": "_helper.function", the demo's torch-free rule across its parameters
    check: str = ""
    # META "measures": {"runs.*.outcome": ["converged", ...]}, every word a string in the
    # numbers can be at a path ("*" is any one part): a choice prompt must offer them all
    measures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # META "min_steps": the fewest --steps the demo can run (gpu-memory sizes step 2)
    min_steps: int = 1

    def defaults(self) -> dict[str, ParamValue]:
        return {name: spec.default for name, spec in self.params.items()}

    def coerce(self, overrides: dict[str, object]) -> dict[str, ParamValue]:
        """Defaults updated by ``overrides``, each checked on its own (type, choices, range)."""
        values = self.defaults()
        for key, raw in overrides.items():
            spec = self.params.get(key)
            if spec is None:
                known = ", ".join(self.params) or "none"
                raise ParamError(f"{self.name} has no parameter {key!r} (known: {known})", key)
            values[key] = spec.coerce(raw)
        return values

    def words_at(self, path: str) -> tuple[str, ...] | None:
        """The words META "measures" declares at the dotted ``path``; None if undeclared."""
        parts = path.split(".")
        for pattern, words in self.measures.items():
            want = pattern.split(".")
            if len(want) == len(parts) and all(w in ("*", p) for w, p in zip(want, parts,
                                                                              strict=True)):
                return words
        return None

    def check_values(self, values: dict[str, ParamValue], device: str = "cpu") -> None:
        """The META "check" rule on a whole combination; ``device`` "cuda" allows what only
        a GPU runs in time, anything else is held to the CPU's limits."""
        if not self.check:
            return
        rule = _check_function(self.path.parent, self.check)  # RegistryError if missing
        try:
            rule(dict(values), device)
        except ValueError as exc:
            raise ParamError(f"{self.name}: {exc}") from None

    def resolve(self, overrides: dict[str, object], device: str = "cpu") -> dict[str, ParamValue]:
        """Defaults updated by validated ``overrides``, the combination checked by the demo's
        rule; raises :class:`ParamError`."""
        values = self.coerce(overrides)
        self.check_values(values, device)
        return values


@cache
def _check_function(directory: Path, check: str) -> Any:
    """The function META "check" names, from its helper file (loaded by path, like a demo's
    own ``from _helper import ...``); it must not import torch."""
    from dlprep.engine.loader import load_helper

    module, _, function = check.partition(".")
    try:
        return getattr(load_helper(module, directory), function)
    except (ImportError, AttributeError) as exc:
        raise RegistryError(f"META check {check!r}: {exc}") from None


def _read_meta(path: Path) -> dict[str, Any] | None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "META"
        ):
            try:
                meta = ast.literal_eval(node.value)
            except ValueError as exc:
                raise RegistryError(f"{path.name}: META must be a literal ({exc})") from None
            if not isinstance(meta, dict):
                raise RegistryError(f"{path.name}: META must be a dict")
            return meta
    return None


def _info(path: Path, meta: dict[str, Any]) -> DemoInfo:
    try:
        params = {
            key: ParamSpec(
                name=key,
                default=spec["default"],
                help=spec.get("help", ""),
                choices=tuple(spec.get("choices", ())),
                min=spec.get("min"),
                max=spec.get("max"),
            )
            for key, spec in meta.get("params", {}).items()
        }
        return DemoInfo(
            name=meta["name"],
            path=path,
            claim=meta["claim"],
            claim_ko=meta.get("claim_ko", meta["claim"]),
            cpu_seconds=float(meta.get("cpu_seconds", 0)),
            metric=meta.get("metric", "loss"),
            params=params,
            control=dict(meta.get("control", {})),
            layers=dict(meta.get("layers", {})),
            check=_check_name(path, meta.get("check", "")),
            measures=_measures(path, meta.get("measures", {})),
            min_steps=_min_steps(path, meta.get("min_steps", 1)),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise RegistryError(f"{path.name}: malformed META ({exc!r})") from None


def _check_name(path: Path, check: object) -> str:
    module, _, function = str(check).partition(".")
    if check and not (isinstance(check, str) and module.startswith("_")
                      and module.removeprefix("_").isidentifier() and function.isidentifier()
                      and (path.parent / f"{module}.py").is_file()):
        raise RegistryError(f"{path.name}: META check must name a function in a demos/_*.py "
                            f"helper beside it, like \"_helper.function\", got {check!r}")
    return str(check)


def _measures(path: Path, measures: object) -> dict[str, tuple[str, ...]]:
    if not (isinstance(measures, dict) and all(
            isinstance(k, str) and isinstance(v, list) and v and all(isinstance(w, str) for w in v)
            for k, v in measures.items())):
        raise RegistryError(f"{path.name}: META measures must map a dotted path to a list of "
                            f"the words found there, got {measures!r}")
    return {k: tuple(v) for k, v in measures.items()}


def _min_steps(path: Path, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RegistryError(f"{path.name}: META min_steps must be a whole number of at least "
                            f"1, got {value!r}")
    return value


def _check_control(info: DemoInfo) -> None:
    try:
        info.resolve(dict(info.control))
    except ParamError as exc:
        raise RegistryError(f"{info.path.name}: META control: {exc}") from None


def scan(directory: Path) -> dict[str, DemoInfo]:
    """All demos in ``directory`` keyed by CLI name; files without META are helpers."""
    demos: dict[str, DemoInfo] = {}
    if not directory.is_dir():
        return demos
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        meta = _read_meta(path)
        if meta is None:
            continue
        info = _info(path, meta)
        _check_control(info)
        if info.layers.get("verdict", "init") != "init":  # the one moment a demo can mark
            raise RegistryError(f"{path.name}: META layers: verdict must be 'init' (or left "
                                f"out for the last record), not {info.layers['verdict']!r}")
        if info.name in demos:
            raise RegistryError(f"{path.name}: demo name {info.name!r} is used twice")
        demos[info.name] = info
    return demos


@cache
def registry() -> dict[str, DemoInfo]:
    """The registered demos shipped with dlprep."""
    return scan(demos_dir())
