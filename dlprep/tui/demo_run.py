"""The running demo's state, filled by the app's worker thread and drawn by the demo panel.

The worker appends points here and posts a :class:`DemoProgress` at most every
``POST_EVERY`` seconds (the first step at once); the panel draws from this state, so the
number of redraws does not grow with the number of steps, and nothing is rebuilt per record.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlprep.engine.records import Event, Result
    from dlprep.registry import DemoInfo

POST_EVERY = 0.25  # seconds between progress messages from the worker


@dataclass
class DemoRun:
    info: DemoInfo
    params: dict[str, object]
    cancel: threading.Event = field(default_factory=threading.Event)
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    diverged: dict[str, int] = field(default_factory=dict)  # run -> first non-finite step
    layers: dict[str, list[float]] = field(default_factory=dict)  # run -> latest per layer
    run: str = ""
    step: int = 0
    total: int = 0
    progress: float = 0.0
    result: Result | None = None
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.result is not None or bool(self.error)

    def add(self, run: str, step: int, total: int, metrics: Mapping[str, float],
            progress: float) -> None:
        """One step record (worker thread)."""
        value = metrics.get(self.info.metric, metrics.get("loss"))
        if value is not None:
            if math.isfinite(value):
                self.series.setdefault(run, []).append((step, float(value)))
            else:
                self.diverged.setdefault(run, step)
                self.series.setdefault(run, [])
        prefix = self.info.layers.get("prefix")
        if prefix:
            values = []
            for index in range(1, 1000):
                got = metrics.get(f"{prefix}{index}")
                if got is None:
                    break
                values.append(float(got))
            if values:
                self.layers[run] = values
        self.run, self.step, self.total, self.progress = run, step, total, progress

    def consume(self, events: Iterator[Event], post: Callable[[str, Any], None],
                clock: Callable[[], float] = time.monotonic) -> None:
        """Read the stream to its Result; ``post(kind, payload)`` tells the UI thread."""
        from dlprep.engine.records import Result, Step

        posted = -math.inf
        for event in events:
            if isinstance(event, Step):
                self.add(event.run, event.step, event.total, event.metrics, event.progress)
                now = clock()
                if now - posted >= POST_EVERY:
                    posted = now
                    post("progress", None)
            elif isinstance(event, Result):
                self.result = event
                post("finished", event)
                return
        self.error = "the demo ended without a result"
        post("failed", self.error)
