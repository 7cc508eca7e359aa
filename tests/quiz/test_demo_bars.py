"""The demo panel's per-layer bars say which step they show, and a finished run shows the bar
set its verdict speaks of: the last record, or the first (the nets at init) for a demo that
marks it (META layers "verdict": "init"). Fake streams, no torch; 80x24, English and Korean."""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Static

from . import conftest
from .conftest import open_panel, text_of, until_finished

STEPS = 4


def growing_stream(name: str, *, params=None, device="auto", seed=0, cancel=None, lang="en",
                   **_: object):
    """One run whose per-layer norms grow with the step: step s has s/1000, s/100, s/10."""
    from dlprep.engine.records import Result, Step

    for step in range(1, STEPS + 1):
        norms = {f"grad_norm/{i}": step * 10.0 ** (i - 4) for i in (1, 2, 3)}
        yield Step(step, STEPS, "lr=0.1", {"loss": 1.0 / step, **norms}, step / STEPS)
    numbers = {"effect": True, "final_loss": 0.25, "ranking": ["lr=0.1"], "last": "lr=0.1"}
    yield Result(name, "the norms grew", numbers, "cpu", seed, 0.1, dict(params or {}))


def marked(registry):  # the toy demo, its verdict speaking of the nets at init
    return lambda: {name: dataclasses.replace(info, layers={**info.layers, "verdict": "init"})
                    for name, info in registry().items()}


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(("at_init", "moment", "top"), [
    (False, {"en": "at the end (step 4)", "ko": "실행 끝(4스텝)"}, "0.4"),
    (True, {"en": "at init (step 1)", "ko": "초기화 시점(1스텝)"}, "0.1"),
])
async def test_finished_panel_shows_and_names_the_bars_the_verdict_uses(
        make_app, monkeypatch: pytest.MonkeyPatch, lang: str, at_init: bool,
        moment: dict[str, str], top: str) -> None:
    if at_init:
        monkeypatch.setattr(conftest, "fake_registry", marked(conftest.fake_registry))
    app = make_app(only=("t-demo",), start=True, lang=lang, stream=growing_stream)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_panel(pilot, app)
        await pilot.press("y", "enter")
        await until_finished(pilot, screen)
        lines = text_of(screen.query_one("#layers", Static)).splitlines()
        label = "gradient norm per layer" if lang == "en" else "층별 기울기 노름"
        log = "log" if lang == "en" else "로그"
        # the moment first: a long label may be cut at 80 columns, never the step
        title = {"en": f"{moment[lang]}: {label}", "ko": f"{moment[lang]}의 {label}"}[lang]
        assert f"{title} ({log})".startswith(lines[0].rstrip("…")), lines[0]
        assert lines[0].startswith(title.split(label)[0])
        assert lines[1].split()[0] == top  # the top of the scale: that record's largest norm
