"""The predict-then-run demo panel: fake streams (no torch) and one real CPU run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from textual.widgets import Input, ProgressBar, Static

from dlprep.tui.demo import DemoScreen
from dlprep.tui.feedback import FeedbackScreen

from .conftest import fake_stream, text_of

SIZE = (100, 34)


async def _to_demo(pilot, app) -> None:
    await pilot.pause()
    await pilot.press("t")  # answer the demo card (true)
    await pilot.pause()
    assert isinstance(app.screen, FeedbackScreen)
    assert "Will lr=0.5 reach" in text_of(app.screen.query_one("#demo-offer", Static))
    await pilot.press("d")
    await pilot.pause()
    assert isinstance(app.screen, DemoScreen)


async def _until_idle(pilot, app, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while app.demo_running and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()


async def test_predict_run_tweak_and_rerun(make_app) -> None:
    calls: list[dict] = []
    app = make_app(only=("t-demo",), start=True, stream=fake_stream(calls=calls))
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        assert screen.query_one("#param-lr", Input).value == "0.5"  # the card's override
        screen.action_run()  # nothing runs before a prediction
        await pilot.press("enter")  # nor on an empty one
        assert calls == [] and screen.prediction is None
        await pilot.press(*"yes", "enter")
        await _until_idle(pilot, app)
        assert screen.query_one("#prediction", Input).disabled
        verdict = text_of(screen.query_one("#demo-verdict", Static))
        assert "lr=0.5 reached a lower loss" in verdict and "Your prediction: yes ✓" in verdict
        assert screen.query_one(ProgressBar).progress == 1.0
        assert calls == [{"name": "toy", "params": {"lr": 0.5, "num_epochs": 3}, "seed": 0}]
        screen.query_one("#param-lr", Input).value = "0.05"
        screen.query_one("#demo").focus()
        await pilot.press("r")
        await _until_idle(pilot, app)
        assert calls[-1]["params"]["lr"] == 0.05
        assert "✗" in text_of(screen.query_one("#demo-verdict", Static))
        screen.query_one("#param-lr", Input).value = "fast"
        screen.query_one("#demo").focus()
        await pilot.press("r")
        await pilot.pause()
        assert len(calls) == 2  # a bad value is reported, nothing runs
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)


async def test_escape_cancels_quickly_and_no_second_demo(make_app) -> None:
    calls: list[dict] = []
    app = make_app(only=("t-demo",), start=True, stream=fake_stream(block=True, calls=calls))
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        await pilot.press(*"no idea", "enter")
        await pilot.pause(0.1)
        assert app.demo_running
        app.screen.action_run()  # the key is disabled while running; the action refuses too
        await pilot.pause()
        assert len(calls) == 1
        started = time.monotonic()
        await pilot.press("escape")
        await _until_idle(pilot, app)
        assert time.monotonic() - started < 1.0
        assert "Demo cancelled" in text_of(app.screen.query_one("#demo-verdict", Static))
        assert isinstance(app.screen, DemoScreen)  # the first Escape only cancels


PROBE = Path(__file__).with_name("real_demo_probe.py")


def test_real_cpu_demo_and_no_torch_until_it_starts() -> None:
    result = subprocess.run([sys.executable, str(PROBE)], capture_output=True, text=True,
                            timeout=240, env=os.environ.copy())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert lines["torch_before_demo"] == "False"
    assert lines["textual_loaded"] == "True"
    assert lines["torch_after_demo"] == "True"
    assert "first layer's weight gradient" in lines["verdict"]
    assert lines["cancelled"] == "False" and float(lines["progress"]) == 1.0
