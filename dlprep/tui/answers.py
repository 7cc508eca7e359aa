"""One answer widget per card type. Each posts :class:`Answered`; none grades or saves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, OptionList, SelectionList
from textual.widgets.option_list import Option

from dlprep.bank.cards import Numeric, TrueFalse
from dlprep.study.grading import Rating
from dlprep.study.present import Choice, Presented
from dlprep.study.strings import t
from dlprep.tui.messages import Answered

_DIGITS: list[BindingType] = [Binding(str(i), f"pick({i})", show=False) for i in range(1, 10)]


class McqAnswer(OptionList):
    """Keys 1-9 answer at once; arrows + Enter or a click work too."""

    BINDINGS = _DIGITS

    def __init__(self, choices: tuple[Choice, ...]) -> None:
        self.choices = choices
        super().__init__(*(Option(f"{i}. {c.text}", id=str(i - 1))
                           for i, c in enumerate(choices, 1)), id="answer")

    def action_pick(self, number: int) -> None:
        if number <= len(self.choices):
            self.post_message(Answered(self.choices[number - 1].key))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(Answered(self.choices[event.option_index].key))


class TrueFalseAnswer(McqAnswer):
    """t / f for true-false cards; for myth-or-fact cards 1 fact, 2 or m myth ("f" would be
    ambiguous between false and fact, so it is off there)."""

    BINDINGS = [Binding("t", "letter('t')", show=False), Binding("f", "letter('f')", show=False),
                Binding("m", "letter('m')", show=False)]

    def __init__(self, card: TrueFalse, lang: str) -> None:
        words = ("fact", "myth") if card.myth else ("true", "false")
        self.myth = card.myth
        self.values = (True, False)
        super().__init__((Choice("true", t(words[0], lang)), Choice("false", t(words[1], lang))))

    def action_pick(self, number: int) -> None:
        if number <= 2:
            self.post_message(Answered(self.values[number - 1]))

    def action_letter(self, letter: str) -> None:
        if self.myth and letter == "m":
            self.action_pick(2)
        elif not self.myth and letter in "tf":
            self.action_pick(1 if letter == "t" else 2)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(Answered(self.values[event.option_index]))


class MultiAnswer(SelectionList[str]):
    """Space (or a digit, or a click) toggles; Enter submits."""

    BINDINGS = [Binding("enter", "submit", "Submit"),
                *[Binding(str(i), f"toggle_nth({i})", show=False) for i in range(1, 10)]]

    def __init__(self, choices: tuple[Choice, ...]) -> None:
        super().__init__(*((f"{i}. {c.text}", c.key) for i, c in enumerate(choices, 1)),
                         id="answer")

    def action_toggle_nth(self, number: int) -> None:
        if number <= self.option_count:
            self.toggle(self.get_option_at_index(number - 1).value)

    def action_submit(self) -> None:
        self.post_message(Answered(list(self.selected)))


class OrderAnswer(OptionList):
    """↑/↓ pick an item, Shift+↑/↓ (or u/d) move it, Enter submits."""

    BINDINGS = [Binding("shift+up,u", "move(-1)", "Move up"),
                Binding("shift+down,d", "move(1)", "Move down"),
                Binding("enter", "submit", "Submit")]

    def __init__(self, choices: tuple[Choice, ...]) -> None:
        self.items = list(choices)
        super().__init__(*self._item_options(), id="answer")

    def _item_options(self) -> list[Option]:
        return [Option(f"{i}. {c.text}") for i, c in enumerate(self.items, 1)]

    def action_move(self, delta: int) -> None:
        index = self.highlighted
        if index is None or not 0 <= index + delta < len(self.items):
            return
        items = self.items
        items[index], items[index + delta] = items[index + delta], items[index]
        self.set_options(self._item_options())
        self.highlighted = index + delta

    def action_submit(self) -> None:
        self.post_message(Answered([c.key for c in self.items]))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click only picks the item to move


class OrderPanel(Vertical):
    """The order list with buttons, so it works with the mouse too."""

    def __init__(self, choices: tuple[Choice, ...], lang: str) -> None:
        super().__init__(id="order-panel")
        self.choices = choices
        self.lang = lang

    def compose(self) -> ComposeResult:
        yield OrderAnswer(self.choices)
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


class NumericAnswer(Input):
    def __init__(self, card: Numeric, lang: str) -> None:
        hint = (t("type_answer", lang, example=f"4 {card.unit}") if card.unit
                else t("type_number", lang, example="0.25"))
        super().__init__(placeholder=hint, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(Answered(event.value))


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
        self.refresh_bindings()
        self.query_one("#reveal").display = False
        # Built on reveal, not with the card: Markdown (markdown-it, pygments) costs start-up.
        from textual.widgets import Markdown

        text = f"**{t('model_answer', self.lang)}**\n\n{self.shown.expected_text()}"
        self.mount(Markdown(text, id="model-answer"), before="#ratings")
        self.query_one("#ratings").display = True
        self.focus()

    def action_rate(self, number: int) -> None:
        if self.revealed:
            self.post_message(Answered(Rating(number)))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "reveal":
            self.action_reveal()
        elif event.button.id and event.button.id.startswith("rate-"):
            self.action_rate(int(event.button.id[-1]))


def answer_widget(shown: Presented, lang: str) -> McqAnswer | MultiAnswer | OrderPanel | \
        NumericAnswer | RecallAnswer:
    card = shown.card
    if isinstance(card, TrueFalse):
        return TrueFalseAnswer(card, lang)
    if isinstance(card, Numeric):
        return NumericAnswer(card, lang)
    if shown.kind == "mcq":
        return McqAnswer(shown.choices)
    if shown.kind == "multi":
        return MultiAnswer(shown.choices)
    if shown.kind == "order":
        return OrderPanel(shown.choices, lang)
    return RecallAnswer(shown, lang)
