"""Presenting and grading every card type, units, and auto-rating."""

from __future__ import annotations

import random

import pytest

from dlprep.bank.loader import Bank
from dlprep.study.grading import Rating, Unreadable, auto_rating, grade, parse_bool
from dlprep.study.present import present
from dlprep.study.units import UnitError, parse_quantity


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("4 MB", "MB", 4.0), ("4e6 B", "MB", 4.0), ("4,000,000 bytes", "MB", 4.0),
        ("  4mb ", "MB", 4.0), ("4 Megabytes", "MB", 4.0), ("4 x 10^6 B", "MB", 4.0),
        ("1 GiB", "MiB", 1024.0), ("407050 params", "params", 407050.0),
        ("407.05K params", "params", 407050.0), ("7B", "params", 7e9),
        ("1.2 million parameters", "params", 1.2e6), ("12%", "%", 12.0), ("3", "", 3.0),
        ("250 ms", "s", 0.25), ("3 tokens", "token", 3.0), ("2 TFLOPs", "GFLOPs", 2000.0),
    ],
)
def test_quantities_convert_to_the_cards_unit(text: str, unit: str, value: float) -> None:
    assert parse_quantity(text, unit) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "unit", "en", "ko"),
    [
        ("4 params", "MB", "'params' is a unit of parameter counts; answer in MB",
         "'params'는 파라미터 개수 단위입니다. MB로 답하세요"),
        ("12 MB", "", "'MB' is a unit of bytes; answer in a plain number",
         "'MB'는 바이트 단위입니다. 단위 없는 숫자로 답하세요"),
        ("four", "MB", "not a number: 'four'", "숫자가 아닙니다: 'four'"),
        ("4 apples", "B", "unknown unit 'apples'; answer in B",
         "알 수 없는 단위 'apples'입니다. B로 답하세요"),
    ],
)
def test_bad_quantities_explain_themselves(text: str, unit: str, en: str, ko: str) -> None:
    with pytest.raises(UnitError) as caught:
        parse_quantity(text, unit)
    assert str(caught.value) == caught.value.note.text("en") == en
    assert caught.value.note.text("ko") == ko


def test_numeric_within_tolerance(bank: Bank) -> None:
    shown = present(bank.cards["t-numeric"], "en", random.Random(0))
    for text in ("4 MB", "4e6 B", "3.8 MiB", "4,000,000 bytes", "4.1"):
        assert grade(shown, text).correct, text
    for text in ("5 MB", "4 GB", "4 params"):
        assert not grade(shown, text).correct, text
    for text in ("", "lots", "four", "4 apples"):  # asked again, never graded
        with pytest.raises(Unreadable):
            grade(shown, text)
    assert shown.expected_text() == "4 MB"


def test_template_draws_fresh_values_and_grades_them(bank: Bank) -> None:
    card = bank.cards["t-template"]
    rng = random.Random(3)
    drawn = {present(card, "en", rng).values["n"] for _ in range(30)}
    assert drawn == {1000.0, 2000.0, 3000.0}
    shown = present(card, "ko", rng)
    n = int(shown.values["n"])
    assert f"{n:,}" in shown.question and "{n}" not in shown.question
    assert grade(shown, f"{2 * n} B").correct
    assert grade(shown, f"{2 * n / 1000} kB").correct
    assert not grade(shown, f"{4 * n} B").correct


def test_choices_are_shuffled_and_graded_by_key(bank: Bank) -> None:
    card = bank.cards["t-mcq"]
    orders = {tuple(c.key for c in present(card, "en", random.Random(s)).choices)
              for s in range(20)}
    assert len(orders) > 1
    shown = present(card, "ko", random.Random(1))
    assert "모든 실수" in [c.text for c in shown.choices]
    assert grade(shown, "[0, ∞)").correct
    assert not grade(shown, "any real number").correct


def test_multi_needs_exactly_the_right_set(bank: Bank) -> None:
    shown = present(bank.cards["t-multi"], "en", random.Random(0))
    assert grade(shown, ["identity", "tanh"]).correct
    assert not grade(shown, ["tanh"]).correct
    assert not grade(shown, ["tanh", "identity", "ReLU"]).correct


def test_truefalse_and_order_and_recall(bank: Bank) -> None:
    myth = present(bank.cards["t-myth"], "en", random.Random(0))
    assert grade(myth, False).correct and not grade(myth, True).correct
    assert grade(myth, " Myth ").correct and parse_bool("참") is True
    order = present(bank.cards["t-order"], "en", random.Random(0))
    right = ["forward pass", "compute the loss", "loss.backward()", "optimizer.step()"]
    assert [c.key for c in order.choices] != right  # never starts solved
    assert grade(order, right).correct
    assert not grade(order, right[::-1]).correct
    recall = present(bank.cards["t-recall"], "en", random.Random(0))
    assert grade(recall, Rating.Good).correct and not grade(recall, Rating.Again).correct


def test_auto_rating(bank: Bank) -> None:
    shown = present(bank.cards["t-mcq"], "en", random.Random(0))
    right, wrong = grade(shown, "[0, ∞)"), grade(shown, "(-1, 1)")
    assert auto_rating(shown, wrong, 1.0, "(-1, 1)") is Rating.Again
    assert auto_rating(shown, right, 2.0, "[0, ∞)") is Rating.Easy
    assert auto_rating(shown, right, 30.0, "[0, ∞)") is Rating.Good
    recall = present(bank.cards["t-recall"], "en", random.Random(0))
    assert auto_rating(recall, grade(recall, 2), 1.0, 2) is Rating.Hard


