"""Code spans and emphasis as spans: what is recognised reads as Textual's Markdown shows it,
and whatever the recogniser is not sure of falls back to the Markdown widget."""

from __future__ import annotations

import re

import pytest

from dlprep.study.inline import CODE, EM, STRONG, inline_spans

from .test_question import _real_questions


def _as_textual_shows(text: str) -> tuple[tuple[str, str], ...] | None:
    """The runs Textual's Markdown widget draws for ``text`` (as
    ``MarkdownBlock._token_to_content`` builds them), when markdown-it makes it one paragraph
    of text, soft breaks, code spans, emphasis and strong emphasis; else None."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("gfm-like").parse(text)  # Textual's default parser
    if [t.type for t in tokens] != ["paragraph_open", "inline", "paragraph_close"]:
        return None
    runs: list[tuple[str, str]] = []
    styles = [""]
    for child in tokens[1].children or []:
        if child.type == "text":
            runs.append((re.sub(r"\s+", " ", child.content), styles[-1]))
        elif child.type == "softbreak":
            runs.append((" ", styles[-1]))
        elif child.type == "code_inline":
            runs.append((child.content, CODE))
        elif child.type in ("em_open", "strong_open"):
            styles.append(EM if child.type == "em_open" else STRONG)
        elif child.type in ("em_close", "strong_close"):
            styles.pop()
        else:
            return None
    merged: list[tuple[str, str]] = []
    for text_, style in runs:
        if merged and merged[-1][1] == style != CODE:
            merged[-1] = (merged[-1][0] + text_, style)
        elif text_:
            merged.append((text_, style))
    return tuple(merged)


INLINE = {
    "What does `torch.no_grad()` do?":
        (("What does ", ""), ("torch.no_grad()", CODE), (" do?", "")),
    "Is *this* emphasised?": (("Is ", ""), ("this", EM), (" emphasised?", "")),
    "Is **this** strong?": (("Is ", ""), ("this", STRONG), (" strong?", "")),
    "`nn.Linear`다. 모든 층은": (("nn.Linear", CODE), ("다. 모든 층은", "")),
    "Call `a  b`, then   *see*\nwhat `x_` gives.\n": (
        ("Call ", ""), ("a  b", CODE), (", then ", ""), ("see", EM), (" what ", ""),
        ("x_", CODE), (" gives.", "")),
    "(**epoch**) and `[x](y)` as code": (
        ("(", ""), ("epoch", STRONG), (") and ", ""), ("[x](y)", CODE), (" as code", "")),
    "Myth or fact: one pass is one **에폭(epoch)** 하나.": (
        ("Myth or fact: one pass is one ", ""), ("에폭(epoch)", STRONG), (" 하나.", "")),
}


@pytest.mark.parametrize("text", INLINE)
def test_code_and_emphasis_become_spans(text: str) -> None:
    assert inline_spans(text) == INLINE[text] == _as_textual_shows(text)


FALL_BACK = [
    "a*b*c inside a word",  # each * could open and close
    "**출력**은 음수",  # the same: a particle right after the closing run
    "An \\`escaped\\` backtick",
    "An \\* escaped star and `code`",
    "An unmatched ` backtick",
    "Three ` back ` ticks `",
    "A ``double`` backtick span",
    "`code` across\nlines`",
    "**a*b**",  # nested
    "*a `code` inside*",  # code inside emphasis
    "***both***",
    "**strong* mismatched",
    "*unclosed emphasis",
    "closed* only",
    "A [link](https://example.org) and `code`",
    "`code` and <b>html</b>",
    "`code` and &amp; an entity",
    "`code` and model.py",
    "`code` and $x^2$",
    "`code` and ~~struck~~",
    "_under_ emphasis and `code`",
    "__strong__ underscores and `code`",
    "`x`_y_ after code",
    "`code` then\n\na second paragraph",
    "- `a` list",
    "1. `a` list",
    "# `a` heading",
    "    `indented` code",
    "`code`\n===",
    "```\nfence\n```",
    "`code` with a hard break  \nhere",
    "` spaced `",
    "*emphasis\nacross* lines",
    "`code`\tand a tab",
    "`code` and a\u00a0no-break space",
    "*x* −*y*",  # a non-ASCII sign beside a delimiter: not judged here
]


@pytest.mark.parametrize("text", FALL_BACK)
def test_what_the_recogniser_is_not_sure_of_falls_back(text: str) -> None:
    assert inline_spans(text) is None


def test_every_real_question_taken_reads_as_markdown_shows_it() -> None:
    questions = _real_questions() + list(INLINE)
    taken = {q: spans for q in questions if (spans := inline_spans(q)) is not None}
    assert len(taken) > len(questions) / 2
    assert [q for q, spans in taken.items() if spans != _as_textual_shows(q)] == []
