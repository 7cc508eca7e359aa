"""Predict-then-run: the learner predicts, then a real demo streams into a live chart.

The claim stays hidden until the run ends (it would give the answer away); afterwards the
prediction is graded against what was measured (:mod:`dlprep.study.predict`). The panel
runs its demo on its own thread worker, which feeds the run's stream state
(:class:`dlprep.engine.state.StreamState`, the one the CLI's live view draws too) and posts
:class:`DemoNews` to this panel; Escape cancels, a second Escape goes back. The chart is
redrawn at most every ``DRAW_EVERY`` seconds, whatever the step rate.
"""

from __future__ import annotations

import time
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Input, Label, ProgressBar, Static
from textual_plotext import PlotextPlot

from dlprep.bank.cards import Card
from dlprep.bank.template import fill, fill_params
from dlprep.engine.state import moment
from dlprep.registry import DemoInfo, ParamError
from dlprep.study.grading import Unreadable
from dlprep.study.predict import Reading, feedback, hint, judge, options, read
from dlprep.study.strings import t
from dlprep.tui.base import QuizScreen
from dlprep.tui.charts import layer_bars, legend, param_range, plot_series
from dlprep.tui.demo_run import DemoRun, News
from dlprep.tui.messages import DemoNews
from dlprep.tui.titlebar import TitleBar

DRAW_EVERY = 1.0  # seconds between chart rebuilds while a demo runs


class Chart(PlotextPlot):
    """The run's chart. Its ticks are placed for its rows, so it tells the panel when its
    size changes (a resize, or the verdict taking its room) and the panel redraws it."""

    class Resized(Message):
        pass

    def on_resize(self, _: events.Resize) -> None:
        self.post_message(self.Resized())