def test_unreadable_numbers_are_not_graded(bank: Bank) -> None:
    from dlprep.study.grading import Unreadable

    shown = present(bank.cards["t-numeric"], "en", random.Random(0))
    with pytest.raises(Unreadable) as caught:
        grade(shown, "four")
    assert "not a number" in caught.value.note.text("en")
    # Truly unreadable input keeps the generic message that says why, in both languages.
    assert caught.value.ask_again("en") == ("Could not read that (not a number: 'four'); "
                                            "answer again")
    assert caught.value.ask_again("ko") == ("읽을 수 없는 답입니다 (숫자가 아닙니다: 'four'). "
                                            "다시 답하세요")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_an_untouched_order_or_multi_card_asks_directly(bank: Bank, lang: str) -> None:
    from dlprep.study.grading import Unreadable
    from dlprep.study.kinds import kind_of

    order = present(bank.cards["t-order"], lang, random.Random(0))
    multi = present(bank.cards["t-multi"], lang, random.Random(0))
    with pytest.raises(Unreadable) as untouched:
        kind_of(order.card).read(order, [c.key for c in order.choices])
    with pytest.raises(Unreadable) as empty:
        kind_of(multi.card).read(multi, [])
    expected = {"en": ("Move the items into order first (they are still shuffled)",
                       "Choose at least one option"),
                "ko": ("항목을 아직 옮기지 않았습니다. 순서를 맞춘 뒤 제출하세요",
                       "하나 이상 고르세요")}
    assert (untouched.value.ask_again(lang), empty.value.ask_again(lang)) == expected[lang]


def test_every_card_type_has_one_home_with_everything_it_needs(bank: Bank) -> None:
    from dlprep.bank.cards import CARD_TYPES
    from dlprep.study.kinds import KINDS
    from dlprep.tui.answers import WIDGETS

    assert set(KINDS) == set(CARD_TYPES) == set(WIDGETS)
    for card in bank.cards.values():
        kind = KINDS[card.type]
        shown = present(card, "en", random.Random(1))
        assert grade(shown, kind.example(shown, True)).correct, card.id
        assert not grade(shown, kind.example(shown, False)).correct, card.id
        assert kind.expected_text(shown) and kind.plain_prompt(shown, "ko")


@pytest.mark.parametrize(("template", "value", "expected"), [
    ("{v}(으)로 읽음", "100", "100으로 읽음"), ("{v}(으)로 읽음", "4", "4로 읽음"),
    ("{v}(으)로 읽음", "1", "1로 읽음"), ("{v}(으)로 읽음", "3.8 MiB", "3.8 MiB로 읽음"),
    ("{v}(으)로 읽음", "서울", "서울로 읽음"), ("{v}(으)로 읽음", "손실", "손실로 읽음"),
    ("{v}(으)로 읽음", "학습률", "학습률로 읽음"), ("{v}(으)로 읽음", "정답", "정답으로 읽음"),
    ("{v}은(는) 이미 지났습니다", "2026-12-15", "2026-12-15는 이미 지났습니다"),
    ("{v}은(는) 이미 지났습니다", "2026-12-13", "2026-12-13은 이미 지났습니다"),
    ("{v}이(가) 맞다", "lr", "lr이 맞다"), ("{v}을(를) 봄", "'MB'", "'MB'를 봄"),
])
def test_korean_particles_agree_with_the_word_before(template: str, value: str,
                                                      expected: str) -> None:
    from dlprep.study.strings import josa

    assert josa(template.format(v=value)) == expected


def test_no_korean_string_fixes_a_particle_after_a_value() -> None:
    """A particle right after a {value} must be the pair form ("{n}을(를)"): which one fits
    depends on the value ("1-3을", "1-4를")."""
    import re

    from dlprep.study.strings import STRINGS, t

    fixed = re.compile(r"\}(을|를|은|는|이|가|으로|로|과|와)(?![(가-힣])")
    assert [key for key, (_, ko) in STRINGS.items() if fixed.search(ko)] == []
    assert t("mcq_hint", "ko", n=4).startswith("1-4를 ")
    assert t("order_prompt", "ko", n=3, example="3 2 1").startswith("1-3을 ")


def test_language_defaults_from_the_locale() -> None:
    from dlprep.study.strings import STRINGS, default_lang

    assert default_lang({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert default_lang({"LC_ALL": "en_US.UTF-8", "LANG": "ko_KR.UTF-8"}) == "en"
    assert default_lang({}) == "en"
    assert all(en and ko and en != ko for en, ko in STRINGS.values())


def test_judging_a_prediction_is_pure_core() -> None:
    import json
    import subprocess
    import sys

    probe = ("import json, sys, dlprep.study.predict, dlprep.study.session; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120)
    assert not set(json.loads(result.stdout)) & {"torch", "textual", "numpy"}


def test_select_all_marks_each_choice_and_other_kinds_mark_none(bank: Bank) -> None:
    from dlprep.study.kinds import kind_of

    shown = present(bank.cards["t-multi"], "en", random.Random(1))  # answers: tanh, identity
    marks = dict(kind_of(shown.card).marks(shown, ["tanh", "sigmoid"]))
    assert marks == {"tanh": "chosen", "identity": "missed", "sigmoid": "wrong", "ReLU": ""}
    mcq = present(bank.cards["t-mcq"], "en", random.Random(1))
    assert kind_of(mcq.card).marks(mcq, "[0, ∞)") is None
