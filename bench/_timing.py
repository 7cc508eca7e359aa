"""Small shared helpers for the bench scripts: medians of wall time, in one process."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall seconds of ``fn()`` over ``repeat`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def command_time(args: Sequence[str], repeat: int = 15) -> float:
    """Median wall seconds of running a command to completion."""
    return best_of(lambda: subprocess.run(list(args), capture_output=True, check=True), repeat)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
