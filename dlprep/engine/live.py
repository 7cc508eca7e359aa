"""The Rich live view of `dlprep demo NAME`: claim, metric chart, per-layer bars, table, verdict.

Everything is sized to the terminal: at 80x24 the claim and the whole verdict stay on
screen, and the chart, the bars and the table take what is left, in that order of
sacrifice (the chart first). Values that span more than 10x are drawn on a log scale with
compact labels (1.5e10); a run whose metric turned inf/NaN is marked, not dropped.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dlprep.engine.console import COLORS, _shown, summary
from dlprep.engine.records import Event, Result
from dlprep.engine.state import BarSet, StreamState, moment
from dlprep.study.strings import t

BLOCKS = " ▁▂▃▄▅▆▇█"
LOG_SPAN = 10.0  # a series spanning more than this factor is drawn on a log scale


def compact(value: float) -> str:
    """A short label: 1.5e10, 0.003, 42, inf, nan."""
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = f"{value:.2g}"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m[1] == "-" else "") + m[2], text)


def _style(index: int) -> str:
    return COLORS[index % len(COLORS)].replace("orange", "dark_orange")


def chart(series: Mapping[str, list[tuple[int, float]]], metric: str, width: int,
          height: int, diverged: Mapping[str, int] | None = None) -> Text:
    """A plotext line chart of ``metric`` per step, one line per run, log scale when the
    values span more than 10x, compact y labels, an ✗ where a run diverged."""
    import plotext as plt

    plt.clf()
    plt.plotsize(max(30, width), max(6, height))
    plt.theme("clear")
    values = [v for points in series.values() for _, v in points]
    log = bool(values) and min(values) > 0 and max(values) / min(values) > LOG_SPAN
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)
    for index, (run, points) in enumerate(series.items()):
        label = run + (f" ✗{diverged[run]}" if diverged and run in diverged else "")
        if points:
            plt.plot([x for x, _ in points], [scale(v) for _, v in points], label=label,
                     color=COLORS[index % len(COLORS)], marker="braille")
        if diverged and run in diverged and values:  # where it blew up, at the top edge
            plt.scatter([diverged[run]], [scale(max(values))], marker="✗", color="red")
    if values:
        low, high = scale(min(values)), scale(max(values))
        ticks = [low + (high - low) * k / 3 for k in range(4)] if high > low else [low]
        plt.yticks(ticks, [compact(10 ** tick if log else tick) for tick in ticks])
    plt.title(f"{metric} per step" + (" (log scale)" if log else ""))
    return Text.from_ansi(plt.build())


def bars(runs: list[BarSet], label: str, width: int, height: int, lang: str = "en",
         at_init: bool = False) -> Text:
    """One vertical bar per layer for each run, side by side on one shared scale, titled
    with the moment they show (``at_init``: the demo's first record is the nets at init)."""
    finite = [abs(v) for _, _, vs in runs for v in vs if math.isfinite(v)]
    positive = [v for v in finite if v > 0]
    log = bool(positive) and max(positive) / min(positive) > LOG_SPAN
    top = max(finite, default=0.0)
    floor = min(positive, default=1.0)
    rows = max(2, height - 2)

    def fill(v: float) -> float:  # 0..1 of the bar's height
        if not math.isfinite(v) or top <= 0:
            return 0.0
        if log:
            return 0.0 if v <= 0 else (math.log10(abs(v) / floor) + 0.3) / (
                math.log10(top / floor) + 0.3)
        return abs(v) / top

    when = moment(runs, lang, at_init)
    scale = t("scale_log" if log else "scale_linear", lang)
    out = Text(f"{label} · {when} · {scale}, "
               f"{compact(floor if log else 0)}..{compact(top)}\n", style="bold")
    grid = [Text() for _ in range(rows)]
    names = Text()
    for index, (run, step, values) in enumerate(runs):
        cell = 2 if 2 * len(values) + 1 <= width // max(1, len(runs)) else 1
        for v in values:
            level = fill(v) * rows * 8
            for r in range(rows):
                if not math.isfinite(v):  # inf/NaN: a red column, not an empty one
                    char, style = ("!" if r == 0 else "│"), "bold red"
                elif v == 0 and r == rows - 1:  # a zero is shown, not left blank
                    char, style = "·", _style(index)
                else:
                    eighths = int(min(8, max(0, level - (rows - 1 - r) * 8)))
                    char, style = BLOCKS[eighths], _style(index)
                grid[r].append(char * cell, style)
        # The name may run wider than its bars, up to this run's share of the width.
        tag = f"{run}@{step.step}"
        block = max(cell * len(values), min(len(tag), width // max(1, len(runs)) - 2))
        for r in range(rows):
            grid[r].append(" " * (block - cell * len(values) + 2))
        names.append(tag[:block].ljust(block + 2), _style(index))
    for line in grid:
        out.append_text(line)
        out.append("\n")
    out.append_text(names)
    return out


class LiveView:
    """Call it with each event inside ``with view.live:``; it redraws at most ~6 times a second."""

    def __init__(self, name: str, claim: str, metric: str, console: Console | None = None,
                 lang: str = "en", layers: Mapping[str, str] | None = None) -> None:
        from rich.live import Live

        self.name, self.claim, self.metric, self.lang = name, claim, metric, lang
        self.layers = dict(layers or {})
        self.console = console or Console()
        # the series, divergences and per-run steps, shared with the quiz's demo panel
        self.state = StreamState.of(metric, self.layers)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TaskProgressColumn(), TimeElapsedColumn(), console=self.console)
        self.task = self.progress.add_task(name, total=1.0)
        self.drawn = 0.0
        self.live = Live(self.render(), console=self.console, refresh_per_second=6,
                         transient=False, vertical_overflow="crop")

    @property
    def result(self) -> Result | None:
        return self.state.result

    def __call__(self, event: Event) -> None:
        self.state.add(event)
        if isinstance(event, Result):
            self.progress.update(self.task, completed=1.0 if not event.cancelled else None)
            self.live.update(self.render(), refresh=True)
            return
        self.progress.update(self.task, completed=event.progress,
                             description=f"{self.name} · {event.run}")
        now = time.monotonic()
        if now - self.drawn > 0.15:
            self.drawn = now
            self.live.update(self.render())

    def _lines(self, renderable: RenderableType, width: int) -> int:
        return len(self.console.render_lines(renderable, self.console.options.update(
            width=width), pad=False))

    def _table(self, limit: int) -> Table:
        table = Table(box=None, pad_edge=False, show_header=True, padding=(0, 1))
        table.add_column(t("col_run", self.lang))
        table.add_column(t("col_step", self.lang), justify="right")
        table.add_column(t("col_metrics", self.lang))
        latest = self.state.latest
        shown = list(latest.items())[-limit:]
        offset = len(latest) - len(shown)
        for index, (run, step) in enumerate(shown, offset):
            at = self.state.diverged.get(run)
            metrics = Text(_shown(step.metrics))
            if at is not None:
                mark = f"✗ {t('diverged_at', self.lang, at=at)}  "
                metrics = Text(mark, style="bold red") + metrics
            table.add_row(Text(run, style=_style(index)), f"{step.step}/{step.total}", metrics)
        return table

    def _bars(self, width: int, height: int) -> Text | None:
        prefix = self.layers.get("prefix")
        if not prefix or height < 4:
            return None
        # While it runs, each run's latest record; once over, the one its verdict speaks of.
        runs = self.state.bar_sets()
        if not runs:
            return None
        per_run = max(max(2 * len(r[2]), len(r[0]) + 4) + 2 for r in runs)
        runs = runs[-max(1, width // per_run):]  # the most recent runs that fit
        label = self.layers.get("label_ko" if self.lang == "ko" else "label") or prefix
        return bars(runs, label, width, height, self.lang, self.state.bars_at_init)

    def render(self) -> RenderableType:
        width, height = self.console.width, self.console.height
        claim = Text.assemble((self.name, "bold"), "  ", self.claim)
        bottom: list[RenderableType] = [self.progress]
        if self.result is not None:
            style = "yellow" if self.result.cancelled else "green"
            bottom.append(Panel(Text(summary(self.result, self.lang)), border_style=style,
                                title=t("live_verdict", self.lang)))
        below = sum(self._lines(part, width) for part in bottom)
        if self._lines(claim, width) + below > height - 2:  # the verdict needs the room
            claim.truncate(width * 2 - 1, overflow="ellipsis")
        top: list[RenderableType] = [claim]
        used = self._lines(claim, width) + below
        room = max(0, height - used - 2)  # the cursor line under the live area
        middle: list[RenderableType] = []
        # The per-layer bars are the phenomenon: they get room before the table and chart.
        drawn = self._bars(width, min(8, max(5, room - 12))) if room >= 5 else None
        if drawn is not None:
            middle.append(drawn)
            room -= self._lines(drawn, width)
        for limit in range(len(self.state.latest), 0, -1):  # as many runs as fit, latest last
            table = self._table(limit)
            lines = self._lines(table, width)
            if lines <= room:
                middle.append(table)
                room -= lines
                break
        if self.state.series and room >= 6:
            middle.insert(0, chart(self.state.series, self.metric, width - 2, min(16, room),
                                   self.state.diverged))
        return Group(*top, *middle, *bottom)
