"""Predictions graded in the prompt's own terms: a number, a choice, or yes/no (pure core)."""

from __future__ import annotations

import dataclasses

import pytest

from dlprep.bank.cards import (
    Card,
    DemoLink,
    Numeric,
    PredictChoice,
    PredictNumber,
    PredictYesNo,
    Text,
    Tolerance,
    TrueFalse,
)
from dlprep.bank.template import fill_params
from dlprep.study.grading import Unreadable
from dlprep.study.predict import (
    demo_command,
    feedback,
    hint,
    judge,
    lookup,
    options,
    read,
    rounded,
)

NUMBER = PredictNumber(en="How many MB?", ko="몇 MB일까?", kind="number",
                       measure="measured.saved", unit="MB")
CHOICE = PredictChoice(en="Which finishes last?", ko="꼴찌는?", kind="choice",
                       measure="ranking.-1", choices=("sigmoid", "tanh", "relu"),
                       rank="ranking")
BINNED = PredictChoice(en="What share dies?", ko="얼마나 죽을까?", kind="choice",
                       measure="relu.stuck",
                       choices=(Text("under 5%", "5% 미만"), Text("5% to 40%", "5~40%"),
                                Text("over 40%", "40% 초과")), bounds=(0.05, 0.4))
YESNO = PredictYesNo(en="Will training revive them?", ko="학습이 되살릴까?", kind="yesno",
                     yes_when=False)
NUMBERS = {"measured": {"saved": 2_139_560}, "ranking": ["relu", "tanh", "sigmoid"],
           "relu": {"stuck": 0.76}, "effect": True}


def card_with(predict: object, numeric: bool = False) -> Card:
    link = DemoLink(name="x", predict=predict)  # type: ignore[arg-type]
    base = dict(id="c", topic="gradients", difficulty=1, q=Text("q", "질문"),
                explain=Text("e", "설명"), refs=("ref",), demo=link)
    if numeric:
        return Numeric(**base, type="numeric", answer=2.0, unit="MB",  # type: ignore[arg-type]
                       tolerance=Tolerance(rel=0.01))
    return TrueFalse(**base, type="truefalse", answer=True)  # type: ignore[arg-type]


def graded(predict: object, text: str, lang: str = "en", numbers: dict | None = None,
           numeric: bool = False, cancelled: bool = False) -> str:
    card = card_with(predict, numeric)
    assert card.demo is not None and card.demo.predict is not None
    reading = read(card.demo.predict, text, lang)
    judged = judge(card, card.demo.predict, reading, text,
                   NUMBERS if numbers is None else numbers, cancelled, lang)
    return feedback(judged, lang)


def test_a_number_is_graded_in_its_unit_and_shown_rounded_with_the_exact_bytes() -> None:
    assert graded(NUMBER, "2.14 MB") == (
        "you: 2.14 MB · measured: 2.1 MB ✓ (exactly 2,139,560 B)")
    assert graded(NUMBER, "2.04 MiB").endswith("✓ (exactly 2,139,560 B)")  # 2.139 MB
    assert " ✗ " in graded(NUMBER, "4.28")  # x2
    assert " ✗ " in graded(NUMBER, "1.07")  # /2
    # a numeric card's own tolerance (1 %) is finer: one more digit is meaningful
    assert graded(NUMBER, "2.14", numeric=True) == (
        "you: 2.14 · measured: 2.14 MB ✓ (exactly 2,139,560 B)")
    assert graded(NUMBER, "2140 kB", "ko").startswith("내 예측: 2140 kB · 측정: 2.1 MB ✓")


def test_a_choice_is_graded_against_the_measured_outcome_and_says_where_a_pick_came() -> None:
    assert graded(CHOICE, "1") == "you: sigmoid · measured: sigmoid ✓"
    assert graded(CHOICE, "Sig") == "you: sigmoid · measured: sigmoid ✓"
    assert graded(CHOICE, "tanh") == "you: tanh · measured: sigmoid ✗ (tanh came 2nd of 3)"
    assert graded(CHOICE, "3", "ko") == (
        "내 예측: relu · 측정: sigmoid ✗ (relu: 3개 중 1위)")


