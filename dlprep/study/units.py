"""Parse a typed numeric answer with its unit (``4 MB``, ``3.8 MiB``, ``407K params``).

A card's ``unit`` picks a family (bytes, counts, FLOPs, time, or the unit's own words);
the answer may use any unit of that family and is converted to the card's unit before
the tolerance check. Case, spacing, plurals and thousands separators are forgiven.
"""

from __future__ import annotations

import math
import re

from dlprep.record import record
from dlprep.study.strings import Note

_BYTES = {
    "b": 1.0, "byte": 1.0, "bytes": 1.0, "바이트": 1.0,
    "kb": 1e3, "kilobyte": 1e3, "kilobytes": 1e3,
    "mb": 1e6, "megabyte": 1e6, "megabytes": 1e6,
    "gb": 1e9, "gigabyte": 1e9, "gigabytes": 1e9,
    "tb": 1e12, "terabyte": 1e12, "terabytes": 1e12,
    "pb": 1e15,
    "kib": 2.0**10, "kibibyte": 2.0**10, "kibibytes": 2.0**10,
    "mib": 2.0**20, "mebibyte": 2.0**20, "mebibytes": 2.0**20,
    "gib": 2.0**30, "gibibyte": 2.0**30, "gibibytes": 2.0**30,
    "tib": 2.0**40, "tebibyte": 2.0**40, "tebibytes": 2.0**40,
    "pib": 2.0**50,
}
_FLOPS = {
    "flop": 1.0, "flops": 1.0, "kflop": 1e3, "kflops": 1e3, "mflop": 1e6, "mflops": 1e6,
    "gflop": 1e9, "gflops": 1e9, "tflop": 1e12, "tflops": 1e12, "pflop": 1e15, "pflops": 1e15,
}
_TIME = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0, "초": 1.0,
    "ms": 1e-3, "msec": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "microsecond": 1e-6, "microseconds": 1e-6,
    "ns": 1e-9, "nanosecond": 1e-9, "nanoseconds": 1e-9,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0, "분": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0, "시간": 3600.0,
}
_PARAMS = {
    "param": 1.0, "params": 1.0, "parameter": 1.0, "parameters": 1.0,
    "weight": 1.0, "weights": 1.0, "파라미터": 1.0, "매개변수": 1.0, "개": 1.0,
}
_PERCENT = {"%": 1.0, "percent": 1.0, "pct": 1.0, "퍼센트": 1.0}
FAMILIES: dict[str, dict[str, float]] = {
    "bytes": _BYTES, "flops": _FLOPS, "time": _TIME, "params": _PARAMS, "percent": _PERCENT,
}
# Count multipliers written before a unit word or alone: "7B params", "4M", "1.2 million".
_SCALES = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "g": 1e9,
    "billion": 1e9, "t": 1e12, "trillion": 1e12, "만": 1e4, "억": 1e8,
}
# Families where a bare scale letter would be ambiguous with the unit itself ("4 B" = bytes).
_NO_SCALE = {"bytes", "flops", "time", "percent"}

_NUMBER = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d[\d_]*)(?:\.\d*)?(?:[eE][+-]?\d+)?"
    r"|[+-]?\.\d+(?:[eE][+-]?\d+)?)(?P<pow>\s*(?:[x×*]\s*10\s*(?:\^|\*\*)\s*[+-]?\d+))?"
    r"\s*(?P<rest>.*?)\s*\.?\s*$"
)
_POW = re.compile(r"(?:\^|\*\*)\s*([+-]?\d+)")


class UnitError(ValueError):
    """An answer that is not a number, or has a unit that does not fit the card."""

    def __init__(self, note: Note) -> None:
        super().__init__(note.text("en"))
        self.note = note


@record
class Family:
    """Units of one quantity (bytes, time...) and how many base units each is."""

    name: str
    aliases: dict[str, float]

    def factor(self, unit: str) -> float | None:
        """How many base units one ``unit`` is, or None when the family lacks it."""
        key = _norm(unit)
        if key in self.aliases:
            return self.aliases[key]
        if self.name in _NO_SCALE:
            return None
        for scale, mult in _SCALES.items():
            if key.startswith(scale):
                tail = key[len(scale):].strip()
                if tail == "" or tail in self.aliases:
                    return mult * self.aliases.get(tail, 1.0)
        return None


def _norm(unit: str) -> str:
    return " ".join(unit.strip().lower().split())


def family_of(unit: str) -> Family:
    """The family of a card's unit; unknown units form their own (``"tokens"``, ``"x"``)."""
    key = _norm(unit)
    for name, aliases in FAMILIES.items():
        if key in aliases:
            return Family(name, aliases)
    if key == "":
        return Family("number", {"": 1.0})
    own = {key: 1.0, key.rstrip("s"): 1.0, key + "s": 1.0, "": 1.0}
    return Family(f"unit:{key}", own)


def parse_quantity(text: str, unit: str) -> float:
    """``text`` expressed in the card's ``unit``; raises :class:`UnitError`."""
    match = _NUMBER.match(text.replace("\u00a0", " "))
    if match is None:
        raise UnitError(Note("note_not_number", (("text", repr(text.strip())),)))
    number = float(match.group("num").replace(",", "").replace("_", ""))
    if match.group("pow"):
        power = _POW.search(match.group("pow"))
        assert power is not None  # the regex above guarantees it
        digits = power.group(1).lstrip("+-")
        # 10**400 overflows a float and 10**(5,000 digits) is no answer anyone types
        exponent = int(power.group(1)) if len(digits) <= 4 else 10**6
        number = float(f"{number!r}e{exponent}")  # inf or 0.0 past a float's range
    if not math.isfinite(number):  # 1e400, 1 x 10^400: no quantity a card asks for
        raise UnitError(Note("note_not_number", (("text", repr(text.strip())),)))
    rest = match.group("rest")
    family = family_of(unit)
    target = family.factor(unit)
    assert target is not None  # a card's own unit always belongs to its family
    if rest == "":
        return number
    given = family.factor(rest)
    if given is None:
        raise UnitError(_mismatch(rest, unit))
    return number * given / target


def _mismatch(rest: str, unit: str) -> Note:
    expected: str | Note = unit or Note("plain_number")
    for name, aliases in FAMILIES.items():
        if _norm(rest) in aliases:
            family = Note(f"family_{name}")
            return Note("note_other_family",
                        (("unit", repr(rest)), ("family", family), ("expected", expected)))
    return Note("note_unknown_unit", (("unit", repr(rest)), ("expected", expected)))
