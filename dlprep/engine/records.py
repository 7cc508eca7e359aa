"""What a running demo streams to its consumers (CLI live view, TUI worker, --json).

Pure dataclasses: importing them never imports torch, so the TUI and tests can build a
fake stream without it. A stream is zero or more :class:`Step` records followed by
exactly one :class:`Result`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Step:
    step: int  # 1-based step within this run
    total: int  # planned steps of this run
    run: str  # which configuration, e.g. "sigmoid" or "relu+he"
    metrics: Mapping[str, float]  # e.g. {"loss": 0.69, "acc": 0.51, "grad_norm/1": 3e-5}
    progress: float = 0.0  # 0..1 over the whole demo (all runs)


@dataclass(frozen=True, slots=True)
class Result:
    demo: str
    verdict: str  # computed from ``numbers``, never a canned sentence
    numbers: Mapping[str, Any]  # the key measurements, JSON-serialisable
    device: str
    seed: int
    seconds: float
    params: Mapping[str, Any] = field(default_factory=dict)
    cancelled: bool = False
    diverged: Mapping[str, int] = field(default_factory=dict)  # run -> step of first inf/NaN


Event = Step | Result
