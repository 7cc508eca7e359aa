"""The quiz tests' fixed bank, demo registry and clock (never the real, growing bank)."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

import dlprep.registry
from dlprep.bank.loader import Bank, load_paths
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.store import Store, open_store

HERE = Path(__file__).resolve().parent
BANK_DIR = HERE / "bank"
DEMOS_DIR = HERE / "demos"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def fake_registry() -> dict[str, dlprep.registry.DemoInfo]:
    return dlprep.registry.scan(DEMOS_DIR)


def load_test_bank() -> Bank:
    bank = load_paths([BANK_DIR], builtin=None)
    assert not bank.problems, bank.problems
    return bank


@pytest.fixture(autouse=True)
def _test_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlprep.registry, "registry", fake_registry)


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    # An Input's cursor blinks every 0.5 s: on a loaded machine a snapshot could catch it
    # either way. In tests it stays as it is drawn first (visible).
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch):
    # Times are shown in the learner's zone; tests and snapshots pin it to UTC.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def bank() -> Bank:
    return load_test_bank()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def scheduler(clock: ManualClock) -> Scheduler:
    return Scheduler(clock, fuzz=False)


@pytest.fixture
def store() -> Store:
    s = open_store()
    yield s
    s.close()


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


def fake_stream(steps: int = 6, *, block: bool = False, calls: list[dict] | None = None,
                started: threading.Event | None = None):
    """A demo stream without torch: two runs of a shrinking loss with per-layer gradient
    norms (layer 1 smallest, spanning >10x), then a Result whose ``effect`` is lr > 0.1.

    With ``block`` it waits for the cancel event after the first step (a demo that is
    still running when the learner presses Escape); ``started`` is set at the first step.
    """
    from dlprep.engine.records import Result, Step

    def stream(name: str, *, params=None, device="auto", seed=0, steps_=None, cancel=None,
               lang="en", **_: object):
        if calls is not None:
            calls.append({"name": name, "params": dict(params or {}), "seed": seed})
        lr = float((params or {}).get("lr", 0.1))
        for part, run in enumerate(("lr=0.1", f"lr={lr:g}")):
            rate = 0.1 if part == 0 else lr
            for step in range(1, steps + 1):
                if cancel is not None and cancel.is_set():
                    yield Result(name, "stopped early", {"stopped_at": step}, "cpu", seed, 0.1,
                                 dict(params or {}), cancelled=True)
                    return
                loss = 1.0 / (1.0 + rate * step)
                norms = {f"grad_norm/{i}": rate * 10.0 ** (i - 3) for i in (1, 2, 3)}
                yield Step(step, steps, run, {"loss": loss, **norms}, (part + step / steps) / 2)
                if started is not None:
                    started.set()
                if block and cancel is not None:
                    cancel.wait(30)
        final = {"lr=0.1": 1.0 / (1.0 + 0.1 * steps), f"lr={lr:g}": 1.0 / (1.0 + lr * steps)}
        ranking = sorted(final, key=final.__getitem__)  # lowest loss first
        numbers = {"effect": lr > 0.1, "final_loss": final[f"lr={lr:g}"], "ranking": ranking,
                   "last": ranking[-1]}
        yield Result(name, f"lr={lr:g} reached a lower loss than lr=0.1", numbers,
                     "cpu", seed, 0.5, dict(params or {}))

    return stream


@pytest.fixture
def make_app(bank: Bank, clock: ManualClock):
    """Build the app on the fixed bank, clock and seed; ``only`` keeps just those cards."""
    from dlprep.study.plan import Spec
    from dlprep.tui.app import build_app

    def make(*, only: tuple[str, ...] = (), spec: Spec | None = None, start: bool = False,
             lang: str = "en", stream=None, store: Store | None = None,
             warm=lambda: None):
        chosen = bank
        if only:
            chosen = Bank(cards={cid: bank.cards[cid] for cid in only})
        return build_app(bank=chosen, store=store or open_store(), spec=spec, lang=lang,
                         start=start, clock=clock, rng=random.Random(5),
                         stream=stream or fake_stream(), demos=fake_registry, fuzz=False,
                         warm=warm)

    return make


async def open_panel(pilot, app):
    """Answer the demo card (true) and open its demo panel; the panel."""
    from dlprep.tui.demo import DemoScreen

    await pilot.pause()
    await pilot.press("t", "d")
    await pilot.pause()
    assert isinstance(app.screen, DemoScreen)
    return app.screen


async def until_finished(pilot, screen, limit: float = 30.0) -> None:
    """Until the demo panel's run has its result (or failed) and the panel drew it."""
    deadline = time.monotonic() + limit  # bounds a hang only, never a speed
    while screen.run is None or not screen.run.finished:
        assert time.monotonic() < deadline
        await pilot.pause(0.02)
    await pilot.pause()


def text_of(widget) -> str:
    """The plain text a Static shows, whether it holds markup, Text or a Rich table."""
    from rich.console import Console
    from rich.text import Text

    content = widget.content
    if isinstance(content, str):
        return Text.from_markup(content).plain
    console = Console(width=120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()
