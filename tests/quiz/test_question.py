"""A question without Markdown syntax is shown as a plain Static that looks the same."""

from __future__ import annotations

import dataclasses
import os
import time

import pytest
import yaml
from textual.widgets import Markdown

import dlprep.tui.card
from dlprep.bank.cards import Text
from dlprep.bank.loader import Bank, card_files
from dlprep.paths import builtin_bank_dir
from dlprep.study.present import needs_markdown, plain_paragraph

PLAIN = [
    "What is the range of ReLU's output?",
    "How many bytes do 1,000,000 fp32 weights take, e.g. for a 0.5 B model (in MB)?",
    "Sigmoid's derivative peaks at 0.25; is that true? (100% sure?)",
    "은닉층에 시그모이드를 써도 ReLU만큼 빨리 학습된다.",
    "A question that ends with a newline from a YAML block scalar.\n",
    "Is x > 0 and y < 1 when fan_in = fan_out = n_in?",
    "Q & A: roughly ~4 GB | 8 GB, or #3 on the list?",
]
MARKDOWN = [
    "What does `torch.no_grad()` do?",
    "Is *this* emphasised?",
    "Is __this__ strong?",
    "# A heading",
    "- a bullet",
    "+ a bullet",
    "1. first",
    "3) third",
    "A [link](https://example.org)",
    "| a | b |\n|---|---|",
    "> a quote",
    "```\ncode\n```",
    "    indented code",
    "Inline math $x^2$",
    "Two lines\nare joined by Markdown",
    "An escaped \\* star",
    "An entity &amp; more",
    "Inline <b>html</b>",
    "~~struck~~",
    "A _word_ in underscores",
    "Ends with an underscore_",
    "See model.py for the loop",
    "Visit www.example.com",
    "---",
    "Setext\n===",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_needs_no_markdown(text: str) -> None:
    assert not needs_markdown(text)


def _shown_as_is(text: str) -> bool:
    """Whether Textual's Markdown parser makes ``text`` one paragraph of exactly that text."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("gfm-like").parse(text)  # Textual's default parser
    if [t.type for t in tokens] != ["paragraph_open", "inline", "paragraph_close"]:
        return False
    children = tokens[1].children or []
    return [c.type for c in children] == ["text"] and children[0].content == text.strip()


def _real_questions(*langs: str) -> list[str]:
    found = []
    for path in card_files(builtin_bank_dir()):
        for data in yaml.safe_load(path.read_text(encoding="utf-8")):
            found += [data["q"][lang] for lang in langs or ("en", "ko")]
    return found


def test_what_is_judged_plain_markdown_would_show_as_is() -> None:
    questions = _real_questions() + PLAIN
    plain = [q for q in questions if not needs_markdown(q)]
    assert len(plain) > len(questions) / 2  # most questions really are plain sentences
    assert [q for q in plain if not _shown_as_is(q)] == []


def _as_textual_shows(text: str) -> str | None:
    """The one paragraph Textual's Markdown widget would show for ``text``, or None if
    markdown-it makes anything but a paragraph of text and soft line breaks of it."""
    import re

    from markdown_it import MarkdownIt

    tokens = MarkdownIt("gfm-like").parse(text)
    if [t.type for t in tokens] != ["paragraph_open", "inline", "paragraph_close"]:
        return None
    children = tokens[1].children or []
    if any(c.type not in ("text", "softbreak") for c in children):
        return None
    # as textual.widgets._markdown renders them: whitespace runs collapsed, a soft break a space
    return "".join(re.sub(r"\s+", " ", c.content) if c.type == "text" else " "
                   for c in children)


MULTILINE_PLAIN = [
    "A question from a YAML block,\nwrapped by its author\nover three lines.\n",
    "Indented continuation lines\n    stay in the paragraph.",
    "은닉층의 활성화 함수로\n시그모이드를 쓰면?",
]
MULTILINE_MARKDOWN = [
    "Two kinds:\n- first\n- second",
    "Steps:\n1. one",
    "A heading\n===",
    "A heading\n---",
    "A hard break  \nhere",
    "A hard break\\\nhere",
    "Two\n\nparagraphs",
    "| a | b |\n|---|---|",
    "Quoted:\n> text",
    "Code:\n```\nx = 1\n```",
    "Joined *emphasis\nacross* lines",
]


@pytest.mark.parametrize("text", MULTILINE_PLAIN)
def test_yaml_line_breaks_alone_need_no_markdown(text: str) -> None:
    assert needs_markdown(text)  # a line break: as it is, the text would not read the same
    assert plain_paragraph(text) == _as_textual_shows(text) is not None


@pytest.mark.parametrize(
    "text", MULTILINE_MARKDOWN + [m for m in MARKDOWN if m != "Two lines\nare joined by Markdown"])
def test_line_breaks_with_markdown_still_need_it(text: str) -> None:
    assert plain_paragraph(text) is None


def test_every_question_shown_plain_reads_as_markdown_would_show_it() -> None:
    questions = _real_questions() + PLAIN + MULTILINE_PLAIN
    shown = {q: plain_paragraph(q) for q in questions}
    plain = [q for q, text in shown.items() if text is not None]
    assert len(plain) > len([q for q in questions if not needs_markdown(q)])  # YAML blocks too
    assert [q for q in plain if shown[q] != _as_textual_shows(q)] == []


@pytest.mark.parametrize("text", MARKDOWN)
def test_markdown_syntax_is_noticed(text: str) -> None:
    assert needs_markdown(text)


LONG = Text(
    en="When a network's training loss stops falling after a few epochs while the validation "
       "loss keeps rising, which single change would you try first, and why would it help?",
    ko="몇 에폭 뒤 학습 손실은 더 줄지 않는데 검증 손실은 계속 오른다면, 가장 먼저 무엇을 바꿔 "
       "보겠는가? 그리고 그것이 왜 도움이 되는가?",
)


# The same question as a YAML block leaves it: the author's line breaks, which Markdown joins.
LONG_LINES = Text(
    en="When a network's training loss stops falling after a few epochs\nwhile the validation "
       "loss keeps rising, which single change would\nyou try first, and why would it help?\n",
    ko="몇 에폭 뒤 학습 손실은 더 줄지 않는데\n검증 손실은 계속 오른다면, 가장 먼저 무엇을 바꿔 "
       "보겠는가?\n그리고 그것이 왜 도움이 되는가?\n",
)


def _screen_cells(app) -> list[list[tuple[str, str]]]:
    """Every screen cell as (character, style).

    Cells rather than an SVG: the SVG also records how each row was cut into segments, which
    differs (Markdown pads its paragraph from inside) where nothing visible does.
    """
    strips = app.screen._compositor.render_strips()
    return [[(ch, str(seg.style)) for seg in strip for ch in seg.text] for strip in strips]


async def _settle(app, pilot) -> None:
    # the footer composes its keys a frame or more later: wait for them (on a loaded machine
    # one pause is not always enough), then for the frame that draws them
    deadline = time.monotonic() + 30
    while not app.screen.query("FooterKey") and time.monotonic() < deadline:
        await pilot.pause(0.01)
    await pilot.pause()


async def _cells(make_app, bank: Bank, lang: str, question: Text = LONG
                 ) -> tuple[str, list[list[tuple[str, str]]]]:
    """The question widget's class and every screen cell as (character, style)."""
    bank.cards["t-mcq"] = dataclasses.replace(bank.cards["t-mcq"], q=question)
    app = make_app(only=("t-mcq",), start=True, lang=lang)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        await _settle(app, pilot)
        return type(app.screen.query_one("#question")).__name__, _screen_cells(app)


def _draw_as_markdown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlprep.tui.card, "plain_paragraph", lambda text: None)
    monkeypatch.setattr(dlprep.tui.card, "inline_spans", lambda text: None)


