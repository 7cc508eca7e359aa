"""The app's side of saving: answers the locked progress file refused are retried.

A mixin of :class:`dlprep.tui.app.QuizApp` (the app owns the retry timer; the feedback
screen only says whether its answer is saved yet). Another dlprep holding the file must
not cost the learner an answer, nor a quit that would drop the unsaved ones silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.timer import Timer

from dlprep.study.strings import t

if TYPE_CHECKING:
    from dlprep.study.session import Session

RETRY_SECONDS = 1.0  # how often an answer the locked progress file refused is retried


class SaveHost(App[None]):
    session: Session | None
    lang: str
    retry: Timer | None
    _quit_asked: bool

    def _after_answer(self) -> None:
        """Say why an answer could not be saved, and keep retrying one the lock refused."""
        session = self.session
        assert session is not None
        if session.save_error:
            self.notify(session.save_error, severity="error", timeout=15)
            session.save_error = ""
        if session.pending and self.retry is None:
            self.retry = self.set_interval(RETRY_SECONDS, self.retry_saving, name="retry")

    def retry_saving(self) -> None:
        if self.session is None or not self.session.pending:
            self._stop_retry()
            return
        self._save_pending(self.session)

    @work(thread=True, exclusive=True, group="save")
    def _save_pending(self, session: Session) -> None:
        # A thread: each attempt may wait out SQLite's busy timeout.
        left = session.flush()
        self.call_from_thread(self._saved, left)

    def _saved(self, left: int) -> None:
        from dlprep.tui.feedback import FeedbackScreen

        if left:
            return
        self._stop_retry()
        self.notify(t("saved_after_retry", self.lang), timeout=5)
        screen = self.screen
        if isinstance(screen, FeedbackScreen) and self.session is not None:
            screen.saved(self.session.outcomes)

    def _stop_retry(self) -> None:
        if self.retry is not None:
            self.retry.stop()
            self.retry = None

    async def action_quit(self) -> None:
        session = self.session
        if session is not None and session.pending and not self._quit_asked:
            self._quit_asked = True  # a second Ctrl+Q leaves without them
            self.notify(t("pending_quit", self.lang, n=session.pending), severity="error",
                        timeout=10)
            return
        self.exit()
