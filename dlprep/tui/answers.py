"""One answer widget per card type, registered by type name. Each posts :class:`Answered`;
none grades or saves. A new card type adds its :class:`dlprep.study.kinds.Kind` and one
widget here, registered with ``@widget_for("name")``."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList
from textual.widgets.option_list import Option

from dlprep.study.kinds import kind_of
from dlprep.study.present import Choice, Presented
from dlprep.study.strings import t
from dlprep.tui.base import relabel
from dlprep.tui.messages import Answered, CannotAct, RevealAnswer

WidgetFactory = Callable[[Presented, str], Widget]
WIDGETS: dict[str, WidgetFactory] = {}


def widget_for(kind: str) -> Callable[[WidgetFactory], WidgetFactory]:
    def register(factory: WidgetFactory) -> WidgetFactory:
        WIDGETS[kind] = factory
        return factory

    return register


def answer_widget(shown: Presented, lang: str) -> Widget:
    widget = WIDGETS[kind_of(shown.card).name](shown, lang)
    relabel(widget, lang)  # footer labels right from the first frame
    return widget


def choice_prompt(number: int, text: str, mark: str = "") -> Table:
    """``1. text`` where a long text wraps under itself, not under the number."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(f"{mark}{number}."), Text(text))
    return grid


_DIGITS: list[BindingType] = [Binding(str(i), f"pick({i})", show=False) for i in range(1, 10)]


class AnswerList(OptionList):
    """Every answer list behaves alike: nothing is highlighted until the learner moves, so
    the first ↓ highlights option 1 and an Enter meant for the previous screen cannot
    answer this card; once the learner has moved, focus coming back keeps the place."""

    moved = False  # the learner has highlighted an option (a key or a click)

    def on_mount(self) -> None:
        # OptionList.__init__ calls action_first(): that move was not the learner's
        self.moved = False
        self.highlighted = None

    def on_focus(self, event: events.Focus) -> None:
        # A highlight the learner did not make (OptionList's own, on creation or focus)
        # would let a stray Enter answer; Widget's own focus handling still runs after this.
        if not self.moved:
            self.highlighted = None

    def action_cursor_down(self) -> None:
        self.moved = True
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        self.moved = True
        super().action_cursor_up()

    def action_first(self) -> None:
        self.moved = True
        super().action_first()

    def action_last(self) -> None:
        self.moved = True
        super().action_last()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.moved = True  # a click (or Enter on a highlight): subclasses act on it


class McqAnswer(AnswerList):
    """Keys 1-9 answer at once; arrows + Enter or a click work too."""

    BINDINGS = _DIGITS

    def __init__(self, choices: tuple[Choice, ...]) -> None:
        self.choices = choices
        super().__init__(*(Option(choice_prompt(i, c.text), id=str(i - 1))
                           for i, c in enumerate(choices, 1)), id="answer")

    def action_pick(self, number: int) -> None:
        if number <= len(self.choices):
            self.post_message(Answered(self.choices[number - 1].key))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        super().on_option_list_option_selected(event)
        self.post_message(Answered(self.choices[event.option_index].key))


@widget_for("mcq")
def _mcq(shown: Presented, lang: str) -> Widget:
    return McqAnswer(shown.choices)


class TrueFalseAnswer(McqAnswer):
    """t / f for true-false cards; for myth-or-fact cards 1 fact, 2 or m myth ("f" would be
    ambiguous between false and fact, so it is off there)."""

    BINDINGS = [Binding("t", "letter('t')", show=False), Binding("f", "letter('f')", show=False),
                Binding("m", "letter('m')", show=False)]

    def __init__(self, shown: Presented) -> None:
        self.myth = bool(getattr(shown.card, "myth", False))
        super().__init__(shown.choices)

    def action_pick(self, number: int) -> None:
        if number <= 2:
            self.post_message(Answered(number == 1))

    def action_letter(self, letter: str) -> None:
        if self.myth and letter == "m":
            self.action_pick(2)
        elif not self.myth and letter in "tf":
            self.action_pick(1 if letter == "t" else 2)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        super().on_option_list_option_selected(event)
        self.post_message(Answered(event.option_index == 0))


@widget_for("truefalse")
def _truefalse(shown: Presented, lang: str) -> Widget:
    return TrueFalseAnswer(shown)


