"""The app's side of the running demo: the warm-up, the worker thread and its news.

A mixin of :class:`dlprep.tui.app.QuizApp` (the app owns the running demo; the panel only
draws it). Nothing here imports torch until a demo card's feedback warms it up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App

from dlprep.tui import messages as msg

if TYPE_CHECKING:
    from dlprep.engine.records import Event
    from dlprep.registry import DemoInfo
    from dlprep.tui.demo_run import DemoRun

StreamFn = Callable[..., Iterator["Event"]]


def real_stream(name: str, **kwargs: Any) -> Iterator[Event]:
    # Imported only here: dlprep.engine.stream is what imports torch, when a demo starts.
    from dlprep.engine import stream

    return stream(name, **kwargs)


def real_demos() -> Mapping[str, DemoInfo]:
    from dlprep.registry import registry

    return registry()


def warm_torch() -> None:
    """Import the demo engine and torch in the background, so pressing run on a demo panel
    shows its first point at once instead of after a multi-second import. The first
    optimizer's lazy torch._dynamo import is answered by the engine's stand-in (lean.py),
    installed here already so nothing loads the real one."""
    import dlprep.engine  # noqa: F401
    from dlprep.engine.lean import defer_dynamo

    defer_dynamo()  # imports torch


class DemoHost(App[None]):
    demo: DemoRun | None
    stream: StreamFn
    demos: Callable[[], Mapping[str, DemoInfo]]
    demo_seed: int
    lang: str
    warm: Callable[[], None]
    warmed: threading.Thread | None

    @property
    def demo_running(self) -> bool:
        return self.demo is not None and not self.demo.finished

    def warm_demo(self) -> None:
        if self.warmed is None:
            self.warmed = threading.Thread(target=self.warm, name="warm-torch", daemon=True)
            self.warmed.start()

    def on_open_demo(self, message: msg.OpenDemo) -> None:
        from dlprep.tui.demo import DemoScreen

        self.push_screen(DemoScreen(message.card, self.demos().get(message.card.demo.name)
                                    if message.card.demo else None, message.values),
                         self._after_demo)

    def _after_demo(self, _: object) -> None:
        from dlprep.tui.feedback import FeedbackScreen

        if self.demo is not None and not self.demo.finished:
            self.demo.cancel.set()  # the panel was closed: nobody is watching any more
        if isinstance(self.screen, FeedbackScreen):
            self.screen.reveal()

    def start_demo(self, info: DemoInfo, params: dict[str, object]) -> DemoRun | None:
        from dlprep.tui.demo_run import DemoRun

        if self.demo_running:
            return None
        self.demo = DemoRun(info, params)
        self._demo_worker(self.demo)
        return self.demo

    @work(thread=True, group="demo")
    def _demo_worker(self, run: DemoRun) -> None:
        kinds = {"progress": msg.DemoProgress, "finished": msg.DemoFinished,
                 "failed": msg.DemoFailed}

        def post(kind: str, payload: Any) -> None:
            self.post_message(kinds[kind]() if payload is None else kinds[kind](payload))

        try:
            events = self.stream(run.info.name, params=run.params, device="auto",
                                 seed=self.demo_seed, cancel=run.cancel, lang=self.lang)
            run.consume(events, post)
        except Exception as exc:  # shown to the learner; the app must keep running
            run.error = f"{type(exc).__name__}: {exc}"
            self.post_message(msg.DemoFailed(run.error))

    def on_demo_progress(self, _: msg.DemoProgress) -> None:
        self._to_demo_screen("progress")

    def on_demo_finished(self, _: msg.DemoFinished) -> None:
        self._to_demo_screen("finished")

    def on_demo_failed(self, _: msg.DemoFailed) -> None:
        self._to_demo_screen("failed")

    def _to_demo_screen(self, what: str) -> None:
        from dlprep.tui.demo import DemoScreen

        screen = self.screen
        if isinstance(screen, DemoScreen) and self.demo is not None:
            screen.show_run(self.demo, what)
