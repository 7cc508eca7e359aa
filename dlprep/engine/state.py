"""What a demo's stream has shown so far: one model, read by both views of a run.

The CLI's live view (:mod:`dlprep.engine.live`) and the quiz's demo panel
(:mod:`dlprep.tui.demo`) each feed every event to :meth:`StreamState.add` and draw from
the state: the metric's series per run, where a run diverged, each run's first and latest
step, the progress, and the result. Per-layer values stay in their step's metrics until a
view draws them (:func:`layer_values`): a step costs the reading thread one append and a
few assignments. Pure: no torch, no UI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from dlprep.engine.records import Event, Result, Step


def layer_values(metrics: Mapping[str, float], prefix: str) -> list[float]:
    """The per-layer metrics ``<prefix>1``..``<prefix>L`` in layer order."""
    found = {int(k[len(prefix):]): v for k, v in metrics.items()
             if k.startswith(prefix) and k[len(prefix):].isdigit()}
    return [float(found[i]) for i in sorted(found)]


@dataclass
class StreamState:
    metric: str = "loss"  # the quantity charted per step (falls back to "loss")
    layer_prefix: str = ""  # per-layer metrics' prefix, e.g. "grad_norm/"; "" for none
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # finite only
    diverged: dict[str, int] = field(default_factory=dict)  # run -> first inf/NaN step
    first: dict[str, Step] = field(default_factory=dict)  # each run's first step: at init
    latest: dict[str, Step] = field(default_factory=dict)
    run: str = ""
    step: int = 0
    total: int = 0
    progress: float = 0.0
    result: Result | None = None
    error: str = ""  # the stream failed: why

    @property
    def finished(self) -> bool:
        return self.result is not None or bool(self.error)

    def add(self, event: Event) -> None:
        if isinstance(event, Result):
            self.result = event
            self.diverged.update(event.diverged)
            if not event.cancelled:
                self.progress = 1.0
            return
        points = self.series.setdefault(event.run, [])
        value = event.metrics.get(self.metric, event.metrics.get("loss"))
        if value is not None:
            if math.isfinite(value):
                points.append((event.step, float(value)))
            else:
                self.diverged.setdefault(event.run, event.step)
        self.latest[event.run] = event
        self.first.setdefault(event.run, event)
        self.run, self.step, self.total = event.run, event.step, event.total
        self.progress = event.progress
