"""What the home screen (``dlprep quiz`` with no options) does at start: its topic rows come
from the bank cache's index and the store's due flags, counted as the Stats screen counts
them, without fsrs, the session code or unpickling a card; a bank that turned bad since it
was cached is still refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dlprep.bank.loader import Bank
from dlprep.study import stats
from dlprep.study.overview import topic_rows
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.store import Review, Store

from .conftest import BANK_DIR, HERE
from .test_cli import MY_CARD, dlprep

HOME_ONLY = f"""
import asyncio, sys
from pathlib import Path
from dlprep.bank.loader import load_paths
from dlprep.study.store import open_store
from dlprep.tui.app import build_app
from dlprep.tui.home import HomeScreen

async def main():
    app = build_app(bank=load_paths([Path({str(BANK_DIR)!r})], builtin=None), store=open_store(),
                    warm=lambda: None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen), app.screen
        assert app.screen.query_one("#topics").option_count > 0
    print(sorted(m for m in ("fsrs", "dlprep.study.stats") if m in sys.modules))

asyncio.run(main())
"""


def test_the_home_screen_starts_without_fsrs_or_the_stats(tmp_path) -> None:
    env = {**os.environ, "DLPREP_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", HOME_ONLY], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_home_rows_count_as_the_stats_screen_does(bank: Bank, store: Store,
                                                  clock: ManualClock) -> None:
    scheduler = Scheduler(clock, fuzz=False)
    from fsrs import Rating

    ids = sorted(bank.cards)
    for i, card_id in enumerate(ids[:5]):  # reviewed: some due again by the later clock
        state = scheduler.review(None, Rating.Again if i % 2 else Rating.Easy, clock(), 1000)
        store.record(Review(card_id, clock(), 1, "x", 1000, "due"), lambda _, s=state: s)
    clock.advance(3600)
    rows = topic_rows(bank.card_topics, store.due_now(clock()))
    expected = stats.compute(bank.cards, store.states(), [], scheduler, clock()).topics
    assert [(r.topic, r.cards, r.new, r.due) for r in rows] == \
        [(s.topic, s.cards, s.new, s.due) for s in expected]
    assert sum(r.due for r in rows) > 0 and sum(r.new for r in rows) < len(ids)


# The real `dlprep quiz` start (the test bank as the built-in one), headless, stopped at the
# home screen's first paint: what it imported and whether the cards were unpickled; then
# Start, and the same for the first card.
HOME_PROBE = """
import json, sys
from pathlib import Path
from textual.app import App
import dlprep.paths as paths
import dlprep.commands.quiz as quiz_command
import dlprep.registry as registry
import dlprep.tui.home as home

here = Path({here!r})
registry.registry = lambda: registry.scan(here / "demos")
paths.builtin_bank_dir = lambda: here / "bank"
quiz_command.has_terminal = lambda: True  # headless: no terminal, the screen runs anyway
seen = {{}}
_run = App.run
App.run = lambda self, *args, **kwargs: _run(self, *args, **{{**kwargs, "headless": True}})
_home_mount = home.HomeScreen.on_mount

def home_mount(self):
    _home_mount(self)

    def painted():
        seen["home"] = {{"modules": sorted(sys.modules), "bank": type(self.app.bank).__name__,
                        "loaded": getattr(self.app.bank, "loaded", True)}}
        import dlprep.tui.card as card  # only now: it imports what a session needs
        _card_mount = card.CardScreen.on_mount

        def card_mount(screen):
            _card_mount(screen)
            seen["card"] = {{"loaded": self.app.bank.loaded, "cards": len(self.app.bank.cards)}}
            self.app.exit()

        card.CardScreen.on_mount = card_mount
        self.action_start()

    self.call_after_refresh(painted)

home.HomeScreen.on_mount = home_mount
from dlprep.cli import main
try:
    code = main(["quiz", "--lang", "en"])
except SystemExit as exc:
    code = exc.code
print("\\n@@" + json.dumps({{"code": code, **seen}}))
"""

# The home screen shows topics and counts: a session, grading and the card models wait.
NOT_AT_HOME = {"dlprep.bank.cards", "dlprep.bank.loader", "dlprep.study.session",
               "dlprep.study.kinds", "dlprep.study.grading",
               "dlprep.study.units", "dlprep.study.present", "dlprep.tui.card", "dlprep.atomic",
               "dlprep.bank.models", "dlprep.bank.yamlsafe", "dlprep.study.stats", "fsrs",
               "pydantic", "yaml"}


def test_home_from_a_warm_cache_unpickles_no_card_until_a_session_starts(tmp_path) -> None:
    env = {**os.environ, "DLPREP_HOME": str(tmp_path)}
    for _ in range(2):  # the first start fills the bank cache; the second is the usual one
        done = subprocess.run([sys.executable, "-c", HOME_PROBE.format(here=str(HERE))],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    payload = json.loads(done.stdout.rsplit("@@", 1)[1])
    at_home = payload["home"]
    assert (at_home["bank"], at_home["loaded"]) == ("CachedBank", False)
    assert set(at_home["modules"]) & NOT_AT_HOME == set()
    assert payload["card"] == {"loaded": True, "cards": 8}  # Start unpickled them


def test_a_cached_card_that_turned_invalid_is_refused_not_served(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(MY_CARD, encoding="utf-8")
    args = ("quiz", "--plain", "--cram", "--topic", "gpu", "--bank", str(mine), "--lang", "en")
    first = dlprep(*args, stdin="q\n")
    assert first.returncode == 0 and "QUESTION-ONE" in first.stdout, first.stderr
    assert (Path(os.environ["DLPREP_HOME"]) / "cache" / "bank.pickle").is_file()
    before = os.stat(mine)
    mine.write_text(MY_CARD.replace("answer: true", "answer: 4242"), encoding="utf-8")
    os.utime(mine, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    strict = dlprep(*args, "--strict", stdin="q\n")
    assert strict.returncode == 1 and "QUESTION-ONE" not in strict.stdout
    [line] = [x for x in strict.stderr.splitlines() if "mine.yaml:" in x]
    assert "my-card: answer" in line and "Traceback" not in strict.stderr
    lenient = dlprep(*args, stdin="q\n")
    assert "QUESTION-ONE" not in lenient.stdout
    [warning] = [x for x in lenient.stderr.splitlines() if "mine.yaml:" in x]
    assert warning.startswith("warning: skipped invalid card: ") and "my-card" in warning
