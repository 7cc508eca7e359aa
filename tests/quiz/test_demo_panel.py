"""The predict-then-run demo panel: fake streams (no torch) and one real CPU run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from textual.widgets import Input, ProgressBar, Static

from dlprep.tui.demo import DemoScreen
from dlprep.tui.feedback import FeedbackScreen

from .conftest import fake_stream, text_of

SIZE = (100, 34)


async def _to_demo(pilot, app, offer: str = "Will lr=0.5 reach") -> None:
    await pilot.pause()
    await pilot.press("t")  # answer the demo card (true)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, FeedbackScreen)
    assert offer in text_of(screen.query_one("#demo-offer", Static))
    # the result is held back so the learner can predict first
    assert not screen.revealed and "Right" not in text_of(screen.query_one("#verdict-line"))
    await pilot.press("d")
    await pilot.pause()
    assert isinstance(app.screen, DemoScreen)


async def _until_idle(pilot, run, limit: float = 30.0) -> None:
    """Until ``run`` (a panel's DemoRun) has its result or failed, and the panel drew it."""
    deadline = time.monotonic() + limit  # generous: it only bounds a hang, never a speed
    while not run.finished and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()
    assert run.finished


def _screen_text(screen) -> str:
    return " ".join(text_of(w) for w in screen.query(Static))


async def test_predict_run_tweak_and_rerun(make_app) -> None:
    calls: list[dict] = []
    app = make_app(only=("t-demo",), start=True, stream=fake_stream(calls=calls))
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        assert screen.query_one("#param-lr", Input).value == "0.5"  # the card's override
        assert "higher learning rate" not in _screen_text(screen)  # the claim is hidden
        screen.action_run()  # nothing runs before a prediction
        await pilot.press("enter")  # nor on an empty one
        assert calls == [] and screen.prediction is None
        await pilot.press(*"yes", "enter")
        await _until_idle(pilot, app.screen.run)
        assert screen.query_one("#prediction", Input).disabled
        verdict = text_of(screen.query_one("#demo-verdict", Static))
        assert "lr=0.5 reached a lower loss" in verdict
        assert "Claim: A higher learning rate" in verdict  # shown once the run has ended
        assert verdict.startswith("you: yes · measured: yes ✓\n")  # the grade comes first
        assert screen.query_one(ProgressBar).progress == 1.0
        assert calls == [{"name": "toy", "params": {"lr": 0.5, "num_epochs": 3}, "seed": 0}]
        screen.query_one("#param-lr", Input).value = "0.05"
        screen.query_one("#verdict-box").focus()
        await pilot.press("r")
        await _until_idle(pilot, app.screen.run)
        assert calls[-1]["params"]["lr"] == 0.05
        verdict = text_of(screen.query_one("#demo-verdict", Static))
        assert verdict.startswith("you: yes · measured: no ✗\n")
        screen.query_one("#param-lr", Input).value = "fast"
        screen.query_one("#verdict-box").focus()
        await pilot.press("r")
        await pilot.pause()
        assert len(calls) == 2  # a bad value is reported, nothing runs
        said: list[str] = []
        screen.notify = lambda message, **kwargs: said.append(str(message))
        screen.query_one("#param-lr", Input).value = "10"  # each in its range, but the
        screen.query_one("#param-num_epochs", Input).value = "50"  # toy's META check ...
        await pilot.press("r")
        await pilot.pause()
        assert len(calls) == 2 and said == [  # ... refuses the pair: one line, no run
            "toy: lr 10 for 50 epochs diverges: keep lr x num_epochs at most 100"]
        await pilot.press("escape")
        await pilot.pause()
        feedback = app.screen
        assert isinstance(feedback, FeedbackScreen) and feedback.revealed  # now the answer
        assert "✓ Right" in text_of(feedback.query_one("#verdict-line", Static))



async def test_an_unreadable_prediction_is_asked_again_and_never_graded(make_app) -> None:
    calls: list[dict] = []
    app = make_app(only=("t-demo",), start=True, stream=fake_stream(calls=calls))
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        assert screen.query_one("#prediction", Input).placeholder.startswith("y or n")
        await pilot.press(*"loss halves", "enter")
        await pilot.pause()
        field = screen.query_one("#prediction", Input)
        assert calls == [] and screen.prediction is None and not field.disabled
        assert field.value == "" and field.has_focus
        assert text_of(screen.query_one("#demo-verdict", Static)) == "Type y or n"
        await pilot.press("n", "enter")
        await _until_idle(pilot, app.screen.run)
        verdict = text_of(screen.query_one("#demo-verdict", Static))
        assert len(calls) == 1 and verdict.startswith("you: no · measured: yes ✗")


async def test_panel_shows_param_help_range_and_per_layer_bars(make_app) -> None:
    app = make_app(only=("t-demo",), start=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        label = text_of(screen.query(".param-name").first())
        assert label == "lr 1e-4–10"  # the range on the label; the meaning on focus
        await pilot.press("tab")
        await pilot.pause()
        help_line = text_of(screen.query_one("#param-help", Static))
        assert help_line.startswith("lr (1e-4–10): ") and "learning rate" in help_line
        await pilot.press("shift+tab")
        await pilot.pause()
        assert "Tab: to the parameters" in text_of(screen.query_one("#param-help"))
        await pilot.press("y", "enter")
        await _until_idle(pilot, app.screen.run)
        bars = text_of(screen.query_one("#layers", Static))
        # per-layer norms span 100x: log scale, compact labels, one column per layer
        assert "gradient norm per layer, latest (log)" in bars
        assert "0.001 ┤" in bars and "0.5 ┤" in bars and "1  2  3" in bars
        legend = text_of(screen.query_one("#legend", Static))
        assert "lr=0.1" in legend and "lr=0.5" in legend
        # at 80x24 the verdict and the chart are on screen without scrolling
        for widget_id in ("#demo-verdict", "#chart"):
            region = screen.query_one(widget_id).region
            assert region.height > 0 and region.bottom <= 23, (widget_id, region)


async def test_demo_card_feedback_warms_torch_in_the_background(make_app) -> None:
    warmed = threading.Event()
    app = make_app(only=("t-demo",), start=True, warm=warmed.set)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not warmed.is_set()
        await pilot.press("t")
        await pilot.pause()
        assert warmed.wait(30)


async def test_escape_cancels_and_no_second_demo(make_app) -> None:
    calls: list[dict] = []
    started = threading.Event()
    app = make_app(only=("t-demo",), start=True,
                   stream=fake_stream(block=True, calls=calls, started=started))
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        await pilot.press("n", "enter")
        assert started.wait(30)
        assert app.screen.running
        # the panel owns the worker that reads the stream (no app-level relay)
        assert [w.node for w in app.workers if w.group == "demo"] == [app.screen]
        app.screen.action_run()  # the key is disabled while running; the action refuses too
        await pilot.pause()
        assert len(calls) == 1
        await pilot.press("escape")
        await _until_idle(pilot, app.screen.run)
        assert "Demo cancelled" in text_of(app.screen.query_one("#demo-verdict", Static))
        assert isinstance(app.screen, DemoScreen)  # the first Escape only cancels
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen)


async def test_closing_the_panel_while_running_cancels_the_demo(make_app) -> None:
    started = threading.Event()
    app = make_app(only=("t-demo",), start=True, stream=fake_stream(block=True, started=started))
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        await pilot.press("y", "enter")
        assert started.wait(30)
        run = app.screen.run
        app.screen.dismiss(None)  # e.g. the app navigated away
        await pilot.pause()
        assert run is not None and run.cancel.is_set()
        await _until_idle(pilot, run)


PROBE = Path(__file__).with_name("real_demo_probe.py")


def test_real_cpu_demo_and_no_torch_until_it_starts() -> None:
    result = subprocess.run([sys.executable, str(PROBE)], capture_output=True, text=True,
                            timeout=240, env=os.environ.copy())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert lines["torch_on_first_card"] == "False"
    assert lines["textual_loaded"] == "True"
    assert lines["torch_after_demo"] == "True"
    assert "first layer's weight gradient" in lines["verdict"]
    assert lines["cancelled"] == "False" and float(lines["progress"]) == 1.0


async def test_a_log_scale_chart_survives_resizes_and_redraws(make_app) -> None:
    """plotext's own log scale rewrote its data in place, so a second build took the log of
    a log and the app crashed on the first resize after a run spanning more than 10x."""
    from textual_plotext import PlotextPlot

    app = make_app(only=("t-demo",), start=True, stream=fake_stream())
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        screen.query_one("#param-lr", Input).value = "9"  # loss falls from 0.91 to 0.018
        await pilot.press("y", "enter")
        await _until_idle(pilot, app.screen.run)
        for size in ((80, 24), (120, 40), SIZE, (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            screen._draw(screen.run)
            await pilot.pause()
            chart = str(screen.query_one(PlotextPlot).render())
            # every tick label sits on the axis ("0.01┤"), none above or below the frame
            for label in ("0.01", "0.1", "1"):
                assert f"{label}┤" in chart, (size, label, chart)
        assert app.is_running


async def test_a_card_without_a_question_just_runs_its_demo(make_app, bank) -> None:
    import dataclasses

    card = bank.cards["t-demo"]
    bank.cards["t-demo"] = dataclasses.replace(
        card, demo=dataclasses.replace(card.demo, predict=None))
    app = make_app(only=("t-demo",), start=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DemoScreen) and screen.sub_title == "▶ toy"
        title = text_of(screen.query_one("#demo-title", Static))
        assert title == "What does this demo show? Run it and see."
        assert screen.query_one("#prediction", Input).placeholder == "Enter runs the demo"
        await pilot.press("enter")  # nothing to predict, nothing graded
        await _until_idle(pilot, app.screen.run)
        verdict = text_of(screen.query_one("#demo-verdict", Static))
        assert verdict.startswith("Claim: A higher") and "you:" not in verdict


async def test_a_long_question_is_shown_whole_at_80x24(make_app, bank) -> None:
    import dataclasses

    from dlprep.bank.cards import PredictYesNo

    question = ("In the unclipped run, will the activation-gradient norms of the hidden "
                "layers be largest at the first hidden layer or at the last one, after the "
                "first step?")
    card = bank.cards["t-demo"]
    bank.cards["t-demo"] = dataclasses.replace(card, demo=dataclasses.replace(
        card.demo, predict=PredictYesNo(en=question, ko=question, kind="yesno")))
    app = make_app(only=("t-demo",), start=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_demo(pilot, app, question[:20])
        rows = ["".join(seg.text for seg in strip)
                for strip in app.screen._compositor.render_strips()]
        assert "after the" in " ".join(rows[1:4]) and "first step?" in " ".join(rows[1:4])
        await pilot.press("y", "enter")
        await _until_idle(pilot, app.screen.run)
        for widget_id in ("#demo-verdict", "#chart", "#legend"):
            region = app.screen.query_one(widget_id).region
            assert region.height > 0 and region.bottom <= 23, (widget_id, region)


async def test_the_panel_runs_its_demo_on_its_own_worker_and_posts_to_itself(make_app) -> None:
    app = make_app(only=("t-demo",), start=True, stream=fake_stream(steps=6))
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        news: list[tuple[str, object]] = []
        original = screen.show_run

        def spy(run, what):  # type: ignore[no-untyped-def]
            news.append((what, run))
            original(run, what)

        screen.show_run = spy  # type: ignore[method-assign]
        await pilot.press("y", "enter")
        run = screen.run
        await _until_idle(pilot, run)
        assert news[0][0] == "progress" and news[-1][0] == "finished"
        assert all(r is run for _, r in news) and "failed" not in [w for w, _ in news]
        state = run.state  # the same stream state the CLI's live view draws
        assert list(state.series) == ["lr=0.1", "lr=0.5"] and len(state.series["lr=0.5"]) == 6
        assert state.progress == 1.0 and state.layers["lr=0.5"][0] < state.layers["lr=0.5"][2]
        assert state.result is not None and state.result.numbers["effect"] is True


async def test_a_failing_demo_says_why_and_the_app_keeps_running(make_app) -> None:
    def broken(name: str, **_: object):
        raise RuntimeError("no such device")

    app = make_app(only=("t-demo",), start=True, stream=broken)
    async with app.run_test(size=SIZE) as pilot:
        await _to_demo(pilot, app)
        await pilot.press("y", "enter")
        await _until_idle(pilot, app.screen.run)
        verdict = text_of(app.screen.query_one("#demo-verdict", Static))
        assert verdict == "Demo failed: RuntimeError: no such device"
        assert app.screen.check_action("run", ())  # it may be run again


async def test_y_ticks_sit_on_rows_evenly_spaced_in_value_at_every_size(make_app) -> None:
    """plotext puts a tick that falls between two rows on the nearer one: with five ticks on
    four rows the labels read 0.709, 0.398, 0.243, 0.0871 from row to row. Only ticks that
    land on a row are labelled, so the labels keep one scale."""
    import re

    from textual_plotext import PlotextPlot

    app = make_app(only=("t-demo",), start=True, stream=fake_stream())
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        await pilot.press("y", "enter")
        await _until_idle(pilot, screen.run)
        for size in ((80, 24), (80, 27), (100, 30), (120, 40)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            screen._draw(screen.run)
            await pilot.pause()
            chart = str(screen.query_one(PlotextPlot).render()).splitlines()
            marks = [(row, float(m[1])) for row, line in enumerate(chart)
                     if (m := re.match(r"^\s*([0-9.e-]+)┤", line))]
            assert len(marks) >= 2, (size, chart)
            per_row = [(b - a) / (r - q)
                       for (q, a), (r, b) in zip(marks, marks[1:], strict=False)]
            assert max(per_row) - min(per_row) <= 0.02 * abs(per_row[0]), (size, marks)


async def test_parameter_labels_and_values_are_not_cut_at_80x24(make_app) -> None:
    app = make_app(only=("t-demo",), start=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_demo(pilot, app)
        screen = app.screen
        for label in screen.query(".param-name"):
            assert label.region.width >= len(text_of(label)), text_of(label)
        for field in screen.query(".param Input"):
            assert field.region.width > len(field.value), field.id
        assert text_of(screen.query(".param-name").last()) == "num_epochs 1–50"
