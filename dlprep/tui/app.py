"""The quiz app and its one factory, used by ``dlprep quiz`` and by the tests.

Everything with side effects is injected (bank, store, clock, randomness, demo stream),
so Pilot and snapshot tests are deterministic and need no torch.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from dlprep.study.plan import Spec
from dlprep.study.schedule import Scheduler, utc_now
from dlprep.study.session import Session
from dlprep.study.store import Store
from dlprep.study.strings import t

if TYPE_CHECKING:  # startup speed: none of these is needed to paint the first card
    from dlprep.bank.loader import Bank
    from dlprep.engine.records import Event
    from dlprep.registry import DemoInfo

StreamFn = Callable[..., Iterator["Event"]]


def real_stream(name: str, **kwargs: Any) -> Iterator[Event]:
    # Imported only here: dlprep.engine.stream is what imports torch, when a demo starts.
    from dlprep.engine import stream

    return stream(name, **kwargs)


def real_demos() -> Mapping[str, DemoInfo]:
    from dlprep.registry import registry

    return registry()


def resume_gc() -> None:
    """Turn the collector back on after a start-up that ran with it paused (``dlprep quiz``).

    What start-up built lives as long as the app, so it is frozen out of later collections.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


class QuizApp(App[None]):
    CSS_PATH = "quiz.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+t", "toggle_theme", "Theme"),
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False),
    ]

    def __init__(self, *, bank: Bank, store: Store, spec: Spec, lang: str, start: bool,
                 scheduler: Scheduler, rng: random.Random, stream: StreamFn,
                 demos: Callable[[], Mapping[str, DemoInfo]], demo_seed: int,
                 notices: Sequence[str] = ()) -> None:
        super().__init__()
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
        self.demo_running = False
        self.notices = list(notices)

    def get_default_screen(self) -> Screen[Any]:
        # The first screen (home, or the session's first card) is the base of the stack:
        # pushing it over Textual's blank default screen would cost a second layout pass
        # before the first card is painted (~20 ms of start-up).
        if self.start_now:
            self._new_session(self.spec)
            return self._next_screen()
        from dlprep.tui.home import HomeScreen

        return HomeScreen()

    def on_mount(self) -> None:
        self.call_after_refresh(resume_gc)
        self.title = t("app_title", self.lang)
        for notice in [*self.notices, self.store.notice]:
            if notice:
                self.notify(notice, severity="warning", timeout=15)

    def go_home(self) -> None:
        from dlprep.tui.home import HomeScreen

        self._show(HomeScreen())

    def _show(self, screen: Screen[Any]) -> None:
        # One screen over the base (plus modals): switching keeps the stack from growing per
        # card. Textual cannot switch the base screen itself, so the first one stays below.
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _new_session(self, spec: Spec) -> None:
        self.spec = spec
        self.session = Session(self.bank.cards, self.store, self.scheduler, spec, self.lang,
                               self.rng)

    def start_session(self, spec: Spec) -> None:
        self._new_session(spec)
        self.show_next()

    def show_next(self) -> None:
        self._show(self._next_screen())

    def _next_screen(self) -> Screen[Any]:
        session = self.session
        assert session is not None
        if session.current() is None:
            from dlprep.tui.feedback import SummaryScreen

            return SummaryScreen(session)
        from dlprep.tui.card import CardScreen

        return CardScreen(session)

    def show_feedback(self) -> None:
        from dlprep.tui.feedback import FeedbackScreen

        assert self.session is not None
        if self.session.save_error:
            self.notify(self.session.save_error, severity="error", timeout=15)
            self.session.save_error = ""
        self._show(FeedbackScreen(self.session, self.session.outcomes[-1]))

    def show_stats(self) -> None:
        from dlprep.tui.info import StatsScreen

        self.push_screen(StatsScreen())

    def action_help(self) -> None:
        from dlprep.tui.info import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def build_app(
    *,
    bank: Bank,
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
) -> QuizApp:
    """The quiz app. Tests inject a fixed clock, a seeded rng and a fake demo stream."""
    return QuizApp(bank=bank, store=store, spec=spec or Spec(), lang=lang, start=start,
                   scheduler=Scheduler(clock, fuzz=fuzz), rng=rng or random.Random(),
                   stream=stream, demos=demos or real_demos, demo_seed=demo_seed,
                   notices=notices)
