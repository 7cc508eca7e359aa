"""Messages between widgets, screens, the app and the demo worker thread.

Screens never navigate: they post one of the requests below (or ``dismiss()`` a result),
and the app, which owns the session, timers, language and the running demo, acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from fsrs import Rating

    from dlprep.bank.cards import Card
    from dlprep.engine.records import Result
    from dlprep.study.plan import Spec
    from dlprep.study.present import Presented

# A message with fields is a dataclass; one without is a plain subclass (building a
# dataclass costs start-up time and buys nothing without fields).


@dataclass
class Answered(Message):
    """An answer widget finished: ``given`` is what grading expects for the card type."""

    given: Any


@dataclass
class AnswerCard(Message):
    """A card screen hands the app a readable answer to ``shown``."""

    shown: Presented
    given: Any


class GoHome(Message):
    """Back to the home screen."""


class NextCard(Message):
    """The feedback was read: on to the next card (or the summary)."""


@dataclass
class StartSession(Message):
    """Start a session as ``spec`` says."""

    spec: Spec


class ShowStats(Message):
    """Open the statistics screen."""


@dataclass
class SwitchLanguage(Message):
    """Switch English/Korean and redraw the home screen."""

    spec: Spec | None  # the home screen's choices, kept across the switch


@dataclass
class OpenDemo(Message):
    """Open the demo panel for ``card``'s demo."""

    card: Card


class UndoAnswer(Message):
    """Take back the last answer (`u`)."""


@dataclass
class Rerate(Message):
    """The learner overrides the automatic rating of the last answer."""

    rating: Rating


class EndInterview(Message):
    """Escape during a mock interview: the app asks to confirm, then shows the report."""


@dataclass
class RunDemo(Message):
    """Run the open demo with these parameters."""

    params: dict[str, object]


class CancelDemo(Message):
    """Stop the running demo."""


class DemoProgress(Message):
    """New points are in the app's :class:`DemoRun`; one pending message stands for any
    number of steps, so a fast demo cannot flood the UI."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DemoProgress)


@dataclass
class DemoFinished(Message):
    """The demo ended with ``result``."""

    result: Result


@dataclass
class DemoFailed(Message):
    """The demo raised; ``error`` is shown to the learner."""

    error: str
