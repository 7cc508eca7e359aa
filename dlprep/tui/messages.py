"""Messages between widgets, screens, the app, and the demo panel's worker thread.

Screens never navigate: they post one of the requests below (or ``dismiss()`` a result),
and the app, which owns the session, timers and language, acts on it. The demo panel alone
hears from its own worker (:class:`DemoNews`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from fsrs import Rating

    from dlprep.bank.cards import Card
    from dlprep.study.plan import Spec
    from dlprep.study.present import Presented
    from dlprep.tui.demo_run import DemoRun

# Plain classes rather than dataclasses: every card screen imports this module before the
# first card is drawn, and building a dataclass costs start-up time (its methods are
# generated and compiled) that a message, never compared or printed, does not need.


class Answered(Message):
    """An answer widget finished: ``given`` is what grading expects for the card type."""

    def __init__(self, given: Any) -> None:
        super().__init__()
        self.given = given


class CannotAct(Message):
    """A key that cannot act here: the card screen says why (a string-table key)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class AnswerCard(Message):
    """A card screen hands the app a readable answer to ``shown``."""

    def __init__(self, shown: Presented, given: Any) -> None:
        super().__init__()
        self.shown = shown
        self.given = given


class GoHome(Message):
    """Back to the home screen."""


class NextCard(Message):
    """The feedback was read: on to the next card (or the summary)."""


class StartSession(Message):
    """Start a session as ``spec`` says."""

    def __init__(self, spec: Spec) -> None:
        super().__init__()
        self.spec = spec


class ShowStats(Message):
    """Open the statistics screen."""


class SwitchLanguage(Message):
    """Switch English/Korean and redraw the home screen."""

    def __init__(self, spec: Spec | None) -> None:
        super().__init__()
        self.spec = spec  # the home screen's choices, kept across the switch


class OpenDemo(Message):
    """Open the demo panel for ``card``'s demo, at the card's template draw ``values``."""

    def __init__(self, card: Card, values: dict[str, float] | None = None) -> None:
        super().__init__()
        self.card = card
        self.values = values or {}


class UndoAnswer(Message):
    """Take back the last answer (`u`)."""


class Rerate(Message):
    """The learner overrides the automatic rating of the last answer."""

    def __init__(self, rating: Rating) -> None:
        super().__init__()
        self.rating = rating


class EndInterview(Message):
    """Escape during a mock interview: the app asks to confirm, then shows the report."""


class DemoNews(Message):
    """The demo panel's worker thread to the panel itself: ``run`` has new points, ended
    or failed (the panel reads its state). One pending progress message stands for any
    number of steps, so a fast demo cannot flood the UI."""

    def __init__(self, run: DemoRun, what: str) -> None:
        super().__init__()
        self.run = run
        self.what = what  # "progress", "finished" or "failed"

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, DemoNews) and message.run is self.run
                and message.what == self.what == "progress")


class RevealAnswer(Message):  # no fields: a plain class, nothing to generate at start-up
    """A self-rated card's model answer is shown: the app records the moment and hands the
    rating keys their intervals."""
