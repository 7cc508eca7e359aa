"""The line at the top of every quiz screen: the app's title and the screen's subtitle.

Textual's ``Header`` draws the same line from four widgets (an icon that opens the command
palette, the title, a clock or the space for one) and can grow to three lines on a click.
The quiz has no command palette and no clock, so one widget does it: every screen's first
paint builds three widgets fewer, and the start-up imports one module less.
"""

from __future__ import annotations

from textual.widgets import Static


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align: center middle;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        # init=True (the default) draws the title now; later changes redraw it
        self.watch(self.app, "title", self._retitle)
        self.watch(self.screen, "sub_title", self._retitle)

    def _retitle(self) -> None:
        self.update(self.app.format_title(self.app.title, self.screen.sub_title or ""))
