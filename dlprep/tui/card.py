"""The card screen: question, the type's answer widget, and (mock) the countdown."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

from dlprep.bank.topics import topic_title
from dlprep.study.grading import Unreadable
from dlprep.study.kinds import kind_of
from dlprep.study.present import plain_paragraph
from dlprep.study.session import Session
from dlprep.study.strings import t
from dlprep.tui.answers import answer_widget
from dlprep.tui.base import QuizScreen
from dlprep.tui.messages import AnswerCard, Answered, EndInterview, GoHome


def question_widget(text: str) -> Widget:
    """The question as Markdown only where it uses Markdown syntax, else as a plain Static.

    Most questions are plain sentences (some with the line breaks of a YAML block, which
    Markdown would join), and the Markdown widget (markdown-it, pygments) costs ~30 ms of
    start-up before the first card; ``.plain`` in quiz.tcss gives the Static the Markdown
    paragraph's padding and margin, so both look the same.
    """
    plain = plain_paragraph(text)
    if plain is None:
        from textual.widgets import Markdown

        return Markdown(text, id="question")
    return Static(plain, id="question", classes="plain", markup=False)


class CardScreen(QuizScreen):
    BINDINGS = [Binding("escape", "leave", "Home")]

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
                 topic_title(card.topic, lang), t(kind_of(card).label_key(card), lang),
                 "★" * card.difficulty]
        left = session.seconds_left()
        if left is not None:
            minutes, seconds = divmod(int(left), 60)
            parts.append(t("time_left", lang, t=f"{minutes}:{seconds:02d}"))
        if card.demo is not None:
            parts.append("▶ demo")
        return "  ·  ".join(parts)

    def _hint(self) -> str:
        card = self.shown.card
        key = kind_of(card).hint_key(card)
        return t(key, self.lang, n=len(self.shown.choices)) if key else ""

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t(f"mode_{self.session.kind}", self.lang)
        self.query_one("#answer").focus()

    def show_status(self) -> None:
        """The app's countdown asks for a redraw of the status line."""
        self.query_one("#card-status", Static).update(self._status())

    def on_answered(self, message: Answered) -> None:
        message.stop()
        try:
            self.session.check(message.given)
        except Unreadable as exc:  # "four" for a number: ask again, nothing is recorded
            hint = self.query_one("#hint", Static)
            hint.update(f"[b]{escape(t('ask_again', self.lang, note=exc.note.text(self.lang)))}"
                        "[/b]")
            hint.add_class("error")
            return
        self.post_message(AnswerCard(self.shown, message.given))

    def action_leave(self) -> None:
        # A mock interview is not abandoned by one key: the app asks, then shows the report.
        self.post_message(EndInterview() if self.session.kind == "mock" else GoHome())
