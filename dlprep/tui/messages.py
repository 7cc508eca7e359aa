"""Messages between widgets, screens, the app and the demo worker thread (dataclasses).

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


@dataclass
class Answered(Message):
    """An answer widget finished: ``given`` is what grading expects for the card type."""

    given: Any


@dataclass
class AnswerCard(Message):
    """A card screen hands the app a readable answer to ``shown``."""

    shown: Presented
    given: Any


@dataclass
class GoHome(Message):
    pass


@dataclass
class NextCard(Message):
    pass


@dataclass
class StartSession(Message):
    spec: Spec


@dataclass
class ShowStats(Message):
    pass


@dataclass
class SwitchLanguage(Message):
    spec: Spec | None  # the home screen's choices, kept across the switch


@dataclass
class OpenDemo(Message):
    card: Card


@dataclass
class UndoAnswer(Message):
    pass


@dataclass
class Rerate(Message):
    rating: Rating


@dataclass
class EndInterview(Message):
    """Escape during a mock interview: the app asks to confirm, then shows the report."""


@dataclass
class RunDemo(Message):
    params: dict[str, object]


@dataclass
class CancelDemo(Message):
    pass


@dataclass
class DemoProgress(Message):
    """New points are in the app's :class:`DemoRun`; one pending message stands for any
    number of steps, so a fast demo cannot flood the UI."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DemoProgress)


@dataclass
class DemoFinished(Message):
    result: Result


@dataclass
class DemoFailed(Message):
    error: str


class RevealAnswer(Message):  # no fields: a plain class, nothing to generate at start-up
    """A self-rated card's model answer is shown: the app records the moment and hands the
    rating keys their intervals."""
