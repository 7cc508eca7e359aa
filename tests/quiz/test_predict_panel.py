"""Every kind of prediction in the demo panel, in English and Korean, at 80x24: the hint
fits the kind, unreadable input is asked again, and the grade is in the prompt's terms."""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Input, Static

from dlprep.bank.cards import PredictChoice, PredictNumber, PredictYesNo
from dlprep.tui.demo import DemoScreen

from .conftest import fake_stream, open_panel, text_of, until_finished

# The fake stream's run at the card's lr=0.5: 6 steps, final loss 1 / (1 + 0.5 * 6) = 0.25;
# lr=0.1 ends at 0.625, so lr=0.1 comes last.
PROMPTS = {
    "number": (PredictNumber(en="What final loss?", ko="최종 손실은?", kind="number",
                             measure="final_loss", unit=""),
               "0.5", "0.25",
               {"en": "you: 0.5 · measured: 0.25 ✗", "ko": "내 예측: 0.5 · 측정: 0.25 ✗"},
               {"en": "you: 0.25 · measured: 0.25 ✓", "ko": "내 예측: 0.25 · 측정: 0.25 ✓"}),
    "choice": (PredictChoice(en="Which run ends last?", ko="꼴찌는 어느 실행일까?", kind="choice",
                             measure="last", choices=("lr=0.5", "lr=0.1"), rank="ranking"),
               "1", "2",
               {"en": "you: lr=0.5 · measured: lr=0.1 ✗ (lr=0.5 came 1st of 2)",
                "ko": "내 예측: lr=0.5 · 측정: lr=0.1 ✗ (lr=0.5: 2개 중 1위)"},
               {"en": "you: lr=0.1 · measured: lr=0.1 ✓",
                "ko": "내 예측: lr=0.1 · 측정: lr=0.1 ✓"}),
    "yesno": (PredictYesNo(en="Will lr=0.5 win?", ko="lr=0.5가 이길까?", kind="yesno"),
              "n", "y",
              {"en": "you: no · measured: yes ✗", "ko": "내 예측: 아니요 · 측정: 예 ✗"},
              {"en": "you: yes · measured: yes ✓", "ko": "내 예측: 예 · 측정: 예 ✓"}),
}
HINTS = {("number", "en"): "Your prediction in a plain number", ("choice", "en"): "1-2",
         ("yesno", "en"): "y or n", ("number", "ko"): "내 예측", ("choice", "ko"): "1-2",
         ("yesno", "ko"): "y 또는 n"}


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("kind", sorted(PROMPTS))
async def test_each_kind_is_hinted_reasked_and_graded(make_app, bank, kind: str,
                                                      lang: str) -> None:
    predict, wrong, right, said_wrong, said_right = PROMPTS[kind]
    card = bank.cards["t-demo"]
    bank.cards["t-demo"] = dataclasses.replace(
        card, demo=dataclasses.replace(card.demo, predict=predict))
    calls: list[dict] = []
    app = make_app(only=("t-demo",), start=True, lang=lang, stream=fake_stream(calls=calls))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_panel(pilot, app)
        field = screen.query_one("#prediction", Input)
        assert field.placeholder.startswith(HINTS[kind, lang]), field.placeholder
        if kind == "choice":  # the choices are listed under the question, numbered
            assert text_of(screen.query_one("#demo-choices", Static)) == "1. lr=0.5   2. lr=0.1"
        await pilot.press(*"zz", "enter")  # unreadable in every kind: asked again
        await pilot.pause()
        assert calls == [] and not field.disabled and field.value == ""
        hint = text_of(screen.query_one("#demo-verdict", Static))
        assert hint and "\n" not in hint
        for said, line in ((wrong, said_wrong), (right, said_right)):
            if said == right:  # a second prediction: back from the panel, into it again
                await pilot.press("escape")
                await pilot.pause()
                await pilot.press("d")
                await pilot.pause()
                screen = app.screen
                assert isinstance(screen, DemoScreen)
            await pilot.press(*said, "enter")
            await until_finished(pilot, screen)
            verdict = text_of(screen.query_one("#demo-verdict", Static)).splitlines()
            assert verdict[0] == line[lang]  # the grade, then the claim, above the fold
            assert verdict[1].startswith("Claim: " if lang == "en" else "주장: ")
            region = screen.query_one("#demo-verdict").region  # above the fold at 80x24
            assert region.height > 0 and region.bottom <= 23
