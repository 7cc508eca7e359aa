"""The quiz app and its one factory, used by ``dlprep quiz`` and by the tests.

The app alone navigates: screens post requests (:mod:`dlprep.tui.messages`) or dismiss a
result. It owns the session, the mock interview's countdown, the retry of unsaved
answers (:mod:`dlprep.tui.saving`), the language, and what a demo panel needs to run
(:mod:`dlprep.tui.demo_host`). Only one full screen is on the stack at a
time (each replaces the last); the demo panel, stats, help and confirmations go over it.

Everything with side effects is injected (bank, store, clock, randomness, demo stream),
so Pilot and snapshot tests are deterministic and need no torch.
"""

from __future__ import annotations

import gc
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer

from dlprep.study.plan import Spec
from dlprep.study.schedule import Scheduler, utc_now
from dlprep.study.store import Store
from dlprep.study.strings import t
from dlprep.tui import messages as msg
from dlprep.tui.demo_host import DemoHost, StreamFn, real_demos, real_stream, warm_torch
from dlprep.tui.saving import SaveHost

if TYPE_CHECKING:  # startup speed: none of these is needed to paint the first screen
    from dlprep.bank.cache import CachedBank
    from dlprep.bank.loader import Bank
    from dlprep.registry import DemoInfo
    from dlprep.study.session import Session

TICK_SECONDS = 0.5  # countdown redraw


