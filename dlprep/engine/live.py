"""The Rich live view of `dlprep demo NAME`: a chart of the demo's metric, a table, a bar."""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dlprep.engine.console import COLORS, _shown, summary
from dlprep.engine.records import Event, Result


def chart(series: dict[str, tuple[list[float], list[float]]], metric: str, width: int,
          height: int) -> Text:
    """A plotext line chart of ``metric`` against the step, one coloured line per run."""
    import plotext as plt

    plt.clf()
    plt.plotsize(max(30, width), max(8, height))
    plt.theme("clear")
    values = [v for _, ys in series.values() for v in ys]
    for index, (run, (xs, ys)) in enumerate(series.items()):
        if xs:
            plt.plot(xs, ys, label=run, color=COLORS[index % len(COLORS)], marker="braille")
    # Exploding losses span many decades: a log axis keeps the small ones visible.
    if values and min(values) > 0 and max(values) / min(values) > 100:
        plt.yscale("log")
    plt.title(f"{metric} per step")
    return Text.from_ansi(plt.build())


class LiveView:
    """Call it with each event inside ``with view.live:``; it redraws at most ~6 times a second."""

    def __init__(self, name: str, claim: str, metric: str, console: Console | None = None,
                 lang: str = "en") -> None:
        from rich.live import Live

        self.name, self.claim, self.metric, self.lang = name, claim, metric, lang
        self.console = console or Console()
        self.series: dict[str, tuple[list[float], list[float]]] = {}
        self.latest: dict[str, Any] = {}
        self.result: Result | None = None
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TaskProgressColumn(), TimeElapsedColumn(), console=self.console)
        self.task = self.progress.add_task(name, total=1.0)
        self.drawn = 0.0
        self.live = Live(self.render(), console=self.console, refresh_per_second=6,
                         transient=False)

    def __call__(self, event: Event) -> None:
        if isinstance(event, Result):
            self.result = event
            self.progress.update(self.task, completed=1.0 if not event.cancelled else None)
            self.live.update(self.render(), refresh=True)
            return
        xs, ys = self.series.setdefault(event.run, ([], []))
        value = event.metrics.get(self.metric, event.metrics.get("loss"))
        if value is not None and math.isfinite(value):
            xs.append(event.step)
            ys.append(value)
        self.latest[event.run] = event
        self.progress.update(self.task, completed=event.progress,
                             description=f"{self.name} · {event.run}")
        now = time.monotonic()
        if now - self.drawn > 0.15:
            self.drawn = now
            self.live.update(self.render())

    def render(self) -> RenderableType:
        width = self.console.width
        parts: list[RenderableType] = [Text.assemble((self.name, "bold"), "  ", self.claim)]
        if self.series:
            parts.append(chart(self.series, self.metric, width - 2,
                               min(16, max(8, self.console.height - 12))))
        if self.latest:
            table = Table(box=None, pad_edge=False, show_header=True)
            table.add_column("run")
            table.add_column("step", justify="right")
            table.add_column("metrics")
            for index, (run, step) in enumerate(self.latest.items()):
                table.add_row(Text(run, style=COLORS[index % len(COLORS)].replace("orange",
                                                                                 "dark_orange")),
                              f"{step.step}/{step.total}", _shown(step.metrics))
            parts.append(table)
        parts.append(self.progress)
        if self.result is not None:
            style = "yellow" if self.result.cancelled else "green"
            parts.append(Panel(Text(summary(self.result, self.lang)), border_style=style,
                               title="verdict" if self.lang == "en" else "판정"))
        return Group(*parts)
