"""Stats and Help screens."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from dlprep.study import stats as study_stats
from dlprep.study.strings import t
from dlprep.tui.base import QuizModal, QuizScreen
from dlprep.tui.render import stats_renderables


class StatsScreen(QuizScreen):
    BINDINGS = [Binding("escape,v,q", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        app = self.quiz
        now = app.scheduler.now()
        result = study_stats.compute(app.bank.cards, app.store.states(), app.store.reviews(),
                                     app.scheduler, now)
        yield Header()
        with VerticalScroll(id="stats"):
            yield Static(Group(*stats_renderables(result, self.lang)), id="stats-body")
        yield Footer()

    def on_mount(self) -> None:
        self.localize()
        self.sub_title = t("stats", self.lang)
        self.query_one("#stats").focus()


# (screen, keys, English, Korean)
KEYS: list[tuple[str, str, str, str]] = [
    ("*", "?", "this help", "이 도움말"),
    ("*", "Ctrl+T", "light / dark theme", "밝은 / 어두운 테마"),
    ("*", "Ctrl+Q", "quit (progress is already saved)", "종료 (진행 상황은 이미 저장됨)"),
    ("Home", "Space", "select topics (none = all)", "주제 선택 (선택 없음 = 전체)"),
    ("Home", "s / l / v / q", "start / 한국어·English / stats / quit",
     "시작 / 한국어·English / 통계 / 종료"),
    ("mcq", "1-9, ↑↓ Enter", "answer", "답하기"),
    ("multi", "Space or 1-9, Enter", "toggle, submit", "선택/해제, 제출"),
    ("true/false", "t / f", "true / false", "참 / 거짓"),
    ("myth/fact", "1 / 2 or m", "fact / myth", "사실 / 미신"),
    ("recall", "Space, 1-4", "show answer, rate Again/Hard/Good/Easy",
     "정답 보기, 다시/어려움/좋음/쉬움 평가"),
    ("numeric", "Enter", "submit a number with a unit (4 MB, 4e6 B, 3.8 MiB)",
     "단위와 함께 숫자 제출 (4 MB, 4e6 B, 3.8 MiB)"),
    ("order", "↑↓, Shift+↑↓ or u/d, Enter", "pick, move, submit", "고르기, 옮기기, 제출"),
    ("Card", "Escape", "back home (answers so far are saved)", "홈으로 (지금까지 답은 저장됨)"),
    ("Feedback", "Enter / d / Escape", "next card / predict & run demo / home",
     "다음 카드 / 예측 후 데모 실행 / 홈"),
    ("Demo", "y / n, r, Escape", "predict, re-run with edited params, cancel or back",
     "예측, 파라미터 바꿔 다시 실행, 취소 또는 뒤로"),
]


class HelpScreen(QuizModal):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        lang = self.lang
        table = Table(title=t("keys", lang), header_style="bold", expand=True, box=box.SIMPLE)
        table.add_column("", style="dim", no_wrap=True)
        table.add_column(t("keys", lang), style="bold", no_wrap=True)
        table.add_column("")
        for screen, keys, english, korean in KEYS:
            table.add_row(screen, keys, korean if lang == "ko" else english)
        with VerticalScroll(id="help"):
            yield Static(table)
        yield Footer()

    def on_mount(self) -> None:
        self.localize()