def resume_gc() -> None:
    """Turn the collector back on after a start-up that ran with it paused (``dlprep quiz``).

    What start-up built lives as long as the app, so it is frozen out of later collections.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def first_screen_css(start: bool) -> list[str | PurePath]:
    """The CSS of the screen a start shows first: a card (or, when nothing is due, the
    session summary), else the home screen."""
    return ["card.tcss", "feedback.tcss"] if start else ["home.tcss"]


class QuizApp(DemoHost, SaveHost):
    # Each screen has its own layout rules (its CSS_PATH), loaded when it is first shown, so
    # a start parses only the first screen's. That screen is built after the app's CSS is
    # read, so its file is the app's CSS (see first_screen_css).
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
    ]

    def __init__(self, *, bank: Bank | CachedBank, store: Store, spec: Spec, lang: str, start: bool,
                 scheduler: Scheduler, rng: random.Random, stream: StreamFn,
                 demos: Callable[[], Mapping[str, DemoInfo]], demo_seed: int,
                 notices: Sequence[str] = (), warm: Callable[[], None] = warm_torch) -> None:
        super().__init__(css_path=first_screen_css(start))
        self.bank = bank
        self.store = store
        self.spec = spec
        self.lang = lang
        self.start_now = start
        self.scheduler = scheduler
        self.rng = rng
        self.stream = stream
        self.demos = demos
        self.demo_seed = demo_seed
        self.session: Session | None = None
        self.notices = list(notices)
        self.warm = warm
        self.warmed: threading.Thread | None = None
        self.countdown: Timer | None = None
        self.retry: Timer | None = None
        self._quit_asked = False

    # -- navigation -----------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        # The first screen is built here rather than pushed over a blank one (a second
        # layout pass before the first card costs ~20 ms). A result callback lets
        # switch_screen replace it like any other screen: no screen stays below forever.
        screen = self._first_screen()
        screen._push_result_callback(screen, None)
        return screen

    def _first_screen(self) -> Screen[Any]:
        if self.start_now:
            self._new_session(self.spec)
            return self._session_screen()
        from dlprep.tui.home import HomeScreen

        return HomeScreen()

    def on_mount(self) -> None:
        self.call_after_refresh(resume_gc)
        self.call_after_refresh(self._first_card_seen)
        self.title = t("app_title", self.lang)
        for notice in [*self.notices, self.store.notice]:
            if notice:
                self.notify(notice, severity="warning", timeout=15)

    def _first_card_seen(self) -> None:
        # The first card was presented while the app was starting; its answer time (and a
        # mock interview's countdown) start when the learner can see it.
        if self.session is not None:
            self.session.restart_clock()

    def _show(self, screen: Screen[Any]) -> None:
        """Replace what is on screen (and anything over it) with ``screen``."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.switch_screen(screen)

    def _new_session(self, spec: Spec) -> None:
        from dlprep.study.session import Session  # the home screen needs none of it

        self.spec = spec
        self._stop_countdown()
        self.session = Session(self.bank.cards, self.store, self.scheduler, spec, self.lang,
                               self.rng)
        if spec.mode == "mock":
            self.session.current()  # the interview's clock starts with its first card
            self.countdown = self.set_interval(TICK_SECONDS, self.tick, name="countdown")

    def _session_screen(self) -> Screen[Any]:
        session = self.session
        assert session is not None
        if session.current() is None:
            self._stop_countdown()
            from dlprep.tui.feedback import SummaryScreen

            return SummaryScreen(session)
        from dlprep.tui.card import CardScreen

        return CardScreen(session)

    def _stop_countdown(self) -> None:
        if self.countdown is not None:
            self.countdown.stop()
            self.countdown = None

    def tick(self) -> None:
        """The mock interview's countdown: redraw it, and end the interview at zero."""
        from dlprep.tui.card import CardScreen

        session = self.session
        if session is None or self.countdown is None:
            return
        if session.out_of_time():
            self._show(self._session_screen())
        elif isinstance(self.screen, CardScreen):
            self.screen.show_status()

    def on_go_home(self, _: msg.GoHome) -> None:
        from dlprep.tui.home import HomeScreen

        self._stop_countdown()
        self._show(HomeScreen())

    def on_next_card(self, _: msg.NextCard) -> None:
        self._show(self._session_screen())

    def on_start_session(self, message: msg.StartSession) -> None:
        self._new_session(message.spec)
        self._show(self._session_screen())

    def on_switch_language(self, message: msg.SwitchLanguage) -> None:
        from dlprep.tui.home import HomeScreen

        if message.spec is not None:
            self.spec = message.spec
        self.lang = "en" if self.lang == "ko" else "ko"
        self.title = t("app_title", self.lang)
        self._show(HomeScreen())

    def on_show_stats(self, _: msg.ShowStats) -> None:
        from dlprep.tui.info import StatsScreen

        self.push_screen(StatsScreen(), self._after_stats)

    def _after_stats(self, spec: Spec | None) -> None:
        if spec is not None:  # the learner took the suggested session
            self._new_session(spec)
            self._show(self._session_screen())

    def on_reveal_answer(self, _: msg.RevealAnswer) -> None:
        from dlprep.tui.card import CardScreen

        if self.session is not None and isinstance(self.screen, CardScreen):
            self.screen.show_intervals(self.session.reveal())

    def on_answer_card(self, message: msg.AnswerCard) -> None:
        session = self.session
        if session is None or session.current() is not message.shown:
            return  # a second press after the answer was taken
        outcome = session.answer(message.given)
        self._after_answer()
        if session.kind == "mock":
            self._show(self._session_screen())  # no feedback until the report
            return
        from dlprep.tui.feedback import FeedbackScreen

        if outcome.shown.card.demo is not None:
            self.warm_demo()
        self._show(FeedbackScreen(session, outcome))

    def on_undo_answer(self, _: msg.UndoAnswer) -> None:
        session = self.session
        if session is None or session.undo() is None:
            return
        self.notify(t("undone", self.lang), timeout=4)
        self._show(self._session_screen())

    def on_rerate(self, message: msg.Rerate) -> None:
        from dlprep.tui.feedback import FeedbackScreen

        session = self.session
        if session is None or session.rerate(message.rating) is None:
            return
        self._after_answer()
        self._show(FeedbackScreen(session, session.outcomes[-1], revealed=True))

    def on_end_interview(self, _: msg.EndInterview) -> None:
        from dlprep.tui.info import ConfirmScreen

        def end(yes: bool | None) -> None:
            if yes and self.session is not None:
                self.session.stop()
                self._show(self._session_screen())

        self.push_screen(ConfirmScreen(t("mock_end", self.lang)), end)

    # -- app-wide keys -----------------------------------------------------------------

    def action_help(self) -> None:
        from dlprep.tui.info import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def build_app(
    *,
    bank: Bank | CachedBank,
    store: Store,
    spec: Spec | None = None,
    lang: str = "en",
    start: bool = False,
    clock: Callable[[], datetime] = utc_now,
    rng: random.Random | None = None,
    stream: StreamFn = real_stream,
    demos: Callable[[], Mapping[str, DemoInfo]] | None = None,
    fuzz: bool = True,
    demo_seed: int = 0,
    notices: Sequence[str] = (),
    warm: Callable[[], None] = warm_torch,
) -> QuizApp:
    """The quiz app. Tests inject a fixed clock, a seeded rng and a fake demo stream."""
    return QuizApp(bank=bank, store=store, spec=spec or Spec(), lang=lang, start=start,
                   scheduler=Scheduler(clock, fuzz=fuzz), rng=rng or random.Random(),
                   stream=stream, demos=demos or real_demos, demo_seed=demo_seed,
                   notices=notices, warm=warm)
