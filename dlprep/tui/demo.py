"""Predict-then-run: the learner predicts, then a real demo streams into a live chart.

The demo runs in a thread worker; records arrive as messages (progress messages replace
pending ones, so a fast demo cannot flood the UI). Escape sets the cancel event, which the
engine checks every step. Parameters can be edited and the demo re-run.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Input, Label, ProgressBar, Static
from textual_plotext import PlotextPlot

from dlprep.bank.cards import Card
from dlprep.engine.records import Result, Step
from dlprep.registry import DemoInfo, ParamError
from dlprep.study.grading import parse_bool
from dlprep.study.strings import t
from dlprep.tui.base import QuizScreen
from dlprep.tui.messages import DemoFailed, DemoFinished, DemoProgress


class DemoScreen(QuizScreen):
    BINDINGS = [
        Binding("r", "run", "Run / re-run"),
        Binding("escape", "cancel_or_back", "Cancel / back"),
    ]

    def __init__(self, card: Card) -> None:
        super().__init__()
        assert card.demo is not None
        self.card = card
        self.link = card.demo
        self.info: DemoInfo | None = self.quiz_demos().get(self.link.name)
        self.prediction: str | None = None  # free text: predict prompts are open questions
        self.cancel: threading.Event | None = None
        self.result: Result | None = None

    def quiz_demos(self) -> Mapping[str, DemoInfo]:
        return self.quiz.demos()

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Header()
        with VerticalScroll(id="demo"):
            claim = ""
            if self.info is not None:
                claim = self.info.claim_ko if lang == "ko" else self.info.claim
            yield Static(f"[b]{t('demo', lang)}: {self.link.name}[/b]\n{claim}", id="demo-title")
            prompt = self.link.predict.get(lang) if self.link.predict else claim
            yield Static(prompt, id="predict")
            yield Input(placeholder=t("predict_prompt", lang), id="prediction")
            if self.info is not None and self.info.params:
                yield Label(t("params", lang))
                values = self._defaults()
                with Horizontal(id="params"):
                    for name, spec in self.info.params.items():
                        with Vertical(classes="param"):
                            yield Label(name, classes="param-name")
                            yield Input(str(values.get(name, spec.default)), id=f"param-{name}",
                                        tooltip=spec.help or None)
            # Verdict above the chart so it is on screen at 80x24 without scrolling.
            yield ProgressBar(total=1.0, show_eta=False, id="demo-progress")
            yield Static("", id="demo-verdict")
            yield PlotextPlot(id="chart")
        yield Footer()

    def _defaults(self) -> dict[str, object]:
        assert self.info is not None
        try:
            return dict(self.info.resolve(dict(self.link.params)))
        except ParamError:
            return dict(self.info.defaults())

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t("demo", self.lang)
        self.query_one("#prediction").focus()
        plot = self.query_one(PlotextPlot).plt
        metric = self.info.metric if self.info else "loss"
        plot.title(metric)
        plot.xlabel("step")
        if self.info is None:
            self._verdict(t("demo_failed", self.lang, error=f"unknown demo {self.link.name!r}"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        running = self.quiz.demo_running
        if action == "run":
            return self.prediction is not None and not running and self.info is not None
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id != "prediction":
            self.action_run()  # Enter in a parameter field re-runs with the new values
            return
        text = event.value.strip()
        if not text or self.prediction is not None:
            return
        self.prediction = text
        event.input.disabled = True  # the prediction is locked in before the demo speaks
        self.query_one("#demo").focus()
        self.action_run()

    def action_run(self) -> None:
        if self.info is None or self.prediction is None:
            return
        if self.quiz.demo_running:
            self.notify(t("demo_busy", self.lang), severity="warning")
            return
        overrides: dict[str, object] = {name: self.query_one(f"#param-{name}", Input).value
                     for name in self.info.params}
        try:
            params = self.info.resolve(overrides)
        except ParamError as exc:
            self.notify(str(exc), severity="error")
            return
        self.quiz.demo_running = True
        self.cancel = threading.Event()
        self.result = None
        self.query_one(ProgressBar).update(progress=0.0)
        self._verdict(t("demo_running", self.lang, name=self.info.name))
        self.refresh_bindings()
        self._stream(dict(params), self.cancel)

    @work(thread=True, exclusive=True, group="demo")
    def _stream(self, params: dict[str, object], cancel: threading.Event) -> None:
        assert self.info is not None
        metric = self.info.metric
        series: dict[str, list[tuple[int, float]]] = {}
        try:
            events = self.quiz.stream(self.info.name, params=params, device="auto",
                                      seed=self.quiz.demo_seed, cancel=cancel, lang=self.lang)
            for event in events:
                if isinstance(event, Step):
                    value = event.metrics.get(metric, event.metrics.get("loss"))
                    if value is not None:
                        series.setdefault(event.run, []).append((event.step, float(value)))
                    snapshot = {run: tuple(points) for run, points in series.items()}
                    self.post_message(DemoProgress(snapshot, event.progress, event.run,
                                                   event.step, event.total))
                elif isinstance(event, Result):
                    self.post_message(DemoFinished(event))
                    return
            self.post_message(DemoFailed("the demo ended without a result"))
        except Exception as exc:  # shown to the learner; the app must keep running
            self.post_message(DemoFailed(f"{type(exc).__name__}: {exc}"))

    def on_demo_progress(self, message: DemoProgress) -> None:
        widget = self.query_one(PlotextPlot)
        plot = widget.plt
        plot.clear_data()
        for run, points in message.series.items():
            if points:
                plot.plot([p[0] for p in points], [p[1] for p in points], label=run)
        widget.refresh()
        self.query_one(ProgressBar).update(progress=message.progress)
        if self.info is not None and message.total:
            self._verdict(t("demo_step", self.lang, name=self.info.name, run=message.run,
                            step=message.step, total=message.total))

    def on_demo_finished(self, message: DemoFinished) -> None:
        self._done()
        result = message.result
        self.result = result
        lang = self.lang
        if not result.cancelled:
            self.query_one(ProgressBar).update(progress=1.0)
        head = t("demo_cancelled", lang) if result.cancelled else t("verdict", lang)
        lines = [f"[b]{head}[/b] ({result.device}, {result.seconds:.1f}s): {result.verdict}",
                 f"{t('predict', lang)}: {escape(self.prediction or '')}"]
        # A demo that reports whether its claim held lets a yes/no prediction be scored.
        holds = result.numbers.get("holds")
        said = parse_bool(self.prediction or "")
        if isinstance(holds, bool) and said is not None and not result.cancelled:
            lines[-1] += " ✓" if holds == said else " ✗"
        self._verdict("\n".join(lines))

    def on_demo_failed(self, message: DemoFailed) -> None:
        self._done()
        self._verdict(t("demo_failed", self.lang, error=message.error))

    def _done(self) -> None:
        self.quiz.demo_running = False
        self.cancel = None
        self.refresh_bindings()

    def _verdict(self, text: str) -> None:
        self.query_one("#demo-verdict", Static).update(text)

    def action_cancel_or_back(self) -> None:
        if self.cancel is not None:
            self.cancel.set()  # the engine stops at its next step; the Result says cancelled
            return
        self.quiz.pop_screen()

    def on_unmount(self) -> None:
        if self.cancel is not None:
            self.cancel.set()
            self.quiz.demo_running = False