def test_a_binned_choice_puts_the_measured_number_in_its_bin() -> None:
    assert graded(BINNED, "3") == "you: over 40% · measured: over 40% (0.76) ✓"
    assert graded(BINNED, "5~40%", "ko") == "내 예측: 5~40% · 측정: 40% 초과 (0.76) ✗"
    assert graded(BINNED, "1", numbers={"relu": {"stuck": 0.05}}).endswith("(0.05) ✗")


def test_yes_or_no_is_graded_against_the_measured_boolean_either_way_round() -> None:
    assert graded(YESNO, "n") == "you: no · measured: no ✓"  # effect: the units stayed dead
    assert graded(YESNO, "예", "ko") == "내 예측: 예 · 측정: 아니요 ✗"
    plain = dataclasses.replace(YESNO, yes_when=True)
    assert graded(plain, "yes") == "you: yes · measured: yes ✓"


def test_nothing_is_graded_when_cancelled_or_nothing_was_measured() -> None:
    assert graded(NUMBER, "2", cancelled=True) == "you: 2"
    assert graded(CHOICE, "1", numbers={}) == "you: sigmoid"
    assert graded(YESNO, "y", numbers={"effect": "maybe"}) == "you: yes"


@pytest.mark.parametrize(("predict", "text", "hint_en"), [
    (NUMBER, "lots", "not a number: 'lots'"),
    (NUMBER, "5 s", "'s' is a unit of time; answer in MB"),
    (CHOICE, "4", "Type a number from 1 to 3, or a choice's name"),
    (CHOICE, "t", "Type a number from 1 to 3, or a choice's name"),
    (YESNO, "maybe", "Type y or n"),
])
def test_unreadable_input_is_asked_again_with_one_line(predict: object, text: str,
                                                       hint_en: str) -> None:
    with pytest.raises(Unreadable) as caught:
        read(predict, text, "en")  # type: ignore[arg-type]
    line = caught.value.ask_again("en")
    assert hint_en in line and "\n" not in line
    assert caught.value.ask_again("ko") != line


def test_the_input_hint_matches_the_kind_of_prompt() -> None:
    assert "MB" in hint(NUMBER, "en") and "y or n" not in hint(NUMBER, "en")
    assert hint(CHOICE, "en").startswith("1-3") and hint(YESNO, "en").startswith("y or n")
    assert options(BINNED, "ko") == ["1. 5% 미만", "2. 5~40%", "3. 40% 초과"]
    assert options(YESNO, "en") == []


def test_paths_index_lists_and_stop_where_they_lead_nowhere() -> None:
    numbers = {"a": [1, 2, {"b c": 3}], "x": {"y": 4}}
    assert lookup(numbers, "a.-1.b c") == 3 and lookup(numbers, "a.0") == 1
    assert lookup(numbers, "a.3") is None and lookup(numbers, "x.z") is None
    assert lookup(numbers, "x.y.z") is None


def test_rounding_keeps_the_digits_the_tolerance_makes_meaningful() -> None:
    assert rounded(2.13956, Tolerance(rel=0.05)) == "2.1"
    assert rounded(2.13956, Tolerance(rel=0.01)) == "2.14"
    assert rounded(1_234_567, Tolerance(rel=0.05)) == "1,200,000"
    assert rounded(5.0, Tolerance(abs=0.5)) == "5"
    assert rounded(-0.993, Tolerance(abs=0.05)) == "-1.0"
    assert rounded(0.25, Tolerance(abs=0.01)) == "0.25"


def test_templated_params_run_the_cards_draw() -> None:
    params = {"layers": "784,{h},{h},10", "batch": "{b}", "optimizer": "adam", "lr": 0.1}
    filled = fill_params(params, {"h": 1024.0, "b": 64.0})
    assert filled == {"layers": "784,1024,1024,10", "batch": 64, "optimizer": "adam",
                      "lr": 0.1}
    link = DemoLink(name="gpu-memory", params=params)
    assert demo_command(link, {"h": 1024.0, "b": 64.0}) == (
        "dlprep demo gpu-memory --set layers=784,1024,1024,10 batch=64 optimizer=adam lr=0.1")
