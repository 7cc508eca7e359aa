"""Run by test_demo_panel in a fresh interpreter: the quiz app must not import torch while
it shows a card (it starts importing it in the background once a demo card's feedback is
shown), and a real (tiny) CPU demo must run to its verdict inside the app."""

from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import UTC, datetime

from dlprep.bank.convert import to_card
from dlprep.bank.loader import Bank
from dlprep.bank.models import card_adapter
from dlprep.study.schedule import ManualClock
from dlprep.study.store import open_store
from dlprep.tui.app import build_app, real_stream

CARD = {
    "id": "probe-vanishing", "topic": "gradients", "type": "truefalse", "difficulty": 1,
    "q": {"en": "Deep sigmoid nets have tiny first-layer gradients.",
          "ko": "깊은 시그모이드 망은 첫 층 기울기가 작다."},
    "answer": True,
    "explain": {"en": "Each sigmoid multiplies the gradient by at most 0.25.",
                "ko": "시그모이드마다 기울기에 최대 0.25가 곱해진다."},
    "refs": ["Glorot & Bengio, AISTATS 2010"],
    "demo": {"name": "vanishing-gradient", "params": {"depth": 3, "num_hiddens": 8},
             "predict": {"kind": "yesno", "en": "Smaller first layer gradient?",
                         "ko": "첫 층 기울기가 더 작을까?"}},
}


def short_stream(name: str, **kwargs: object):  # the real engine, fewer steps for the test
    return real_stream(name, steps=30, **kwargs)


async def main() -> None:
    card = to_card(card_adapter.validate_python(CARD))
    app = build_app(bank=Bank(cards={card.id: card}), store=open_store(), start=True,
                    clock=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)), rng=random.Random(1),
                    stream=short_stream, fuzz=False)
    async with app.run_test(size=(100, 34)) as pilot:
        await pilot.pause()
        print(f"torch_on_first_card={'torch' in sys.modules}")
        print(f"textual_loaded={'textual' in sys.modules}")
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press(*"yes", "enter")
        deadline = time.monotonic() + 180
        await pilot.pause(0.2)
        screen = app.screen
        while screen.running and time.monotonic() < deadline:
            await pilot.pause(0.1)
        result = screen.run.state.result if screen.run else None
        print(f"torch_after_demo={'torch' in sys.modules}")
        print(f"verdict={result.verdict if result else None}")
        print(f"cancelled={result.cancelled if result else None}")
        print(f"progress={screen.query_one('ProgressBar').progress}")


asyncio.run(main())
