"""Feedback after each answer, and the end-of-session summary / mock interview report."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Markdown, Static

from dlprep.bank.topics import topic_title
from dlprep.study.session import Outcome, Session
from dlprep.study.strings import t
from dlprep.tui.base import QuizScreen


def result_text(outcome: Outcome, lang: str) -> Text:
    shown = outcome.shown
    text = Text()
    if shown.kind == "recall":
        text.append(f"● {t(f'rating_{int(outcome.rating)}', lang)}", style="bold")
    elif outcome.grade.correct:
        text.append(f"✓ {t('right', lang)}", style="bold green")
    else:
        text.append(f"✗ {t('wrong', lang)}", style="bold red")
    if shown.kind != "recall":
        text.append(f"\n{t('you_said', lang)}: ", style="bold")
        text.append(outcome.grade.answer or "—")
        if outcome.grade.note and not outcome.grade.correct:
            text.append(f"  ({outcome.grade.note.text(lang)})", style="italic")
    text.append(f"\n{t('answer_was', lang)}: ", style="bold")
    text.append(shown.expected_text())
    return text


def schedule_text(outcome: Outcome, lang: str) -> str:
    if outcome.next_due is None:
        return t("rated_cram", lang)
    due = outcome.next_due.strftime("%Y-%m-%d %H:%M UTC")
    return t("rated", lang, rating=t(f"rating_{int(outcome.rating)}", lang), due=due)


class FeedbackScreen(QuizScreen):
    BINDINGS = [
        Binding("enter,space,n", "next", "Next"),
        Binding("d", "demo", "Predict & run demo"),
        Binding("escape", "home", "Home"),
    ]

    def __init__(self, session: Session, outcome: Outcome) -> None:
        super().__init__()
        self.session = session
        self.outcome = outcome

    def compose(self) -> ComposeResult:
        card, lang = self.outcome.shown.card, self.lang
        yield Header()
        with VerticalScroll(id="feedback"):
            # Verdict, schedule and the demo offer first: visible at 80x24 without scrolling.
            yield Static(result_text(self.outcome, lang), id="verdict-line")
            yield Static(schedule_text(self.outcome, lang), id="schedule")
            if card.demo is not None:
                prompt = card.demo.predict.get(lang) if card.demo.predict else card.demo.name
                yield Static(f"▶ [b]d[/b] {t('run_demo', lang)}: {prompt}", id="demo-offer")
            yield Markdown(f"### {t('why', lang)}\n\n{card.explain.get(lang)}", id="explain")
            refs = "\n".join(f"- {ref}" for ref in card.refs)
            yield Markdown(f"**{t('refs', lang)}**\n\n{refs}", id="refs")
        yield Footer()

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t(f"mode_{self.session.kind}", self.lang)
        self.query_one("#feedback").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo":
            return self.outcome.shown.card.demo is not None  # footer shows only what works
        return True

    def action_next(self) -> None:
        self.quiz.show_next()

    def action_demo(self) -> None:
        from dlprep.tui.demo import DemoScreen

        card = self.outcome.shown.card
        if card.demo is not None:
            self.quiz.push_screen(DemoScreen(card))

    def action_home(self) -> None:
        self.quiz.go_home()


class SummaryScreen(QuizScreen):
    """Right/wrong per topic; for a mock interview also the mean time per answer."""

    BINDINGS = [Binding("enter,escape,h", "home", "Home"), Binding("v", "stats", "Stats")]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="summary"):
            yield Static(self._summary(), id="summary-text")
        yield Footer()

    def _summary(self) -> Group | Text:
        session, lang = self.session, self.lang
        outcomes = session.outcomes
        if not outcomes:
            return Text(t("nothing_due", lang))
        right = sum(1 for o in outcomes if o.grade.correct)
        title = t("mock_report", lang) if session.kind == "mock" else t("session_done", lang)
        table = Table(title=f"{title}: {t('summary', lang, right=right, n=len(outcomes))}",
                      header_style="bold")
        table.add_column(t("topic", lang))
        table.add_column(t("right", lang), justify="right")
        table.add_column(t("per_answer", lang), justify="right")
        for row in session.report():
            table.add_row(topic_title(row.topic, lang), f"{row.correct}/{row.answered}",
                          f"{row.mean_seconds:.0f}")
        if session.kind != "mock":
            return Group(table)  # feedback came after every card already
        return Group(table, Text(), self._answers())

    def _answers(self) -> Table:
        """A mock interview gave no feedback: every answer, right or wrong, with the key."""
        lang = self.lang
        table = Table(title=t("your_answers", lang), header_style="bold", expand=True)
        table.add_column("", width=2)
        table.add_column(t("question", lang), ratio=3)
        table.add_column(t("you_said", lang), ratio=2)
        table.add_column(t("answer_was", lang), ratio=2)
        table.add_column(t("seconds", lang), justify="right", width=4)
        for outcome in self.session.outcomes:
            shown = outcome.shown
            mark = ("✓", "green") if outcome.grade.correct else ("✗", "red")
            first_line = shown.question.strip().splitlines()[0]
            table.add_row(Text(*mark), first_line, outcome.grade.answer or "—",
                          shown.expected_text(), f"{outcome.seconds:.0f}")
        return table

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t(f"mode_{self.session.kind}", self.lang)

    def action_home(self) -> None:
        self.quiz.go_home()

    def action_stats(self) -> None:
        self.quiz.show_stats()
