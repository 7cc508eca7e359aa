"""The card screen: question, the type's answer widget, and (mock) the countdown."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

from dlprep.bank.topics import topic_title
from dlprep.study.present import needs_markdown
from dlprep.study.session import Session
from dlprep.study.strings import t, type_label
from dlprep.tui.answers import OrderPanel, answer_widget
from dlprep.tui.base import QuizScreen
from dlprep.tui.messages import Answered

HINTS = {"mcq": "mcq_hint", "multi": "multi_hint", "order": "order_hint", "truefalse": "tf_hint",
         "numeric": "numeric_hint", "recall": "grade_yourself"}


def question_widget(text: str) -> Widget:
    """The question as Markdown only where it uses Markdown syntax, else as a plain Static.

    Most questions are plain sentences, and the Markdown widget (markdown-it, pygments)
    costs ~30 ms of start-up before the first card; ``.plain`` in quiz.tcss gives the Static
    the Markdown paragraph's padding and margin, so both look the same.
    """
    if needs_markdown(text):
        from textual.widgets import Markdown

        return Markdown(text, id="question")
    return Static(text.strip(), id="question", classes="plain", markup=False)


class CardScreen(QuizScreen):
    BINDINGS = [Binding("escape", "home", "Home")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        shown = session.current()
        assert shown is not None
        self.shown = shown

    def compose(self) -> ComposeResult:
        shown, lang = self.shown, self.lang
        yield Header()
        yield Static(self._status(), id="card-status")
        with VerticalScroll(id="card-body"):
            yield question_widget(shown.question)
            yield answer_widget(shown, lang)
            yield Static(self._hint(), id="hint")
        yield Footer()

    def _status(self) -> str:
        session, lang = self.session, self.lang
        card = self.shown.card
        parts = [t("progress", lang, i=session.position + 1, n=len(session.queue)),
                 topic_title(card.topic, lang),
                 type_label(card.type, getattr(card, "myth", False), lang), "★" * card.difficulty]
        left = session.seconds_left()
        if left is not None:
            minutes, seconds = divmod(int(left), 60)
            parts.append(t("time_left", lang, t=f"{minutes}:{seconds:02d}"))
        if card.demo is not None:
            parts.append("▶ demo")
        return "  ·  ".join(parts)

    def _hint(self) -> str:
        card = self.shown.card
        key = "myth_hint" if getattr(card, "myth", False) else HINTS.get(self.shown.kind)
        if key is None:
            return ""
        return t(key, self.lang, n=len(self.shown.choices))

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t(f"mode_{self.session.kind}", self.lang)
        target = self.query_one("#answer")
        if isinstance(target.parent, OrderPanel):
            target = target.parent.query_one("#answer")
        target.focus()
        if self.session.seconds_left() is not None:
            self.set_interval(0.5, self.tick)

    def tick(self) -> None:
        """Refresh the countdown; when it runs out the interview ends (mock only)."""
        if not self.is_current:
            return
        self.query_one("#card-status", Static).update(self._status())
        if self.session.out_of_time():
            self.quiz.show_next()

    def on_answered(self, message: Answered) -> None:
        message.stop()
        if self.session.current() is not self.shown:
            return  # a double press after the answer was taken
        self.session.answer(message.given)
        if self.session.kind == "mock":
            self.quiz.show_next()  # no feedback until the report
        else:
            self.quiz.show_feedback()

    def action_home(self) -> None:
        self.quiz.go_home()
