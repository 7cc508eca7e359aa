"""The app's side of a demo: the injected stream, the torch warm-up, opening the panel.

A mixin of :class:`dlprep.tui.app.QuizApp`. The panel (:mod:`dlprep.tui.demo`) owns its
run and the worker thread that reads the stream. Nothing here imports torch until a demo
card's feedback warms it up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from textual.app import App

from dlprep.tui import messages as msg

if TYPE_CHECKING:
    from dlprep.engine.records import Event
    from dlprep.registry import DemoInfo

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
    """What the demo panel needs from the app: the injected stream, registry, seed and
    warm-up. The panel runs its demo itself, on its own worker."""

    stream: StreamFn
    demos: Callable[[], Mapping[str, DemoInfo]]
    demo_seed: int
    lang: str
    warm: Callable[[], None]
    warmed: threading.Thread | None

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

        if isinstance(self.screen, FeedbackScreen):
            self.screen.reveal()
