"""Card text for a plain terminal: inline Markdown as plain text, wrapped on word boundaries.

``dlprep quiz --plain`` prints what the TUI draws with widgets. Code spans and emphasis lose
their markers (the TUI shows them as styles), and every line is wrapped to the terminal's
width by display cells, so a Korean line (two cells a syllable) wraps where it should and no
word is cut in two unless it alone is wider than the line.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

from dlprep.study.inline import inline_spans

# What inline_spans declines (it is conservative): plain code spans and balanced ** or *
# around a word, enough for the bank's explanations; anything else stays as written.
_CODE = re.compile(r"`([^`\n]+)`")
_STRONG = re.compile(r"\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITEM = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)")


def plain_markdown(text: str) -> str:
    """``text`` with code spans and emphasis shown as their words; code blocks unchanged."""
    out: list[str] = []
    for i, part in enumerate(text.split("```")):
        if i % 2:  # inside a fence: keep it, markers and all
            out.append("```" + part + "```")
            continue
        spans = inline_spans(part) if "\n\n" not in part.strip() else None
        if spans is not None:
            out.append("".join(span for span, _style in spans))
        else:
            out.append(_EM.sub(r"\1", _STRONG.sub(r"\1", _CODE.sub(r"\1", part))))
    return "".join(out)


def wrap(text: str, width: int, indent: str = "") -> str:
    """Each line of ``text`` wrapped to ``width`` cells on spaces; a list item's further
    lines hang under its text, and ``indent`` starts every line."""
    width = max(20, width)
    lines: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            lines.append(indent + line)
            continue
        if fenced or not line.strip():
            lines.append(indent + line if line.strip() else "")
            continue
        item = _ITEM.match(line)
        lead = item.group(1) if item else line[:len(line) - len(line.lstrip())]
        first = indent + lead
        hang = indent + " " * cell_len(lead)  # a list item's text hangs under its text
        lines.extend(_fill(line[len(lead):], width, first, hang))
    return "\n".join(lines)


def _fill(line: str, width: int, first: str, rest: str) -> list[str]:
    words = line.split()
    out: list[str] = []
    current, room = first, width - cell_len(first)
    started = False
    for word in words:
        size = cell_len(word)
        if started and size + 1 > room:
            out.append(current)
            current, room, started = rest, width - cell_len(rest), False
        if not started and size > room:  # one word wider than a line: cut it by cells
            for piece in _cut(word, room, width - cell_len(rest)):
                if started:
                    out.append(current)
                    current, room = rest, width - cell_len(rest)
                current += piece
                room -= cell_len(piece)
                started = True
            continue
        current += (" " if started else "") + word
        room -= size + (1 if started else 0)
        started = True
    out.append(current)
    return out


def _cut(word: str, first: int, rest: int) -> list[str]:
    pieces, piece, room = [], "", max(1, first)
    for char in word:
        if cell_len(piece + char) > room and piece:
            pieces.append(piece)
            piece, room = "", max(1, rest)
        piece += char
    return [*pieces, piece]
