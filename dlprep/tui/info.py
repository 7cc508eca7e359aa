"""Stats, Help and a yes/no confirmation: screens that go over another and dismiss()."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from dlprep.study import stats as study_stats
from dlprep.study.plan import Spec
from dlprep.study.strings import t
from dlprep.tui.base import QuizModal, QuizScreen
from dlprep.tui.render import stats_renderables
from dlprep.tui.titlebar import TitleBar


class StatsScreen(QuizScreen):
    """Dismisses with the suggested session's Spec when the learner takes it (``c``)."""

    CSS_PATH = "feedback.tcss"
    BINDINGS = [Binding("escape,v,q", "back", "Back"),
                Binding("c", "suggested", "Suggested session")]

    def compose(self) -> ComposeResult:
        app = self.quiz
        now = app.scheduler.now()
        self.result = study_stats.compute(app.bank.cards, app.store.states(),
                                          app.store.reviews(), app.scheduler, now)
        yield TitleBar()
        with VerticalScroll(id="stats"):
            yield Static(Group(*stats_renderables(self.result, self.lang, key=True)),
                         id="stats-body")
        yield Footer()

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t("stats", self.lang)
        self.query_one("#stats").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "suggested":
            return bool(self.result.weakest)
        return True

    def action_back(self) -> None:
        self.dismiss(None)

    def action_suggested(self) -> None:
        if self.result.weakest:
            self.dismiss(Spec(mode="cram", topics=tuple(self.result.weakest),
                              length=study_stats.SUGGESTED_LENGTH))


# (screen or card type, keys, what they do): only keys that exist; texts in the string table.
HELP: list[tuple[str, str, str]] = [
    ("h_any", "?", "h_help"),
    ("h_any", "Ctrl+T", "h_theme"),
    ("h_any", "Ctrl+Q", "h_quit"),
    ("s_home", "Space", "h_topics"),
    ("s_home", "s / l / v / q", "h_home"),
    ("type_mcq", "1-9, ↑↓ Enter", "h_mcq"),
    ("type_multi", "Space / 1-9, Enter", "h_multi"),
    ("type_truefalse", "t / f", "h_tf"),
    ("type_myth", "1", "h_fact"),
    ("type_myth", "2 / m", "h_myth"),
    ("type_recall", "Space, 1-4", "h_recall"),
    ("type_numeric", "Enter", "h_numeric"),
    ("type_order", "↑↓, Shift+↑↓ / u / d, Enter", "h_order"),
    ("s_card", "Escape", "h_card"),
    ("s_card", "d", "h_card_demo"),
    ("s_feedback", "Enter / d / Escape", "h_feedback"),
    ("s_feedback", "1-4 / u", "h_rate"),
    ("s_demo", "Enter, Tab, r, Escape", "h_demo"),
    ("s_stats", "c / Escape", "h_stats"),
    ("s_summary", "Enter / v", "h_summary"),
]


class HelpScreen(QuizModal):
    CSS_PATH = "info.tcss"
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        lang = self.lang
        table = Table(header_style="bold", expand=True, box=box.SIMPLE)
        table.add_column(t("keys", lang), style="bold", max_width=16)
        table.add_column("", ratio=1, overflow="fold")  # the room goes to the explanations
        # Where each key works is a heading over its rows, not a third column: at 80 columns
        # the explanations keep about 45 cells instead of about 22.
        heading = ""
        for screen, keys, what in HELP:
            if screen != heading:
                heading = screen
                table.add_row(Text(t(screen, lang), style="not bold dim italic"))
            table.add_row(f" {keys}", t(what, lang))
        with VerticalScroll(id="help"):
            yield Static(table)
        yield Footer()

    def on_mount(self) -> None:
        self.localize()

    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmScreen(QuizModal):
    """A yes/no question; dismisses with True or False."""

    CSS_PATH = "info.tcss"
    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, id="confirm-text")
            yield Static(f"[b]y[/b] {t('yes', self.lang)}   [b]n[/b] {t('no', self.lang)}")
        yield Footer()

    def on_mount(self) -> None:
        self.localize()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
