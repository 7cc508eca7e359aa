"""Home: choose topics, mode, length, interview date and language, then start.

It is what ``dlprep quiz`` shows first, so it does little at start-up: its rows count cards
from the bank's index of topics (a bank served from the cache unpickles no card for it) and
the store's due flags (no scheduler state is decoded, fsrs is not imported; retention is on
the Stats screen, which reads the reviews), and its widgets are few and shared.
"""

from __future__ import annotations

from datetime import date

from rich.cells import cell_len, set_cell_size
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Footer, Input, OptionList, SelectionList, Static
from textual.widgets.selection_list import Selection

from dlprep.bank.topics import short_title, topic_title
from dlprep.study.overview import topic_rows
from dlprep.study.plan import MODES, Spec
from dlprep.study.strings import t
from dlprep.tui.base import QuizScreen
from dlprep.tui.messages import ShowStats, StartSession, SwitchLanguage
from dlprep.tui.titlebar import TitleBar

TITLE_CELLS = 24  # what an 80-column terminal leaves for a topic's title
COLUMN_CELLS = (6, 5, 5)  # cards, new, due
# The options pane (30), the list's border and padding (4), selection box (4) and scrollbar
# gutter (2, kept even when the rows fit: home.tcss) and the columns (16) take the rest.
OTHER_CELLS = 56
# The interview-date field's placeholder: the format, not a date that reads as one set.
DATE_HINT = "YYYY-MM-DD"


def title_cells(width: int) -> int:
    """A wider terminal shows whole topic titles instead of truncating them."""
    return max(TITLE_CELLS, width - OTHER_CELLS)


def fit(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` terminal cells with "…" right after the last character that
    fits, then padded: a Korean syllable cut in half leaves no gap before the "…"."""
    if cell_len(text) <= cells:
        return text + " " * (cells - cell_len(text))
    cut = text
    while cut and cell_len(cut) > cells - 1:
        cut = cut[:-1]
    cut = cut.rstrip() + "…"
    return cut + " " * (cells - cell_len(cut))


def row_title(slug: str, lang: str, cells: int) -> str:
    """The topic's whole title where it fits in ``cells``, else its short form, cut to fit."""
    title = topic_title(slug, lang)
    return fit(title if cell_len(title) <= cells else short_title(slug, lang), cells)


def _rjust(text: str, cells: int) -> str:
    return " " * max(1, cells - cell_len(text)) + text


def column_titles(lang: str, cells: int = TITLE_CELLS) -> str:
    """The topic list's frame title: column names over the rows, aligned by terminal cells
    (Korean is double width)."""
    names = (t("cards", lang), t("new_short", lang), t("due_short", lang))
    # It is the list's border title: the corner, a line and a space (3) come before it, and
    # the border, padding (2) and selection box (4) before each row's title.
    head = set_cell_size(t("topics", lang), cells + 3)
    return head + "".join(_rjust(n, c) for n, c in zip(names, COLUMN_CELLS, strict=True))


class HomeScreen(QuizScreen):
    CSS_PATH = "home.tcss"
    BINDINGS = [
        Binding("s", "start", "Start"),
        Binding("v", "stats", "Stats"),
        Binding("l", "language", "한국어/English"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        lang, spec = self.lang, self.quiz.spec
        app = self.quiz
        self._topics = topic_rows(app.bank.card_topics, app.store.due_now(app.scheduler.now()))
        self._cells = title_cells(self.app.size.width)
        yield TitleBar()
        # The two panes sit side by side in the screen's own horizontal layout (home.tcss):
        # every widget costs start-up time, a wrapping container too.
        topics = SelectionList[str](*self._topic_rows(lang, set(spec.topics)), id="topics")
        topics.border_title = column_titles(lang, self._cells)
        yield topics
        with Vertical(id="options"):
            # The mode is a list like the topics (the same widget, already loaded); a
            # RadioSet and a Start button were ~90M of the ~550M instructions the home
            # screen took above a bare app. Enter here starts, as do s and Enter in a
            # field (the footer's Start is clickable).
            yield OptionList(*(t(f"mode_{m}", lang) for m in MODES), id="mode")
            yield Static(t("length", lang))
            yield Input(str(spec.size), id="length", type="integer", max_length=3)
            yield Static(t("until", lang))
            yield Input(spec.until.isoformat() if spec.until else "", id="until",
                        placeholder=DATE_HINT, max_length=10)
            if not self.quiz.store.saving:
                yield Static(f"⚠ {t('not_saving', lang)}", id="home-notice")
        yield Footer()

    def _topic_rows(self, lang: str, chosen: set[str]) -> list[Selection[str]]:
        rows = []
        for row in self._topics:
            # Cell widths, not characters: a Korean syllable takes two cells.
            label = Content.assemble(
                (row_title(row.topic, lang, self._cells), "bold"),
                _rjust(str(row.cards), COLUMN_CELLS[0]),
                (_rjust(str(row.new), COLUMN_CELLS[1]), "dim"),
                (_rjust(str(row.due), COLUMN_CELLS[2]), "bold" if row.due else "dim"),
            )
            rows.append(Selection(label, row.topic, row.topic in chosen))
        return rows

    def on_resize(self, event: events.Resize) -> None:
        cells = title_cells(event.size.width)
        if cells == self._cells:
            return
        self._cells = cells
        topics = self.query_one("#topics", SelectionList)
        chosen = set(topics.selected)
        highlighted = topics.highlighted
        topics.clear_options()
        topics.add_options(self._topic_rows(self.lang, chosen))
        topics.highlighted = highlighted
        topics.border_title = column_titles(self.lang, cells)

    def on_mount(self) -> None:
        self.localize()
        self.query_one("#mode", OptionList).highlighted = MODES.index(self.quiz.spec.mode)
        self.query_one("#topics").focus()
        self.sub_title = t("home", self.lang)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "mode":
            self.action_start()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_start()

    def _spec(self) -> Spec | None:
        topics = tuple(self.query_one("#topics", SelectionList).selected)
        chosen = self.query_one("#mode", OptionList).highlighted
        mode = MODES[chosen] if chosen is not None else "due"
        try:
            size = max(1, int(self.query_one("#length", Input).value or "20"))
        except ValueError:
            size = 20
        raw_until = self.query_one("#until", Input).value.strip()
        until = None
        if raw_until:
            try:
                until = date.fromisoformat(raw_until)
            except ValueError:
                self.notify(f"{t('until', self.lang)}: {raw_until!r}", severity="error")
                return None
            if until < self.quiz.scheduler.now().date():
                self.notify(t("until_past", self.lang, day=raw_until), severity="error")
                return None
        current = self.quiz.spec
        return Spec(mode=mode, topics=topics, length=size, mock_cards=size, until=until,
                    mock_seconds_per_card=current.mock_seconds_per_card)

    def action_start(self) -> None:
        spec = self._spec()
        if spec is not None:
            self.post_message(StartSession(spec))

    def action_stats(self) -> None:
        self.post_message(ShowStats())

    def action_language(self) -> None:
        self.post_message(SwitchLanguage(self._spec()))
