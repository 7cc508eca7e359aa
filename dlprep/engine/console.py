"""Terminal consumers of a demo stream: Rich live view, plain lines and JSON lines.

The stream runs in a worker thread so that Ctrl-C, which Python delivers to the main
thread, only sets the cancel event: the demo then stops at its next step and the partial
:class:`Result` is still printed.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from dlprep.engine.records import Event, Result, Step
from dlprep.engine.runner import plain
from dlprep.study.strings import t

COLORS = ("cyan", "magenta", "green", "orange", "blue", "red", "yellow", "gray")
INTERRUPTED = 130


def consume(events: Iterator[Event], cancel: threading.Event,
            handle: Callable[[Event], None]) -> Result | None:
    """Feed ``events`` (produced on a worker thread) to ``handle``; None if killed twice."""
    inbox: queue.Queue[Event | BaseException] = queue.Queue()

    def work() -> None:
        try:
            for event in events:
                inbox.put(event)
        except BaseException as exc:  # handed to the main thread, which re-raises it
            inbox.put(exc)

    worker = threading.Thread(target=work, name="dlprep-demo", daemon=True)
    worker.start()
    reader_gone = False
    while True:
        try:
            try:
                item = inbox.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(item, BaseException):
                raise item
            if not reader_gone:
                try:
                    handle(item)
                except BrokenPipeError:  # e.g. `| head`: stop the demo, exit quietly
                    reader_gone = True
                    _silence_stdout()
                    cancel.set()
            if isinstance(item, Result):
                worker.join(timeout=1)
                return item
        except KeyboardInterrupt:
            if cancel.is_set():
                return None  # a second Ctrl-C: stop waiting for the partial result
            cancel.set()


def _silence_stdout() -> None:
    # Later writes (and the interpreter's flush at exit) must not raise again.
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null (strict JSON has no such numbers)."""
    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def step_json(demo: str, step: Step) -> dict[str, Any]:
    return {"type": "step", "demo": demo, "run": step.run, "step": step.step,
            "total": step.total, "progress": round(step.progress, 4),
            "metrics": clean(step.metrics)}


def result_json(result: Result) -> dict[str, Any]:
    return {"type": "result", "demo": result.demo, "verdict": result.verdict,
            "numbers": clean(result.numbers), "device": result.device, "seed": result.seed,
            "seconds": round(result.seconds, 3), "params": clean(result.params),
            "cancelled": result.cancelled, "diverged": dict(result.diverged)}


class JsonPrinter:
    def __init__(self, demo: str, out: IO[str] | None = None) -> None:
        self.demo, self.out = demo, out or sys.stdout

    def __call__(self, event: Event) -> None:
        obj = result_json(event) if isinstance(event, Result) else step_json(self.demo, event)
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()


PER_LAYER = re.compile(r"/\d+$")  # "grad_norm/3": one of a per-layer series


def _shown(metrics: Mapping[str, float], limit: int = 4) -> str:
    # The first few metrics are the headline ones; per-layer lists would drown the line.
    items = [(k, v) for k, v in metrics.items() if not PER_LAYER.search(k)][:limit]
    return "  ".join(f"{k} {short(v)}" for k, v in items)


def short(value: float) -> str:
    """Four significant digits in compact notation: 2.635e4, 1.5e-7 (not 2.635e+04)."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m[1] == "-" else "") + m[2],
                  f"{value:.4g}")


class PlainPrinter:
    """About ten lines per run, then the verdict: readable in a log file or a pipe."""

    def __init__(self, header: str, out: IO[str] | None = None, lang: str = "en") -> None:
        self.out, self.lang = out or sys.stdout, lang
        self.last: dict[str, float] = {}
        print(header, file=self.out, flush=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, Result):
            print(summary(event, self.lang), file=self.out, flush=True)
            return
        tenth = event.step * 10 // max(1, event.total)
        bad = any(not math.isfinite(v) for v in event.metrics.values())
        if event.step == 1 or tenth > self.last.get(event.run, 0) or bad:
            self.last[event.run] = tenth
            print(f"{event.run:>14}  step {event.step:>5}/{event.total:<5} "
                  f"{_shown(event.metrics)}", file=self.out, flush=True)


def summary(result: Result, lang: str = "en") -> str:
    lines = []
    if result.cancelled:
        lines.append(t("interrupted", lang))
    lines.append(result.verdict)
    if result.diverged:
        where = (t("diverged_where", lang, run=run, step=step)
                 for run, step in result.diverged.items())
        lines.append(t("diverged_list", lang, where=", ".join(where)))
    lines.append(f"[{result.demo} · device {result.device} · seed {result.seed} · "
                 f"{result.seconds:.1f} s]")
    return "\n".join(lines)
