"""Messages between widgets, screens and the demo worker thread (dataclasses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # the engine package is only needed once a demo runs
    from dlprep.engine.records import Result


@dataclass
class Answered(Message):
    """An answer widget finished: ``given`` is what grading expects for the card type."""

    given: Any


@dataclass
class DemoProgress(Message):
    """The chart's data so far. Each carries the whole series, so a newer one may replace a
    pending older one without losing points (a fast demo cannot flood the UI)."""

    series: Mapping[str, Sequence[tuple[int, float]]] = field(default_factory=dict)
    progress: float = 0.0
    run: str = ""
    step: int = 0
    total: int = 0

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DemoProgress)


@dataclass
class DemoFinished(Message):
    result: Result


@dataclass
class DemoFailed(Message):
    error: str
