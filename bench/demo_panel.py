"""The quiz's demo panel against the plain CLI run of the same demo, in one bench run.

1. Panel overhead (issue 14): the panel (headless Textual app at 80x24, drawing as a
   learner sees it) runs ``activations`` from pressing run to its verdict; the same demo
   runs as ``dlprep demo activations --plain`` in a subprocess. Target: panel <= 1.2x plain.
2. First chart point (issue 9 item 6): a demo card's feedback starts importing torch in
   the background; with the panel open for 3 s, pressing run must show the first point
   within 0.3 s. Measured warm (as the app does it) and cold (warm-up switched off).

Usage: python bench/demo_panel.py [demo] [--repeat N] (default: activations, 2 repeats).
Runs each case N times, interleaved, and reports the median; the ratios are against the
runs measured in this same bench run (the ratio of each repeat is printed too).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import verdict  # noqa: E402

REPEAT = 2
WARM_WAIT = 12.0  # for the overhead run: let the background import finish first
CODE = '''
import asyncio, sys, time
sys.path.insert(0, {bench!r})
from demo_panel import panel_run
print(asyncio.run(panel_run({demo!r}, warm={warm!r}, wait={wait!r})))
'''


def _card(demo: str):  # a one-card bank linking ``demo``
    from dlprep.bank.cards import DemoLink, Text, TrueFalse

    return TrueFalse(id="bench-card", topic="activations", difficulty=1, type="truefalse",
                     q=Text(en="Bench card", ko="벤치 카드"), answer=True,
                     explain=Text(en="Bench.", ko="벤치."), refs=("bench",),
                     demo=DemoLink(name=demo))


async def panel_run(demo: str, *, warm: bool, wait: float) -> str:
    """'first_point_s panel_s bare_s' of one panel run in this (fresh) interpreter, and
    of the same demo's stream read bare afterwards (torch equally warm for both)."""
    from dlprep.bank.loader import Bank
    from dlprep.study.schedule import ManualClock
    from dlprep.study.store import memory_store
    from dlprep.tui.app import build_app, warm_torch
    from dlprep.tui.demo import DemoScreen

    card = _card(demo)
    app = build_app(bank=Bank(cards={card.id: card}), store=memory_store(), start=True,
                    clock=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)),
                    rng=random.Random(0), fuzz=False,
                    warm=warm_torch if warm else (lambda: None))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("t")  # the feedback of a demo card: the warm-up starts here
        await pilot.pause()
        await pilot.press("d")
        await asyncio.sleep(wait)  # the learner reads the panel and types a prediction
        screen = app.screen
        assert isinstance(screen, DemoScreen)
        first: list[float] = []
        done = asyncio.Event()
        original = screen.show_run

        def spy(run, what):  # type: ignore[no-untyped-def]
            if not first:
                first.append(time.perf_counter())
            original(run, what)
            if what != "progress":
                done.set()

        screen.show_run = spy  # type: ignore[method-assign]
        start = time.perf_counter()
        await pilot.press("y", "enter")
        await asyncio.wait_for(done.wait(), 600)  # no polling: the app runs undisturbed
        total = time.perf_counter() - start
        point = first[0] - start
        await pilot.pause()
    from dlprep.engine import stream

    start = time.perf_counter()
    for _ in stream(demo, params={}, device="auto", seed=0):
        pass
    bare = time.perf_counter() - start
    return f"{point:.4f} {total:.4f} {bare:.4f}"


def _fresh(demo: str, warm: bool, wait: float,
           env: dict[str, str]) -> tuple[float, float, float]:
    code = CODE.format(bench=str(Path(__file__).parent), demo=demo, warm=warm, wait=wait)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=600).stdout.split()
    return float(out[-3]), float(out[-2]), float(out[-1])


def _plain(demo: str, env: dict[str, str]) -> float:
    exe = Path(sys.executable).with_name("dlprep")
    start = time.perf_counter()
    subprocess.run([str(exe), "demo", demo, "--plain"], capture_output=True, check=True,
                   env=env, timeout=600)
    return time.perf_counter() - start


def main() -> int:
    args = sys.argv[1:]
    repeat = REPEAT
    if "--repeat" in args:
        at = args.index("--repeat")
        repeat = int(args[at + 1])
        del args[at:at + 2]
    demo = args[0] if args else "activations"
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DLPREP_HOME": home}
        plain, panel, bare, first_warm, first_cold, first_done = [], [], [], [], [], []
        for _ in range(repeat):  # interleaved, so machine noise hits all alike
            plain.append(_plain(demo, env))
            point, total, alone = _fresh(demo, True, 3.0, env)
            first_warm.append(point)
            point, total, alone = _fresh(demo, True, WARM_WAIT, env)
            first_done.append(point)
            panel.append(total)
            bare.append(alone)
            point, _, _ = _fresh(demo, False, 0.0, env)
            first_cold.append(point)
    p, q, b = (statistics.median(x) for x in (plain, panel, bare))
    warm, cold = statistics.median(first_warm), statistics.median(first_cold)
    print(f"demo_panel: {demo}, median of {repeat} interleaved runs")
    print(f"  dlprep demo {demo} --plain (process)   {p:7.2f} s  (context: with torch import)")
    print(f"  the demo's stream read bare            {b:7.2f} s")
    print(f"  quiz panel, run to verdict             {q:7.2f} s   {q / b:.2f}x   "
          f"[{verdict(q / b <= 1.2)}: target <= 1.2x the bare stream]")
    print("  panel / bare stream, each repeat        " +
          " ".join(f"{x / y:.2f}x" for x, y in zip(panel, bare, strict=True)))
    print(f"  first chart point, torch warmed (3 s)  {warm * 1000:7.0f} ms         "
          f"[{verdict(warm <= 0.3)}: target <= 300 ms]")
    done = statistics.median(first_done)
    print(f"  first chart point, warm-up finished    {done * 1000:7.0f} ms  (context: "
          f"panel open {WARM_WAIT:.0f} s)")
    print(f"  first chart point, cold (no warm-up)   {cold * 1000:7.0f} ms  (context)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
