"""A question whose only Markdown is inline code, emphasis and strong emphasis, as spans.

Textual's Markdown widget costs start-up (markdown-it, Textual's Markdown module, a parse),
and most questions that need it use nothing but a few code spans. For one paragraph whose
only Markdown is `code`, *emphasis* or **strong emphasis**, :func:`inline_spans` returns the
text as Textual's Markdown widget would show it, cut into styled runs, so a plain widget can
draw it. The recogniser is deliberately small: whatever it is not sure of (escapes, links,
HTML, nested or unmatched delimiters, a ``*`` that could both open and close, underscores
as emphasis, two paragraphs, lists, fences) returns None, and the Markdown widget draws it.
"""

from __future__ import annotations

import re
import string

from dlprep.study.present import BLOCK_START, INLINE_MARKDOWN

# Styles, named as the component classes of Textual's MarkdownBlock that draw them.
CODE, EM, STRONG = "code_inline", "em", "strong"
Span = tuple[str, str]  # (text, style); "" is plain text

_TOKEN = re.compile(r"`[^`]*`|\*+")
_PUNCT = frozenset(string.punctuation)


def _kind(char: str) -> str | None:
    """How CommonMark's flanking rules see ``char``; None where this module will not judge
    (non-ASCII punctuation, symbols or spaces)."""
    if char == " ":
        return "space"
    if char in _PUNCT:
        return "punct"
    return "word" if char.isalnum() else None


def _delimiter(line: str, start: int, end: int) -> str | None:
    """"open" or "close" for the ``*`` run ``line[start:end]`` when CommonMark lets it do only
    that; None when it could do both (``a*b*c``), neither, or this module cannot tell."""
    before = _kind(line[start - 1]) if start > 0 else "space"  # a line's edge is whitespace
    after = _kind(line[end]) if end < len(line) else "space"
    if before is None or after is None:
        return None
    left = after != "space" and (after != "punct" or before in ("space", "punct"))
    right = before != "space" and (before != "punct" or after in ("space", "punct"))
    if left and not right:
        return "open"
    if right and not left:
        return "close"
    return None


def _line_spans(line: str) -> list[Span] | None:
    spans: list[Span] = []
    opened: tuple[str, int] | None = None  # the open run and where its text starts
    pos = 0
    for token in _TOKEN.finditer(line):
        text = line[pos:token.start()]
        if INLINE_MARKDOWN.search(text):
            return None
        pos = token.end()
        run = token.group()
        if run.startswith("`"):
            code = run[1:-1]
            # no nesting; Markdown trims a code span's edge spaces, judged here not worth it
            if opened or not code.strip() or code != code.strip():
                return None
            spans += [(text, ""), (code, CODE)]
        elif len(run) > 2:
            return None
        elif opened is None:
            if _delimiter(line, token.start(), token.end()) != "open":
                return None
            spans.append((text, ""))
            opened = (run, token.end())
        else:
            if run != opened[0] or _delimiter(line, token.start(), token.end()) != "close":
                return None
            spans.append((text, EM if run == "*" else STRONG))
            opened = None
    rest = line[pos:]
    if opened or INLINE_MARKDOWN.search(rest):
        return None
    return [*spans, (rest, "")]


def inline_spans(text: str) -> tuple[Span, ...] | None:
    """``text`` as Textual's Markdown widget shows it, as (text, style) runs, when it is one
    paragraph whose only Markdown is code spans, emphasis and strong emphasis; else None.

    Lines are judged one at a time: a code span or emphasis never crosses a line break, and
    a line may not start a block (the first as it is, later ones without their indent). The
    text is joined as Markdown joins it: a line break is a space, runs of whitespace outside
    code collapse to one space.
    """
    if "\\" in text or re.search(r"[^\S \n]", text):  # escapes; tabs, no-break spaces
        return None
    lines = text.strip("\n").rstrip().split("\n")
    if len(lines) > 1 and any(not line.strip() or "|" in line or line.endswith(" ")
                              for line in lines):
        return None  # a second paragraph, a table, a hard break
    spans: list[Span] = []
    for i, line in enumerate(lines):
        line = line if i == 0 else line.strip()
        found = None if BLOCK_START.match(line) else _line_spans(line)
        if found is None:
            return None
        spans += [(" ", "")] if i else []
        spans += found
    merged: list[Span] = []
    for part, style in spans:
        if style != CODE:  # Textual collapses whitespace in text, not in code
            part = re.sub(r" +", " ", part)
        if merged and merged[-1][1] == style == "":
            merged[-1] = (re.sub(r" +", " ", merged[-1][0] + part), "")
        elif part:
            merged.append((part, style))
    return tuple(merged)