class MultiAnswer(AnswerList):
    """Space (or a digit, or a click) toggles; Enter submits. Long choices wrap."""

    BINDINGS = [Binding("enter", "submit", "Submit"),
                Binding("space", "toggle_highlighted", "Toggle option"),
                *[Binding(str(i), f"toggle_nth({i})", show=False) for i in range(1, 10)]]

    def __init__(self, choices: tuple[Choice, ...]) -> None:
        self.choices = choices
        self.chosen: set[int] = set()
        super().__init__(*self._prompts(), id="answer")

    def _prompts(self) -> list[Option]:
        return [Option(choice_prompt(i, c.text, "[x] " if i - 1 in self.chosen else "[ ] "))
                for i, c in enumerate(self.choices, 1)]

    @property
    def selected(self) -> list[str]:
        return [self.choices[i].key for i in sorted(self.chosen)]

    def action_toggle_nth(self, number: int) -> None:
        if number <= len(self.choices):
            self.chosen ^= {number - 1}
            highlighted = self.highlighted
            self.set_options(self._prompts())
            self.highlighted = highlighted

    def action_toggle_highlighted(self) -> None:
        if self.highlighted is None:
            self.post_message(CannotAct("cannot_toggle"))
        else:
            self.action_toggle_nth(self.highlighted + 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click toggles
        super().on_option_list_option_selected(event)
        self.action_toggle_nth(event.option_index + 1)

    def action_submit(self) -> None:
        self.post_message(Answered(self.selected))


@widget_for("multi")
def _multi(shown: Presented, lang: str) -> Widget:
    return MultiAnswer(shown.choices)


class OrderAnswer(AnswerList):
    """↑/↓ pick an item, Shift+↑/↓ (or u/d) move it, Enter submits."""

    BINDINGS = [Binding("shift+up,u", "move(-1)", "Move up"),
                Binding("shift+down,d", "move(1)", "Move down"),
                Binding("enter", "submit", "Submit")]

    def __init__(self, choices: tuple[Choice, ...]) -> None:
        self.items = list(choices)
        super().__init__(*self._item_options(), id="answer")

    def _item_options(self) -> list[Option]:
        return [Option(choice_prompt(i, c.text)) for i, c in enumerate(self.items, 1)]

    def action_move(self, delta: int) -> None:
        index = self.highlighted
        if index is None:
            self.post_message(CannotAct("cannot_move"))
            return
        if not 0 <= index + delta < len(self.items):
            self.post_message(CannotAct("cannot_move_top" if delta < 0 else "cannot_move_bottom"))
            return
        items = self.items
        items[index], items[index + delta] = items[index + delta], items[index]
        self.set_options(self._item_options())
        self.highlighted = index + delta

    def action_submit(self) -> None:
        self.post_message(Answered([c.key for c in self.items]))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click only picks the item to move
        super().on_option_list_option_selected(event)


class OrderPanel(Vertical):
    """The order list with buttons, so it works with the mouse too."""

    def __init__(self, choices: tuple[Choice, ...], lang: str) -> None:
        super().__init__(id="order-panel")
        self.choices = choices
        self.lang = lang

    def compose(self) -> ComposeResult:
        answer = OrderAnswer(self.choices)
        relabel(answer, self.lang)
        yield answer
        with Horizontal(classes="buttons"):
            yield Button(f"▲ {t('move_up', self.lang)}", id="up")
            yield Button(f"▼ {t('move_down', self.lang)}", id="down")
            yield Button(t("submit", self.lang), id="submit", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        answer = self.query_one(OrderAnswer)
        if event.button.id == "submit":
            answer.action_submit()
        else:
            answer.action_move(-1 if event.button.id == "up" else 1)
        answer.focus()


@widget_for("order")
def _order(shown: Presented, lang: str) -> Widget:
    return OrderPanel(shown.choices, lang)


class NumericAnswer(Input):
    def __init__(self, shown: Presented, lang: str) -> None:
        super().__init__(placeholder=kind_of(shown.card).plain_prompt(shown, lang), id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(Answered(event.value))


@widget_for("numeric")
def _numeric(shown: Presented, lang: str) -> Widget:
    return NumericAnswer(shown, lang)


class RecallAnswer(Vertical):
    """Reveal the model answer, then the learner rates themselves 1-4."""

    BINDINGS = [Binding("space", "reveal", "Show answer"),
                *[Binding(str(i), f"rate({i})", show=False) for i in range(1, 5)]]
    can_focus = True

    def __init__(self, shown: Presented, lang: str) -> None:
        super().__init__(id="answer")
        self.shown = shown
        self.lang = lang
        self.revealed = False

    def compose(self) -> ComposeResult:
        yield Button(f"{t('reveal', self.lang)} (space)", id="reveal", variant="primary")
        with Horizontal(classes="buttons", id="ratings"):
            for i in range(1, 5):
                yield Button(f"{i} {t(f'rating_{i}', self.lang)}", id=f"rate-{i}")

    def on_mount(self) -> None:
        self.query_one("#ratings").display = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reveal":
            return not self.revealed  # the footer drops "Show answer" once it is shown
        return True

    def action_reveal(self) -> None:
        if self.revealed:  # the button can be pressed as it hides; mount the answer once
            return
        self.revealed = True
        self.screen.refresh_bindings()  # the screen's demo key goes with the hidden answer
        self.query_one("#reveal").display = False
        # Built on reveal, not with the card: Markdown (markdown-it, pygments) costs start-up.
        from textual.widgets import Markdown

        text = f"**{t('model_answer', self.lang)}**\n\n{self.shown.expected_text()}"
        self.mount(Markdown(text, id="model-answer"), before="#ratings")
        self.query_one("#ratings").display = True
        self.focus()
        self.post_message(RevealAnswer())

    def show_intervals(self, waits: dict[int, str]) -> None:
        """Each rating button with the interval it gives ("3 Good · 10m"), as Anki shows."""
        for i, wait in waits.items():
            self.query_one(f"#rate-{i}", Button).label = (
                f"{i} {t(f'rating_{i}', self.lang)} · {wait}")

    def action_rate(self, number: int) -> None:
        if self.revealed:
            self.post_message(Answered(number))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "reveal":
            self.action_reveal()
        elif event.button.id and event.button.id.startswith("rate-"):
            self.action_rate(int(event.button.id[-1]))


@widget_for("recall")
def _recall(shown: Presented, lang: str) -> Widget:
    return RecallAnswer(shown, lang)
