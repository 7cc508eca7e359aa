"""Code spans and emphasis as spans: what is recognised reads as Textual's Markdown shows it,
and whatever the recogniser is not sure of falls back to the Markdown widget; which cards load
the Markdown parser at all."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from dlprep.study.inline import CODE, EM, STRONG, inline_spans

from .conftest import BANK_DIR
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


PROBE = """
import asyncio, json, random, sys
from dlprep.bank.loader import Bank, load_paths
from dlprep.study.store import open_store
from dlprep.tui.app import build_app

async def main():
    from pathlib import Path
    bank = load_paths([Path({bank!r})], builtin=None)
    seen = {{}}
    for card_id in ("t-mcq", "t-recall"):
        app = build_app(bank=Bank(cards={{card_id: bank.cards[card_id]}}), store=open_store(),
                        start=True, rng=random.Random(1), fuzz=False)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            seen[card_id] = "markdown_it" in sys.modules
            if card_id == "t-recall":
                await pilot.press("space")
                await pilot.pause()
                seen["revealed"] = "markdown_it" in sys.modules
    print(json.dumps(seen))

asyncio.run(main())
"""


def test_plain_cards_never_load_the_markdown_parser() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE.format(bank=str(BANK_DIR))],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # A recall card's model answer is Markdown, built only once it is revealed.
    assert seen == {"t-mcq": False, "t-recall": False, "revealed": True}


def test_model_answers_unwrap_their_yaml_line_breaks() -> None:
    from dlprep.study.present import unwrap

    assert unwrap("one line\nsame paragraph\n\nnew paragraph\n") == (
        "one line same paragraph\n\nnew paragraph")
    assert unwrap("Two kinds:\n- first\n- second\n1. one\n   indented") == (
        "Two kinds:\n- first\n- second\n1. one\n   indented")
    code = "Use:\n```python\nx = 1\ny = 2\n```\n"
    assert unwrap(code) == code.strip()
