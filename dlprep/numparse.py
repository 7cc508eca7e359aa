"""One parser for numbers typed on the command line (memcalc options, demo ``--set``).

``str.isdigit`` and ``float`` accept more than a person types: ``"²"`` and ``"٣"`` are digits
to Python, ``float("1" * 5000)`` is ``inf`` and ``int`` of 5,000 digits raises. Here a number
is ASCII decimal notation of bounded length: ``12``, ``-0.5``, ``1e6``, ``1_000`` or
``1,000,000`` (thousands groups of three, so ``"1,,0"`` is not ``10``), and finite.
"""

from __future__ import annotations

import math
import re

MAX_CHARS = 40  # far more than any real count or rate needs; a longer string is a mistake
_NUMBER = re.compile(
    r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+(?:_\d+)*)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?",
    re.ASCII)


def shown(text: str, limit: int = 30) -> str:
    """``text`` quoted for an error message, cut short so one line stays one line."""
    return repr(text) if len(text) <= limit else repr(text[:limit - 3]) + "..."


def parse_number(text: str) -> float:
    """A finite float from decimal notation; raises ``ValueError`` naming what is wrong."""
    raw = text.strip()
    if len(raw) > MAX_CHARS:
        raise ValueError(f"{shown(raw)} is {len(raw)} characters long; a number here has at "
                         f"most {MAX_CHARS}")
    if raw.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise ValueError(f"{shown(raw)} is not a finite number")
    if not _NUMBER.fullmatch(raw):
        raise ValueError(f"{shown(raw)} is not a decimal number")
    value = float(raw.replace(",", "").replace("_", ""))
    if not math.isfinite(value):
        raise ValueError(f"{shown(raw)} is not a finite number")
    return value


def parse_whole(text: str) -> int:
    """An integer from decimal notation (``1e3`` is 1000); raises ``ValueError``."""
    value = parse_number(text)
    if not value.is_integer():
        raise ValueError(f"{shown(text.strip())} is not a whole number")
    return int(value)
