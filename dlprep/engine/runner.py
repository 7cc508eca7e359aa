"""Run a demo as a stream of :class:`Step` records ending in one :class:`Result`.

A demo module (see docs/demos.md) provides ``run(p, num_steps, seed, device)``, a generator
yielding ``_kit.Log`` records and returning its key numbers, and ``verdict(numbers, lang)``.
This module adds what every consumer needs: validation before any step, device choice,
thinning, divergence bookkeeping, cancellation with partial numbers, and timing.
"""

from __future__ import annotations

import inspect
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any

from dlprep.engine.records import Event, Result, Step
from dlprep.registry import DemoInfo, ParamError, registry
from dlprep.study.strings import t

DEVICES = ("auto", "cpu", "cuda", "mps")
MAX_STEPS_PER_RUN = 200  # records forwarded per run, so a chart or a pipe is never flooded
LANGS = ("en", "ko")


class DemoError(ValueError):
    """An unknown demo, a bad parameter, or a device that is not available."""


def demo_info(name: str) -> DemoInfo:
    demos = registry()
    info = demos.get(name)
    if info is None:
        known = ", ".join(sorted(demos)) or "none installed"
        raise DemoError(f"unknown demo {name!r} (known: {known})")
    return info


def check_request(
    name: str, params: Mapping[str, object] | None, device: str, seed: int, steps: int | None,
) -> tuple[DemoInfo, dict[str, Any]]:
    """Everything that can be checked without torch; raises :class:`DemoError`."""
    info = demo_info(name)
    if device not in DEVICES:
        raise DemoError(f"unknown device {device!r} (use {', '.join(DEVICES)})")
    try:
        # Only an explicit --device cuda is held to a GPU's limits: "auto" may find no GPU.
        values = info.resolve(dict(params or {}), "cuda" if device == "cuda" else "cpu")
    except ParamError as exc:
        raise DemoError(str(exc)) from None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise DemoError(f"seed must be an integer from 0 to 2**63-1, got {seed!r}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                              or not 1 <= steps <= 1_000_000):
        raise DemoError(f"steps must be an integer from 1 to 1000000, got {steps!r}")
    if steps is not None and steps < info.min_steps:  # refused before the demo imports torch
        raise DemoError(f"{name} needs --steps {info.min_steps} or more, got {steps}")
    return info, values


def stream(
    name: str,
    *,
    params: Mapping[str, object] | None = None,
    device: str = "auto",
    seed: int = 0,
    steps: int | None = None,
    cancel: threading.Event | None = None,
    lang: str = "en",
) -> Iterator[Event]:
    """Validate the request now (raising :class:`DemoError`), then return the event stream.

    Torch is imported here, not when :mod:`dlprep.engine` is imported.
    """
    info, values = check_request(name, params, device, seed, steps)
    if lang not in LANGS:
        raise DemoError(f"unknown language {lang!r} (use en or ko)")
    from dlprep.engine.loader import load_demo, load_helper

    module = load_demo(info.path)
    kit = load_helper("_kit", info.path.parent)
    try:
        chosen = kit.pick_device(device)
    except ValueError as exc:
        raise DemoError(str(exc)) from None
    num_steps = steps if steps is not None else int(module.META.get("steps", 100))
    set_threads(module)
    from dlprep.engine.lean import defer_dynamo

    defer_dynamo()  # torch.optim's lazy torch._dynamo import costs about as much as torch's
    watch = getattr(kit, "watch_cancel", None)
    return _events(info, module, values, chosen, seed, num_steps, cancel, lang, watch)


def final_result(name: str, **request: Any) -> Result:
    """Run a demo to the end and return only its :class:`Result` (tests, scripts)."""
    *_, result = stream(name, **request)
    if not isinstance(result, Result):
        raise DemoError(f"{name}: the stream ended without a result")
    return result


def cpu_threads(module: ModuleType) -> int:
    """Intra-op threads a demo runs with (META "cpu_threads", default 1).

    The demos' networks are tiny: a second thread gains nothing, and on a busy machine
    OpenMP's spinning threads made one training step 30x slower than a single thread.
    """
    return max(1, int(module.META.get("cpu_threads", 1)))


def set_threads(module: ModuleType) -> None:
    import torch

    torch.set_num_threads(cpu_threads(module))


def _finite(value: float) -> bool:
    return math.isfinite(value)


def _events(
    info: DemoInfo, module: ModuleType, values: dict[str, Any], device: Any, seed: int,
    num_steps: int, cancel: threading.Event | None, lang: str,
    watch: Callable[[threading.Event | None], None] | None = None,
) -> Iterator[Event]:
    start = time.perf_counter()
    gen = module.run(dict(values), num_steps, seed, device)
    last: dict[str, dict[str, float]] = {}
    reached: dict[str, int] = {}
    kept: dict[str, int] = {}
    diverged: dict[str, int] = {}
    numbers: Any = None
    cancelled = False
    watched = {info.metric, "loss"}
    try:
        while True:
            if cancel is not None and cancel.is_set():
                cancelled = True
                break
            if watch is not None:  # is_log_step() turns True once cancel is set
                watch(cancel)
            try:
                entry = next(gen)
            except StopIteration as stop:
                numbers = stop.value
                break
            except KeyboardInterrupt:  # a consumer on the main thread pressed Ctrl-C
                cancelled = True
                break
            metrics = {key: float(value) for key, value in entry.metrics.items()}
            run, step, total = entry.run, entry.step, max(1, entry.total)
            last[run], reached[run] = metrics, step
            bad = run not in diverged and not all(
                _finite(metrics[key]) for key in watched if key in metrics
            )
            if bad:
                diverged[run] = step
            previous = kept.get(run)
            if (bad or previous is None or step >= total
                    or step - previous >= total / MAX_STEPS_PER_RUN):
                kept[run] = step
                progress = (entry.part + min(step, total) / total) / max(1, entry.parts)
                yield Step(step, total, run, metrics, min(1.0, max(0.0, progress)))
    finally:
        gen.close()
        if watch is not None:
            watch(None)
    seconds = time.perf_counter() - start
    if cancelled:
        yield Result(info.name, _partial_verdict(reached, last, info.metric, num_steps, lang),
                     plain({"stopped_at": reached, "last": last}), str(device), seed, seconds,
                     dict(values), cancelled=True, diverged=diverged)
        return
    numbers = plain(numbers or {})
    reported = numbers.get("diverged")
    if isinstance(reported, dict):  # the demo checks every step, the engine only logged ones
        diverged.update({str(k): int(v) for k, v in reported.items() if v is not None})
    yield Result(info.name, _verdict(module, numbers, lang), numbers, str(device), seed,
                 seconds, dict(values), diverged=diverged)


def _verdict(module: ModuleType, numbers: dict[str, Any], lang: str) -> str:
    verdict = module.verdict
    if "lang" in inspect.signature(verdict).parameters:
        return str(verdict(numbers, lang=lang))
    return str(verdict(numbers))


def _partial_verdict(reached: Mapping[str, int], last: Mapping[str, Mapping[str, float]],
                     metric: str, num_steps: int, lang: str) -> str:
    if not reached:
        return t("cancelled_none", lang)
    parts = []
    for run, step in reached.items():
        value = last[run].get(metric, last[run].get("loss"))
        shown = f"{metric} {value:.4g}" if value is not None else t("no_metric_yet", lang)
        parts.append(t("partial_run", lang, run=run, step=step, total=num_steps, shown=shown))
    return t("cancelled_partial", lang, parts="; ".join(parts))


def plain(value: Any) -> Any:
    """Numbers as plain Python (dicts, lists, floats, ints, str, bool, None)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if hasattr(value, "tolist"):  # torch tensors and numpy values
        return plain(value.tolist())
    return str(value)
