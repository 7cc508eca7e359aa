"""One run of a demo in the quiz's panel: its stream state, its cancel switch, and the loop
that reads the stream on the panel's worker thread.

The state is the same :class:`dlprep.engine.state.StreamState` the CLI's live view draws.
The loop tells the panel at most every ``POST_EVERY`` seconds that new points are in (the
first step at once), so the number of redraws does not grow with the number of steps.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from dlprep.engine.state import StreamState

if TYPE_CHECKING:
    from dlprep.engine.records import Event
    from dlprep.registry import DemoInfo

# Seconds between progress messages from the worker. Each one costs the app's thread a
# repaint of the bar and the step line (a few ms of the GIL the demo's thread then waits
# for); twice a second keeps the bar moving at about half the cost of four times.
POST_EVERY = 0.5
News = Literal["progress", "finished", "failed"]


@dataclass
class DemoRun:
    info: DemoInfo
    params: dict[str, object]
    cancel: threading.Event = field(default_factory=threading.Event)
    state: StreamState = field(init=False)

    def __post_init__(self) -> None:
        self.state = StreamState.of(self.info.metric, self.info.layers)

    @property
    def finished(self) -> bool:
        return self.state.finished

    def consume(self, events: Iterator[Event], post: Callable[[News], None],
                clock: Callable[[], float] = time.monotonic) -> None:
        """Read the stream to its Result (worker thread); ``post`` tells the panel."""
        from dlprep.engine.records import Result

        posted = -math.inf
        for event in events:
            self.state.add(event)
            if isinstance(event, Result):
                post("finished")
                return
            now = clock()
            if now - posted >= POST_EVERY:
                posted = now
                post("progress")
        self.fail("the demo ended without a result")
        post("failed")

    def fail(self, error: str) -> None:
        self.state.error = error
