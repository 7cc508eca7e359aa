"""Drawing helpers for the demo panel: compact numbers, axis ticks and per-layer bars.

Rich and plotext only (no Textual, no torch): the panel draws its run's stream state
(:class:`dlprep.engine.state.StreamState`) with these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.text import Text

from dlprep.study.strings import t

if TYPE_CHECKING:
    from dlprep.registry import ParamSpec

# Distinct per series: colour first, then the marker, so even 8+ runs stay apart.
COLORS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "white")
RICH_COLORS = ("cyan", "dark_orange", "green", "magenta", "blue", "red", "yellow", "white")
MARKERS = ("braille", "dot", "x", "+", "o", "*", "#", "@")
GLYPHS = ("⣿", "•", "x", "+", "o", "*", "#", "@")
BLOCKS = " ▁▂▃▄▅▆▇█"


def compact(value: float) -> str:
    """1.5e10, 3e-05 → 3e-5, 0.25, 120: short enough for an axis label."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        short = f"{value:.3g}"
        if "e" not in short:  # 1000 is "1e+03" in .3g: written 1e3 below, like the rest
            return short
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


def wants_log(values: Sequence[float]) -> bool:
    """A log axis when the finite values are positive and span more than 10x."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 10


def ticks(lo: float, hi: float, log: bool, count: int = 4) -> list[float]:
    if log:
        first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        step = max(1, math.ceil((last - first) / count))
        return [10.0 ** e for e in range(first, last + 1, step)]
    if hi == lo:
        return [lo]
    return [lo + (hi - lo) * i / count for i in range(count + 1)]


def param_range(spec: ParamSpec) -> str:
    """``1–512`` for whole numbers, ``1e-4–10``, or the choices (``none, sign, scale``)."""
    if spec.choices:
        return ", ".join(str(c) for c in spec.choices)
    if spec.min is None and spec.max is None:
        return ""
    whole = isinstance(spec.default, int) and not isinstance(spec.default, bool)

    def show(value: float | None) -> str:
        if value is None:
            return ""
        return f"{int(value)}" if whole and float(value).is_integer() else compact(value)

    return f"{show(spec.min)}–{show(spec.max)}"


def step_ticks(first: int, last: int, count: int = 5) -> list[int]:
    """Whole steps for the x axis (1, 50, 100, 150, 200 rather than 1.0, 50.8, 100.5...)."""
    if last <= first:
        return [first]
    raw = (last - first) / max(1, count - 1)
    size = 10 ** math.floor(math.log10(raw))
    step = max(1, int(next(m * size for m in (1, 2, 5, 10) if m * size >= raw)))
    marks = list(range(0, last + 1, step))
    return [first] + [m for m in marks if m - first >= step / 2]


def style_of(index: int) -> tuple[str, str, str]:
    """(plotext colour, plotext marker, Rich colour) of the ``index``-th series."""
    return (COLORS[index % len(COLORS)], MARKERS[(index // len(COLORS)) % len(MARKERS)],
            RICH_COLORS[index % len(RICH_COLORS)])


def legend(runs: Sequence[str], diverged: Mapping[str, int], lang: str) -> Text:
    """One line under the chart (never over the curves): colour, marker and name per run."""
    text = Text()
    for index, run in enumerate(runs):
        _, _, color = style_of(index)
        glyph = GLYPHS[(index // len(COLORS)) % len(GLYPHS)]
        text.append(f"{glyph}{glyph} ", style=f"bold {color}")
        text.append(run)
        if run in diverged:
            text.append(f" ✗ {t('not_finite', lang)} @{diverged[run]}", style="bold red")
        text.append("   ")
    return text


def layer_bars(layers: Mapping[str, Sequence[float]], label: str, when: str, height: int,
               lang: str, width: int | None = None) -> Group:
    """Each run's per-layer values as vertical bars, layer by layer, titled with the moment
    they show (``when``); a log scale when they span more than 10x; a non-finite value is a
    red ✗ above its layer. Within ``width`` cells, deep nets drop the gap between layers
    so every layer shows."""
    height = max(3, height)
    values = [v for vs in layers.values() for v in vs]
    finite = [v for v in values if math.isfinite(v)]
    log = wants_log(finite)
    head = t("bars_title", lang, label=label, when=when) + (f" ({t('log_scale', lang)})"
                                                      if log else "")
    title = Text(head, style="bold", no_wrap=True, overflow="ellipsis")
    text = Text(no_wrap=True)
    if not finite:
        return Group(title)
    hi = max(finite)
    lo = min(finite) if log else min(0.0, min(finite))

    def level(v: float) -> float:  # 0..1 of the bar's height
        if hi == lo:
            return 1.0
        if log:
            return (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        return (v - lo) / (hi - lo)

    runs = list(layers)
    depth = max(len(vs) for vs in layers.values())
    labels = {0: compact(hi), height - 1: compact(lo)}
    pad = max(len(s) for s in labels.values())
    gap = 1 if width is None or pad + 2 + depth * (len(runs) + 1) <= width else 0
    for row in range(height):
        text.append(labels.get(row, "").rjust(pad) + " ┤", style="dim")
        for layer in range(depth):
            for index, run in enumerate(runs):
                vs = layers[run]
                color = style_of(index)[2]
                if layer >= len(vs):
                    text.append(" ")
                    continue
                v = vs[layer]
                if not math.isfinite(v):
                    text.append("✗" if row == 0 else " ", style="bold red")
                    continue
                eighths = round(max(level(v), 0.02) * height * 8)  # a tiny value still shows
                filled = eighths - (height - 1 - row) * 8
                text.append(BLOCKS[max(0, min(8, filled))], style=color)
            text.append(" " * gap)
        text.append("\n")
    # Layer numbers under their bars, skipping any that would run into the one before.
    axis = ""
    for layer in range(depth):
        column = layer * (len(runs) + gap)
        if len(axis) < column or layer == 0:
            axis = axis.ljust(column) + str(layer + 1)
    text.append(" " * (pad + 2) + axis, style="dim")
    return Group(title, text)


def row_ticks(lo: float, hi: float, log: bool, rows: int) -> list[float]:
    """Ticks evenly spaced in value that each land on one of the plot's ``rows`` when the
    axis spans the first to the last: plotext draws a tick that falls between two rows on
    the nearer one, and drops one of two on the same row, misplacing the scale."""
    intervals = rows - 1
    if intervals < 1:
        return ticks(lo, hi, log)
    if not log:
        count = next(c for c in range(4, 0, -1) if intervals % c == 0)
        return ticks(lo, hi, False, count)
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    decades = max(1, last - first)
    if decades <= intervals:  # whole decades, the axis stretched up to one that fits
        decades = next(d for d in range(decades, intervals + 1) if intervals % d == 0)
        step = 1
    else:  # every few decades, one per interval
        step = math.ceil(decades / intervals)
        decades = step * intervals
    return [10.0 ** e for e in range(first, first + decades + 1, step)]


def plot_series(plot: Any, series: Mapping[str, Sequence[tuple[int, float]]],
                diverged: Mapping[str, int], rows: int = 0) -> None:
    """Draw one line per run on a plotext figure (``PlotextPlot.plt``), cleared first: a
    log axis when the values span more than 10x, ticks evenly spaced in value, each on a
    row of the plot's ``rows`` (when known), a red line where a run diverged."""
    plot.clear_data()
    values = [v for points in series.values() for _, v in points]
    log = wants_log(values)
    # The log axis is drawn by plotting log10 of the values on a linear axis: plotext's
    # own log scale transforms its data in place, so a second build (a resize, a
    # redraw) took the log of a log and crashed on negative numbers.

    def y_of(v: float) -> float:
        return math.log10(v) if log and math.isfinite(v) and v > 0 else v

    for index, (name, points) in enumerate(series.items()):
        color, marker, _ = style_of(index)
        if points:
            plot.plot([p[0] for p in points], [y_of(p[1]) for p in points], color=color,
                      marker=marker)
        if name in diverged:
            plot.vline(diverged[name], "red")
    plot.yscale("linear")
    steps = [p[0] for points in series.values() for p in points]
    if steps:
        at = step_ticks(min(steps), max(steps))
        plot.xticks([float(m) for m in at], [str(m) for m in at])
    finite = [v for v in values if math.isfinite(v)]
    if finite:
        low, high = min(finite), max(finite)
        marks = row_ticks(low, high, log, rows) if rows else ticks(low, high, log)
        if len(marks) > 1:  # the axis spans its ticks, or an outer one is drawn off it
            plot.ylim(y_of(marks[0]), y_of(marks[-1]))
        plot.yticks([y_of(m) for m in marks], [compact(m) for m in marks])
