"""Card text (Markdown with code and inline math) as the HTML an Anki field shows."""

from __future__ import annotations

import html
from functools import cache
from typing import Any

from dlprep.bank.cards import Text


@cache
def _parser() -> Any:
    from markdown_it import MarkdownIt  # ships with rich

    # Raw HTML in a card is shown as text, never rendered: a card file is not trusted.
    return MarkdownIt("commonmark", {"html": False, "breaks": False}).enable("table")


def markdown(text: str) -> str:
    """Markdown → HTML; a single paragraph loses its <p> so it sits inline in a field."""
    out: str = _parser().render(text.strip()).strip()
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return out


def plain(text: str) -> str:
    return html.escape(text)


def in_langs(text: Text | str, langs: tuple[str, ...], render: Any = markdown) -> str:
    """One field in the chosen languages; with both, each in its own marked block."""
    if isinstance(text, str):
        return render(text)
    if len(langs) == 1:
        return render(text.get(langs[0]))
    return "".join(f'<div class="lang-{lang}" lang="{lang}">{render(text.get(lang))}</div>'
                   for lang in langs)