class DemoScreen(QuizScreen):
    CSS_PATH = "demo.tcss"
    BINDINGS = [
        Binding("r", "run", "Run / re-run"),
        Binding("escape", "cancel_or_back", "Cancel / back"),
    ]

    def __init__(self, card: Card, info: DemoInfo | None,
                 values: dict[str, float] | None = None) -> None:
        super().__init__()
        assert card.demo is not None
        self.card = card
        self.link = card.demo
        self.info = info
        self.values = values or {}  # the card's template draw: the demo runs the same numbers
        self.params = fill_params(self.link.params, self.values)
        self.prediction: str | None = None
        self.reading: Reading | None = None
        self.run: DemoRun | None = None
        self.drawn = 0.0
        self.drawn_rows = 0  # the plot rows the chart was last built for

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield TitleBar()
        with Vertical(id="demo"):  # nothing scrolls off: verdict and chart stay on screen
            # The demo's name is in the header: the question gets the room (up to 3 lines).
            yield Static(self._question(), id="demo-title")
            choices = options(self.link.predict, lang) if self.link.predict else []
            if choices:
                yield Static(escape("   ".join(choices)), id="demo-choices")
            yield Input(placeholder=self._placeholder(), id="prediction", compact=True)
            if self.info is not None and self.info.params:
                values = self._defaults()
                # Two to a row, label beside its value: neither is cut at 80 columns.
                with Grid(id="params"):
                    for name, spec in self.info.params.items():
                        with Horizontal(classes="param"):
                            yield Label(self._param_label(name), classes="param-name")
                            yield Input(str(values.get(name, spec.default)), id=f"param-{name}",
                                        compact=True, tooltip=spec.help or None)
                # The focused field's meaning, range or choices in full.
                yield Static(t("params_hint", lang), id="param-help")
            yield ProgressBar(total=1.0, show_eta=False, id="demo-progress")
            with VerticalScroll(id="verdict-box"):
                yield Static(t("claim_hidden", lang), id="demo-verdict")
            with Horizontal(id="charts"):
                yield Chart(id="chart")
                if self.info is not None and self.info.layers.get("prefix"):
                    yield Static("", id="layers")
            yield Static("", id="legend")
        yield Footer()

    def _question(self) -> str:
        predict = self.link.predict
        if predict is None:  # nothing to predict: the demo just runs
            return f"[b]{escape(t('predict_no_question', self.lang))}[/b]"
        return f"[b]{escape(fill(predict.get(self.lang), self.values))}[/b]"

    def _placeholder(self) -> str:
        if self.link.predict is None:
            return t("predict_none", self.lang)
        return hint(self.link.predict, self.lang)

    def _bounds(self, name: str) -> str:
        assert self.info is not None
        return param_range(self.info.params[name])

    def _param_label(self, name: str) -> str:
        assert self.info is not None
        # a numeric range is short; a list of choices shows on focus, in the help line
        bounds = "" if self.info.params[name].choices else self._bounds(name)
        return f"[b]{escape(name)}[/b]" + (f" [dim]{escape(bounds)}[/dim]" if bounds else "")

    def _param_help(self, name: str) -> str:
        assert self.info is not None
        spec = self.info.params[name]
        bounds = self._bounds(name)
        head = f"[b]{escape(name)}[/b]" + (f" ({escape(bounds)})" if bounds else "")
        return f"{head}: {escape(spec.help)}" if spec.help else head

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        widget_id = event.widget.id or ""
        if self.info is None or not self.info.params:
            return
        text = (self._param_help(widget_id.removeprefix("param-"))
                if widget_id.startswith("param-") else t("params_hint", self.lang))
        self.query_one("#param-help", Static).update(text)

    def _defaults(self) -> dict[str, object]:
        assert self.info is not None
        try:
            return dict(self.info.resolve(dict(self.params)))
        except ParamError:
            return dict(self.info.defaults())

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = f"▶ {self.link.name}"  # short: the header is cut at 80 columns
        self.query_one("#prediction").focus()
        # the title names the x axis too: a row of "step" under it cost the legend its line
        self.query_one(PlotextPlot).plt.title(
            t("per_step", self.lang, metric=self.info.metric if self.info else "loss"))
        if self.info is None:
            self._verdict(t("demo_failed", self.lang, error=f"unknown demo {self.link.name!r}"))

    @property
    def running(self) -> bool:
        return self.run is not None and not self.run.finished

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return self.prediction is not None and not self.running and self.info is not None
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id != "prediction":
            self.action_run()  # Enter in a parameter field re-runs with the new values
            return
        text = event.value.strip()
        if self.prediction is not None or (not text and self.link.predict is not None):
            return
        if self.link.predict is not None:
            try:
                self.reading = read(self.link.predict, text, self.lang)
            except Unreadable as exc:  # asked again, never graded
                event.input.value = ""
                self._verdict(escape(exc.ask_again(self.lang)))
                return
        self.prediction = text
        event.input.disabled = True  # the prediction is locked in before the demo speaks
        event.input.display = False  # the verdict repeats it; the room goes to the chart
        self.query_one("#verdict-box").focus()
        # No refresh of the footer's keys: "run" was hidden without a prediction and stays
        # hidden while the demo runs (the focus move rebuilds the footer once already).
        self._start()

    def action_run(self) -> None:
        if self._start():
            self.refresh_bindings()  # "run" is hidden while the demo runs

    def _start(self) -> bool:
        """Run the demo with the parameters as typed; False (and a note why) if it cannot."""
        if self.info is None or self.prediction is None:
            return False
        if self.running:
            self.notify(t("demo_busy", self.lang), severity="warning")
            return False
        overrides: dict[str, object] = {name: self.query_one(f"#param-{name}", Input).value
                                        for name in self.info.params}
        try:
            params = self.info.resolve(overrides)
        except ParamError as exc:
            self.notify(str(exc), severity="error")
            return False
        self.run = DemoRun(self.info, dict(params))
        self.drawn = 0.0
        self.query_one(ProgressBar).update(progress=0.0)
        self._verdict(t("demo_running", self.lang, name=self.info.name))
        self._read(self.run, self.lang)
        return True

    @work(thread=True, group="demo", exit_on_error=False)
    def _read(self, run: DemoRun, lang: str) -> None:
        """Read the demo's stream into ``run`` (worker thread); news goes to this panel."""
        quiz = self.quiz

        def post(what: News) -> None:
            self.post_message(DemoNews(run, what))  # post_message is thread-safe

        try:
            events = quiz.stream(run.info.name, params=run.params, device="auto",
                                 seed=quiz.demo_seed, cancel=run.cancel, lang=lang)
            run.consume(events, post)
        except Exception as exc:  # shown to the learner; the app must keep running
            run.fail(f"{type(exc).__name__}: {exc}")
            post("failed")

    def on_demo_news(self, message: DemoNews) -> None:
        message.stop()
        self.show_run(message.run, message.what)

    def on_unmount(self) -> None:
        if self.run is not None and not self.run.finished:
            self.run.cancel.set()  # the panel was closed: nobody is watching any more

    def show_run(self, run: DemoRun, what: str) -> None:
        """Draw the worker's news; only this panel's latest run is drawn."""
        if run is not self.run:
            return
        state = run.state
        if what == "progress":
            # A plotext build holds the GIL for tens of ms, which the demo's thread then
            # waits for: the chart is rebuilt at most once a DRAW_EVERY (the first point at
            # once, the last with the result); the progress bar follows every message.
            now = time.monotonic()
            if not self.drawn or now - self.drawn >= DRAW_EVERY:
                self.drawn = now
                self._draw(run)
            self.query_one(ProgressBar).update(progress=state.progress)
            if state.total and self.info is not None:
                # one line replacing one line: no layout pass (and no CSS re-application)
                self.query_one("#demo-verdict", Static).update(
                    t("demo_step", self.lang, name=self.info.name, run=state.run,
                      step=state.step, total=state.total), layout=False)
            return
        self.refresh_bindings()
        if what == "failed":
            self._verdict(t("demo_failed", self.lang, error=escape(state.error)))
        else:
            self._finished(run)
        # drawn once the verdict has taken its room, so the bars fit what is left
        self.call_after_refresh(self._draw, run)

    def on_chart_resized(self, message: Chart.Resized) -> None:
        message.stop()
        # Nothing drawn yet (the run is starting): no plotext build to hold up its thread.
        # Only the plot's rows place its ticks (plotext fits the width as it renders), so a
        # resize that leaves them as drawn needs no rebuild.
        if (self.run is not None and self.run.state.series
                and self._plot_rows() != self.drawn_rows):
            self.call_after_refresh(self._draw, self.run)

    def _plot_rows(self) -> int:
        # the plot's own rows: the widget less the title, the frame and the x ticks
        return max(2, self.query_one(PlotextPlot).size.height - 4)

    def _draw(self, run: DemoRun) -> None:
        widget = self.query_one(PlotextPlot)
        state = run.state
        series = {name: list(points) for name, points in state.series.items()}
        self.drawn_rows = self._plot_rows()
        plot_series(widget.plt, series, state.diverged, self.drawn_rows)
        widget.refresh()
        # one line whatever it says (#legend's height is fixed): no layout pass per draw
        self.query_one("#legend", Static).update(legend(list(series), state.diverged, self.lang),
                                                 layout=False)
        # While it runs, each run's latest record; once over, the one its verdict speaks of.
        sets = state.bar_sets()
        if self.info is not None and sets:
            label = self.info.layers.get("label_ko" if self.lang == "ko" else "label") or \
                self.info.layers.get("label", self.info.layers["prefix"].rstrip("/"))
            layers = self.query_one("#layers", Static)
            height = max(3, layers.size.height - 2)  # the title and the layer numbers
            width = self.query_one("#charts").size.width // 2 - 1  # max-width 50%, padding
            layers.update(layer_bars({run: values for run, _, values in sets}, label,
                                     moment(sets, self.lang, state.bars_at_init), height,
                                     self.lang, width))

    def _finished(self, run: DemoRun) -> None:
        result = run.state.result
        assert result is not None and self.info is not None
        lang = self.lang
        if not result.cancelled:
            self.query_one(ProgressBar).update(progress=1.0)
        head = t("demo_cancelled", lang) if result.cancelled else t("verdict", lang)
        claim = self.info.claim_ko if lang == "ko" else self.info.claim
        # The grade and the claim come first: at 80x24 the verdict box shows only its top.
        compared = self._compare(result.numbers, result.cancelled)
        text = Text.assemble(compared, "\n" if compared else "",
                             (f"{t('claim', lang)}: ", "bold"), claim, "\n", (f"{head} ", "bold"),
                             (f"({result.device}, {result.seconds:.1f}s): ", "dim"),
                             result.verdict)
        self._verdict(text)

    def _compare(self, numbers: Any, cancelled: bool) -> Text:
        """The prediction against what was measured, in the prompt's own terms."""
        predict = self.link.predict
        if predict is None or self.reading is None:
            return Text()
        judged = judge(self.card, predict, self.reading, self.prediction or "", numbers,
                       cancelled, self.lang)
        style = "" if judged.right is None else ("bold green" if judged.right else "bold red")
        return Text(feedback(judged, self.lang), style=style)

    def _verdict(self, text: str | Text) -> None:
        self.query_one("#demo-verdict", Static).update(text)

    def action_cancel_or_back(self) -> None:
        if self.run is not None and not self.run.finished:
            self.run.cancel.set()  # the engine stops at its next step; the Result says so
            return
        self.dismiss(self.run.state.result if self.run is not None else None)