@pytest.mark.parametrize("question", [LONG, LONG_LINES], ids=["one-line", "yaml-lines"])
@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_plain_question_looks_like_the_markdown_one(
    make_app, bank: Bank, lang: str, question: Text, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_kind, plain = await _cells(make_app, bank, lang, question)
    _draw_as_markdown(monkeypatch)
    markdown_kind, markdown = await _cells(make_app, bank, lang, question)
    assert (plain_kind, markdown_kind) == ("Static", "Markdown")
    question_rows = ["".join(ch for ch, _ in row) for row in plain[2:7]]
    assert sum(1 for row in question_rows if row.strip()) >= 3  # it wraps, so wrapping is tested
    assert plain == markdown


async def _swap_question(app, pilot, widget) -> list[list[tuple[str, str]]]:
    """Every screen cell once ``widget`` has replaced the card's question."""
    from textual.widgets._markdown import MarkdownParagraph

    await app.screen.query_one("#question").remove()
    await app.screen.query_one("#card-body").mount(widget, before=0)
    deadline = time.monotonic() + 30  # a Markdown widget builds its blocks after mounting
    while (isinstance(widget, Markdown) and not widget.query(MarkdownParagraph)
           and time.monotonic() < deadline):
        await pilot.pause(0.01)
    await pilot.pause()
    return _screen_cells(app)


@pytest.mark.parametrize(("lang", "size", "theme"), [
    ("en", (80, 24), "textual-dark"), ("ko", (80, 24), "textual-dark"),
    ("en", (120, 40), "textual-dark"), ("ko", (120, 40), "textual-dark"),
    ("en", (80, 24), "textual-light"),  # Ctrl+T: inline code has its own light colours
], ids=["en-80x24", "ko-80x24", "en-120x40", "ko-120x40", "en-80x24-light"])
async def test_inline_markdown_questions_look_as_the_markdown_widget_draws_them(
    make_app, bank: Bank, lang: str, size: tuple[int, int], theme: str
) -> None:
    """Every real question drawn from spans (code, emphasis) is drawn cell for cell as the
    Markdown widget draws it: text, wrapping and styles."""
    from dlprep.study.inline import inline_spans

    questions = [q for q in _real_questions(lang)
                 if plain_paragraph(q) is None and inline_spans(q) is not None]
    assert len(questions) > 60  # most questions with Markdown use only code spans
    # The test budget (make test within 5 minutes as the bank grows): every second question
    # at 80x24 in its language, and the wide and light layouts every fourth of the others, so
    # that between them three questions in four are drawn; DLPREP_FULL_TESTS=1 (the nightly
    # run) draws every question in every layout.
    if not os.environ.get("DLPREP_FULL_TESTS"):
        main_layout = (size, theme) == ((80, 24), "textual-dark")
        questions = questions[::2] if main_layout else questions[1::4]
    app = make_app(only=("t-mcq",), start=True, lang=lang)
    async with app.run_test(size=size) as pilot:
        app.theme = theme
        await pilot.pause()
        await _settle(app, pilot)
        differ = []
        for question in questions:
            spans = dlprep.tui.card.question_widget(question)
            assert type(spans).__name__ == "InlineQuestion"
            drawn = await _swap_question(app, pilot, spans)
            markdown = await _swap_question(app, pilot, Markdown(question, id="question"))
            if drawn != markdown:
                differ.append(question)
    assert differ == []


@pytest.mark.parametrize(("question", "widget"), [
    ("What does `relu` return, *exactly*?", "InlineQuestion"),
    ("What does `relu` return?\n```python\nrelu(x)\n```", "Markdown"),
    ("What does [relu](https://pytorch.org) return?", "Markdown"),
])
async def test_only_a_question_beyond_code_and_emphasis_uses_markdown(
    make_app, bank: Bank, question: str, widget: str
) -> None:
    bank.cards["t-mcq"] = dataclasses.replace(bank.cards["t-mcq"], q=Text(en=question, ko=question))
    app = make_app(only=("t-mcq",), start=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert type(app.screen.query_one("#question")).__name__ == widget
