"""What a demo's stream has shown so far: one model, read by both views of a run.

The CLI's live view (:mod:`dlprep.engine.live`) and the quiz's demo panel
(:mod:`dlprep.tui.demo`) each feed every event to :meth:`StreamState.add` and draw from
the state: the metric's series per run, where a run diverged, each run's first and latest
step, the progress, and the result. Per-layer values stay in their step's metrics until a
view draws them (:meth:`StreamState.bar_sets`): a step costs the reading thread one append
and a few assignments. Every bar set drawn is labelled with the moment it shows
(:func:`moment`), and once the run is over it is the set the verdict speaks of. Pure: no
torch, no UI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from dlprep.engine.records import Event, Result, Step
from dlprep.study.strings import t

BarSet = tuple[str, Step, list[float]]  # a run, the record its bars come from, per layer


def layer_values(metrics: Mapping[str, float], prefix: str) -> list[float]:
    """The per-layer metrics ``<prefix>1``..``<prefix>L`` in layer order."""
    found = {int(k[len(prefix):]): v for k, v in metrics.items()
             if k.startswith(prefix) and k[len(prefix):].isdigit()}
    return [float(found[i]) for i in sorted(found)]


@dataclass
class StreamState:
    metric: str = "loss"  # the quantity charted per step (falls back to "loss")
    layer_prefix: str = ""  # per-layer metrics' prefix, e.g. "grad_norm/"; "" for none
    # The demo's verdict speaks of the bars at init (META layers "verdict": "init"): its
    # first record, measured before any update. Otherwise the verdict's are the last.
    bars_at_init: bool = False
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

    @classmethod
    def of(cls, metric: str, layers: Mapping[str, str]) -> StreamState:
        """The state for a demo with this metric and META ``layers``."""
        return cls(metric, layers.get("prefix", ""), layers.get("verdict") == "init")

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

    def bar_sets(self) -> list[BarSet]:
        """Each run's per-layer values and the record they come from: while the stream runs,
        the latest; once it is over, the record the verdict speaks of (the first for a demo
        whose verdict speaks of the nets at init, else the last)."""
        if not self.layer_prefix:
            return []
        source = self.first if self.finished and self.bars_at_init else self.latest
        sets = [(run, step, layer_values(step.metrics, self.layer_prefix))
                for run, step in source.items()]
        return [bar_set for bar_set in sets if bar_set[2]]


def moment(sets: list[BarSet], lang: str, at_init: bool = False) -> str:
    """The moment a bar set shows: "at init (step 1)" (only for a demo that measures its first
    record before any update and says so), "at step 40", "at the end (step 300)", or the
    range of steps when the runs' records differ."""
    steps = {step.step for _, step, _ in sets}
    if not steps:
        return ""
    if at_init and steps == {1}:
        return t("bars_at_init", lang)
    if len(steps) > 1:
        return t("bars_at_steps", lang, first=min(steps), last=max(steps))
    (step,) = steps
    ends = all(record.step == record.total for _, record, _ in sets)
    return t("bars_at_end" if ends else "bars_at_step", lang, step=step)
