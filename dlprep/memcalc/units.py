"""Byte counts for people: ``human(1536)`` is ``1.5 KiB`` (pure Python; every report and
the GPU search use it, so it sits below all of them)."""

from __future__ import annotations


def human(n: int | None, digits: int = 3) -> str:
    if n is None:
        return "?"
    size = float(n)
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
    top = 10**digits - 0.5
    for unit in units:
        # From 999.5 on, 3 digits would print "1e+03": the next unit reads better.
        if abs(size) < (1024 if unit == "B" else top) or unit == units[-1]:
            return f"{n} B" if unit == "B" else f"{size:.{digits}g} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
