"""Feedback after each answer, and the end-of-session summary / mock interview report."""

from __future__ import annotations

from collections.abc import Sequence

from fsrs import Rating
from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Markdown, Static

from dlprep.bank.template import fill
from dlprep.bank.topics import topic_title
from dlprep.study.grading import passed
from dlprep.study.kinds import kind_of
from dlprep.study.session import Outcome, Session, summary_text
from dlprep.study.strings import interval_text, schedule_text, t
from dlprep.tui.base import QuizScreen
from dlprep.tui.messages import GoHome, NextCard, OpenDemo, Rerate, ShowStats, UndoAnswer
from dlprep.tui.titlebar import TitleBar


def given_text(outcome: Outcome) -> str:
    return kind_of(outcome.shown.card).given_text(outcome.shown, outcome.given)


# how the feedback draws each mark a Kind gives a choice: glyph, colour, string key
MARKS = {"chosen": ("✓", "green", "mark_chosen"), "missed": ("○", "yellow", "mark_missed"),
         "wrong": ("✗", "red", "mark_wrong"), "": (" ", "dim", "")}


def choice_marks(marks: list[tuple[str, str]], lang: str) -> Table:
    """Each choice marked (chosen and right, missed, chosen but wrong); a long choice wraps
    under its own text, not under the mark."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for choice, how in marks:
        mark, style, why = MARKS[how]
        text = Text(choice)
        if why:
            text.append(f"  ({t(why, lang)})", style=f"italic {style}")
        grid.add_row(Text(f" {mark}", style=f"bold {style}"), text)
    return grid


def result_text(outcome: Outcome, lang: str) -> Text | Group:
    shown = outcome.shown
    text = Text()
    self_rated = kind_of(shown.card).self_rated
    if self_rated:
        text.append(f"● {t(f'rating_{int(outcome.rating)}', lang)}", style="bold")
    elif outcome.grade.correct:
        text.append(f"✓ {t('right', lang)}", style="bold green")
    else:
        text.append(f"✗ {t('wrong', lang)}", style="bold red")
    marks = kind_of(shown.card).marks(shown, outcome.given)
    if marks is not None:
        return Group(text, choice_marks(marks, lang))
    if not self_rated:
        text.append(f"\n{t('you_said', lang)}: ", style="bold")
        text.append(given_text(outcome))
        if outcome.grade.note and not outcome.grade.correct:
            text.append(f"  ({outcome.grade.note.text(lang)})", style="italic")
    text.append(f"\n{t('answer_was', lang)}: ", style="bold")
    text.append(shown.expected_text())
    return text


class FeedbackScreen(QuizScreen):
    CSS_PATH = "feedback.tcss"
    BINDINGS = [
        Binding("enter,space,n", "next", "Next"),
        Binding("d", "demo", "Predict & run demo"),
        Binding("u", "undo", "Undo"),
        *[Binding(str(i), f"rate({i})", show=False) for i in range(1, 5)],
        Binding("escape", "home", "Home"),
    ]

    def __init__(self, session: Session, outcome: Outcome, *, revealed: bool = False) -> None:
        super().__init__()
        self.session = session
        self.outcome = outcome
        # A card with a demo holds its result back: the learner predicts first (issue 14).
        # A self-rated card has shown its answer already (its demo was offered before).
        self.revealed = (revealed or outcome.shown.card.demo is None
                         or kind_of(outcome.shown.card).self_rated)

    def compose(self) -> ComposeResult:
        card, lang, values = self.outcome.shown.card, self.lang, self.outcome.shown.values
        yield TitleBar()
        with VerticalScroll(id="feedback"):
            # Verdict, schedule and the demo offer first: visible at 80x24 without scrolling.
            yield Static(self._verdict(), id="verdict-line")
            yield Static(self._schedule(), id="schedule")
            yield Static(self._rerate(), id="rerate")
            if card.demo is not None:
                prompt = (fill(card.demo.predict.get(lang), values) if card.demo.predict
                          else card.demo.name)
                yield Static(f"▶ [b]d[/b] {t('run_demo', lang)}: {escape(prompt)}",
                             id="demo-offer")
            explain = fill(card.explain.get(lang), values)  # it may quote the drawn numbers
            yield Markdown(f"### {t('why', lang)}\n\n{explain}", id="explain")
            refs = "\n".join(f"- {ref}" for ref in card.refs)
            yield Markdown(f"**{t('refs', lang)}**\n\n{refs}", id="refs")
        yield Footer()

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t(f"mode_{self.session.kind}", self.lang)
        self.query_one("#feedback").focus()
        self._show_revealed()

    def _verdict(self) -> Text | Group:
        if not self.revealed:
            return Text(t("result_hidden", self.lang), style="bold")
        return result_text(self.outcome, self.lang)

    def _schedule(self) -> Text:
        outcome, lang = self.outcome, self.lang
        if outcome.error:
            return Text(f"⚠ {t('not_saved', lang, error=outcome.error)}", style="bold red")
        if not outcome.saved:
            return Text(f"⚠ {t('not_saved_yet', lang)}", style="bold yellow")
        if not self.revealed:
            return Text(t("predict_first", lang))
        assert outcome.at is not None
        return Text(schedule_text(outcome.next_due, int(outcome.rating), outcome.at, lang))

    def _rerate(self) -> Text:
        """The rating keys with the interval each would give (as Anki shows them)."""
        lang = self.lang
        text = Text()
        preview = self.session.preview(self.outcome) if self.revealed else {}
        if preview:
            text.append(f"{t('rerate', lang)} ", style="dim")
            at = self.outcome.at
            assert at is not None
            for rating in Rating:
                wait = interval_text((preview[rating] - at).total_seconds(), lang)
                style = "bold reverse" if rating == self.outcome.rating else ""
                text.append(f"{int(rating)} {t(f'rating_{int(rating)}', lang)} {wait}", style)
                text.append("  ")
        text.append(f"u {t('Undo', lang)}", style="dim")
        return text

    def _show_revealed(self) -> None:
        for widget_id in ("#explain", "#refs", "#rerate"):
            self.query_one(widget_id).display = self.revealed

    def reveal(self) -> None:
        """Show the result (after the demo, or on Enter)."""
        if self.revealed:
            return
        self.revealed = True
        self.query_one("#verdict-line", Static).update(self._verdict())
        self.query_one("#schedule", Static).update(self._schedule())
        self.query_one("#rerate", Static).update(self._rerate())
        self._show_revealed()
        self.refresh_bindings()

    def saved(self, outcomes: Sequence[Outcome]) -> None:
        """The app wrote this answer after all (the progress file was freed)."""
        for outcome in outcomes:
            if outcome.at == self.outcome.at and outcome.shown is self.outcome.shown:
                self.outcome = outcome
        self.query_one("#schedule", Static).update(self._schedule())
        self.query_one("#rerate", Static).update(self._rerate())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo":
            return self.outcome.shown.card.demo is not None  # footer shows only what works
        if action == "rate":
            return self.revealed and self.session.kind != "cram"
        return True

    def action_next(self) -> None:
        if not self.revealed:
            self.reveal()
            return
        self.post_message(NextCard())

    def action_demo(self) -> None:
        self.post_message(OpenDemo(self.outcome.shown.card, self.outcome.shown.values))

    def action_undo(self) -> None:
        self.post_message(UndoAnswer())

    def action_rate(self, number: int) -> None:
        self.post_message(Rerate(Rating(number)))

    def action_home(self) -> None:
        self.post_message(GoHome())


class SummaryScreen(QuizScreen):
    """Right/wrong per topic; for a mock interview also every answer with the key."""

    CSS_PATH = "feedback.tcss"
    BINDINGS = [Binding("enter,escape,h", "home", "Home"), Binding("v", "stats", "Stats")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="summary"):
            yield Static(self._summary(), id="summary-text")
            if self.session.kind == "mock" and self.session.outcomes:
                yield Markdown(self._answers(), id="answers")
        yield Footer()

    def _summary(self) -> Group | Text:
        session, lang = self.session, self.lang
        outcomes = session.outcomes
        if not outcomes:
            return Text(t("nothing_due", lang))
        title = t("mock_report", lang) if session.kind == "mock" else t("session_done", lang)
        # The headline is a line of its own: as a table title it wrapped to the table's width.
        head = Text(f"{title}: {summary_text(session.summary(), lang)}", style="bold")
        if session.kind == "mock" and session.unanswered:
            why = "unanswered_stopped" if session.stopped else "unanswered_time"
            head.append(f"\n{t(why, lang, n=session.unanswered)}", style="yellow")
        table = Table(header_style="bold")
        table.add_column(t("topic", lang))
        table.add_column(t("right", lang), justify="right")
        table.add_column(t("per_answer", lang), justify="right")
        for row in session.report():
            table.add_row(topic_title(row.topic, lang), f"{row.correct}/{row.answered}",
                          f"{row.mean_seconds:.0f}")
        return Group(head, table)

    def _answers(self) -> str:
        """A mock interview gave no feedback: every answer, right or wrong, with the key,
        as Markdown (questions and answers may hold code and emphasis)."""
        lang = self.lang
        lines = [f"## {t('your_answers', lang)}"]
        for i, outcome in enumerate(self.session.outcomes, 1):
            shown = outcome.shown
            mark = "✓" if passed(outcome.rating) else "✗"
            question = " ".join(shown.question.strip().split())
            lines += [f"**{i}. {mark}** {question}", "",
                      f"- **{t('you_said', lang)}:** {given_text(outcome)}",
                      f"- **{t('answer_was', lang)}:** {shown.expected_text()}",
                      f"- **{t('time_taken', lang)}:** "
                      f"{t('n_seconds', lang, n=f'{outcome.seconds:.0f}')}", ""]
        return "\n".join(lines)

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t(f"mode_{self.session.kind}", self.lang)
        self.query_one("#summary").focus()

    def action_home(self) -> None:
        self.post_message(GoHome())

    def action_stats(self) -> None:
        self.post_message(ShowStats())
