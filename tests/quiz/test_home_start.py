"""What the home screen (``dlprep quiz`` with no options) does at start: its topic rows come
from the store's due flags, counted as the Stats screen counts them, without fsrs."""

from __future__ import annotations

import os
import subprocess
import sys

from dlprep.bank.loader import Bank
from dlprep.study import stats
from dlprep.study.overview import topic_rows
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.store import Review, Store

from .conftest import BANK_DIR

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
    rows = topic_rows(bank.cards, store.due_now(clock()))
    expected = stats.compute(bank.cards, store.states(), [], scheduler, clock()).topics
    assert [(r.topic, r.cards, r.new, r.due) for r in rows] == \
        [(s.topic, s.cards, s.new, s.due) for s in expected]
    assert sum(r.due for r in rows) > 0 and sum(r.new for r in rows) < len(ids)
