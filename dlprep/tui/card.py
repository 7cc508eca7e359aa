"""The card screen: question, the type's answer widget, and (mock) the countdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.cells import cell_len, get_character_cell_size
from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, Static

from dlprep.bank.topics import topic_title
from dlprep.study.grading import Unreadable
from dlprep.study.inline import Span, inline_spans
from dlprep.study.kinds import kind_of
from dlprep.study.present import plain_paragraph
from dlprep.study.session import Session
from dlprep.study.strings import interval_text, t
from dlprep.tui.answers import answer_widget
from dlprep.tui.base import QuizScreen, relabel
from dlprep.tui.messages import AnswerCard, Answered, CannotAct, EndInterview, GoHome, OpenDemo
from dlprep.tui.titlebar import TitleBar

if TYPE_CHECKING:
    from fsrs import Rating


class InlineQuestion(Static):
    """A question of code spans and emphasis, styled as Textual's Markdown paragraph styles
    them: the same component classes, with the rules of ``Markdown``'s own CSS."""

    COMPONENT_CLASSES = {"code_inline", "em", "strong"}
    DEFAULT_CSS = """
    InlineQuestion {
        &:ansi > .code_inline { background: ansi_default !important; }
        &:dark > .code_inline { background: $warning 10%; color: $text-warning 95%; }
        &:light > .code_inline { background: $error 5%; color: $text-error 95%; }
        & > .em { text-style: italic; }
        & > .strong { text-style: bold; }
    }
    """

    def __init__(self, spans: tuple[Span, ...]) -> None:
        from textual.content import Content
        from textual.content import Span as Styled

        styled, start = [], 0
        for text, style in spans:
            if style:  # a component class, looked up by Content as Markdown's blocks do
                styled.append(Styled(start, start + len(text), f".{style}"))
            start += len(text)
        super().__init__(Content("".join(text for text, _ in spans), spans=styled),
                         id="question", classes="plain")


def question_widget(text: str) -> Widget:
    """The question as Markdown only where it needs the Markdown widget, else a Static.

    Most questions are plain sentences (some with the line breaks of a YAML block, which
    Markdown would join) or add only code spans and emphasis, and the Markdown widget
    (markdown-it, pygments) costs ~30 ms of start-up before the first card; ``.plain`` in
    card.tcss gives the Static the Markdown paragraph's padding and margin, so both look the
    same.
    """
    plain = plain_paragraph(text)
    if plain is not None:
        return Static(plain, id="question", classes="plain", markup=False)
    spans = inline_spans(text)
    if spans is not None:
        return InlineQuestion(spans)
    from textual.widgets import Markdown

    return Markdown(text, id="question")


class CardScreen(QuizScreen):
    CSS_PATH = "card.tcss"
    BINDINGS = [Binding("escape", "leave", "Home"), Binding("d", "demo", "Predict & run demo")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        if session.kind == "mock":  # Escape ends the interview (after asking), not "Home"
            self._bindings.key_to_bindings["escape"] = [
                Binding("escape", "leave", "End interview")]
            relabel(self, self.lang)
        shown = session.current()
        assert shown is not None
        self.shown = shown

    def compose(self) -> ComposeResult:
        shown, lang = self.shown, self.lang
        yield TitleBar()
        yield Static(self._status(), id="card-status")
        with VerticalScroll(id="card-body"):
            yield question_widget(shown.question)
            yield answer_widget(shown, lang)
            yield Static(self._hint(), id="hint")
        yield Footer()

    def _status(self) -> str:
        session, lang = self.session, self.lang
        card = self.shown.card
        tail = [t(kind_of(card).label_key(card), lang), "★" * card.difficulty]
        left = session.seconds_left()
        if left is not None:
            minutes, seconds = divmod(int(left), 60)
            tail.append(t("time_left", lang, t=f"{minutes}:{seconds:02d}"))
        if card.demo is not None:
            tail.append(t("demo_marker", lang))
        # One line at any width: the status has one cell of padding on each side.
        return status_line([t("progress", lang, i=session.position + 1, n=session.total)],
                           topic_title(card.topic, lang), tail, self.app.size.width - 2)

    def _hint(self) -> str:
        card = self.shown.card
        key = kind_of(card).hint_key(card)
        return t(key, self.lang, n=len(self.shown.choices)) if key else ""

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t(f"mode_{self.session.kind}", self.lang)
        self.query_one("#answer").focus()

    def show_intervals(self, seconds: Mapping[Rating, float]) -> None:
        """The app reviewed the revealed card: its rating keys show their intervals."""
        from dlprep.tui.answers import RecallAnswer

        waits = {int(r): interval_text(s, self.lang) for r, s in seconds.items()}
        for widget in self.query(RecallAnswer):
            widget.show_intervals(waits)

    def show_status(self) -> None:
        """The app's countdown asks for a redraw of the status line."""
        self.query_one("#card-status", Static).update(self._status())

    def on_resize(self) -> None:
        self.show_status()  # the topic title is cut to the new width

    def on_answered(self, message: Answered) -> None:
        message.stop()
        try:
            self.session.check(message.given)
        except Unreadable as exc:  # "four" for a number: ask again, nothing is recorded
            self._say(exc.ask_again(self.lang))
            return
        self.post_message(AnswerCard(self.shown, message.given))

    def on_cannot_act(self, message: CannotAct) -> None:
        message.stop()
        self._say(t(message.reason, self.lang))

    def _say(self, line: str) -> None:
        """Why the last key did nothing, where the card's hint stands."""
        hint = self.query_one("#hint", Static)
        hint.update(f"[b]{escape(line)}[/b]")
        hint.add_class("error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo":
            # A self-rated card shows its model answer on this screen: where it links a
            # demo, the prediction comes first, here (not in a mock interview).
            from dlprep.tui.answers import RecallAnswer

            shown = self.query(RecallAnswer)
            return (self.shown.card.demo is not None and self.session.kind != "mock"
                    and bool(shown) and not shown.first().revealed)
        return True

    def action_demo(self) -> None:
        if self.check_action("demo", ()):
            self.post_message(OpenDemo(self.shown.card, self.shown.values))

    def action_leave(self) -> None:
        # A mock interview is not abandoned by one key: the app asks, then shows the report.
        self.post_message(EndInterview() if self.session.kind == "mock" else GoHome())


def status_line(head: list[str], title: str, tail: list[str], width: int) -> str:
    """``head · title · tail`` on one line of ``width`` cells: only the title gives way.

    The separators narrow first; then the title is cut with "…" by cell width (Korean is
    double-width), so the counter, the type, a countdown and the demo marker always show.
    """
    for sep in ("  ·  ", " · "):
        fixed = cell_len(sep.join([*head, *tail])) + cell_len(sep)
        if fixed + cell_len(title) <= width:
            return sep.join([*head, title, *tail])
    room = width - fixed - 1  # one cell for "…"
    kept: list[str] = []
    used = 0
    for char in title:
        size = get_character_cell_size(char)
        if used + size > room:
            break
        kept.append(char)
        used += size
    short = "".join(kept).rstrip()
    return sep.join([*head, short + "…" if short else "…", *tail])

