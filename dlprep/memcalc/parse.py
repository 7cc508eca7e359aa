"""Command-line numbers and widths -> values, or one ConfigError line (pure Python)."""

from __future__ import annotations

import re

from dlprep.memcalc.config import ConfigError
from dlprep.numparse import parse_number, parse_whole, shown


def parse_count(text: str, what: str) -> int:
    """``1e6``, ``1_000_000``, ``1,000,000``, ``7B``, ``350M`` -> int; else a ConfigError."""
    raw = text.strip()
    scale = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
    factor = 1
    if raw and raw[-1].lower() in scale:
        factor, raw = scale[raw[-1].lower()], raw[:-1]
    try:
        value = parse_number(raw) * factor
    except ValueError as exc:
        raise ConfigError(f"{what} must be a number like 1e6 or 350M: {exc}") from None
    if value <= 0 or value != int(value):
        raise ConfigError(f"{what} must be a positive whole number, got {text.strip()!r}")
    return int(value)


def parse_layers(text: str) -> tuple[int, ...]:
    # "784,512,10", "784 512 10" and "784x512x10" all work; an empty or non-numeric width
    # between separators ("784,x,10", "784,,10") is an error, never silently dropped.
    parts = re.split(r"\s*[,x]\s*|\s+", text.strip().lower())
    widths = [_width(p) for p in parts]
    if len(parts) < 2 or not all(widths):
        raise ConfigError("--layers must be comma-separated widths like 784,512,10, got "
                          f"{shown(text)}")
    return tuple(widths)


def parse_chw(text: str) -> tuple[int, int, int]:
    sizes = [_width(p) for p in text.lower().split("x")]
    if len(sizes) != 3 or not all(sizes):
        raise ConfigError(f"--input must be CxHxW with positive integers, e.g. 1x28x28, "
                          f"got {shown(text)}")
    c, h, w = sizes
    return c, h, w


def _width(text: str) -> int:
    """A positive whole number of plain digits, else 0 (``"²"`` and 5,000 digits are 0)."""
    if not re.fullmatch(r"\s*\d+\s*", text, re.ASCII):
        return 0
    try:
        return max(parse_whole(text), 0)
    except ValueError:
        return 0
