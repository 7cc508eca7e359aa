from __future__ import annotations

import random

import pytest

from dlprep.bank.template import (
    FormulaError,
    assignments,
    compile_formula,
    draw,
    evaluate,
    fill,
    format_number,
)


def calc(formula: str, **values: float) -> float:
    return evaluate(compile_formula(formula, frozenset(values)), values)


@pytest.mark.parametrize(
    ("formula", "values", "expected"),
    [
        ("n * 4", {"n": 1_000_000}, 4_000_000),
        ("784*512 + 512 + 512*10 + 10", {}, 407_050),
        ("b * c * h * w * 4", {"b": 32, "c": 64, "h": 28, "w": 28}, 6_422_528),
        ("2 ** 10", {}, 1024),
        ("-x + 3 % 2 + 7 // 2", {"x": 1}, 3),
        ("ceil(n / 512) * 512", {"n": 1000}, 1024),
        ("max(a, b) + min(a, b) + sqrt(16) + log2(8)", {"a": 1, "b": 2}, 10),
    ],
)
def test_whitelisted_arithmetic(formula: str, values: dict[str, float], expected: float) -> None:
    assert calc(formula, **values) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("n.__class__", "attribute access"),
        ("__import__('os')", "calls are not allowed"),
        ("open('/etc/passwd')", "calls are not allowed"),
        ("(lambda: 1)()", "calls are not allowed"),
        ("[1, 2][0]", "not allowed"),
        ("n if n else 1", "not allowed"),
        ("'a' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("unknown * 2", "unknown name"),
        ("n < 3", "not allowed"),
        ("n @ n", "operator MatMult"),
        ("n << 3", "operator LShift"),
        ("not n", "operator Not"),
        ("round(n, ndigits=2)", "keyword arguments"),
        ("1 +", "not valid arithmetic"),
        ("n" + " + n" * 200, "longer than"),
    ],
)
def test_rejected_before_evaluation(formula: str, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        compile_formula(formula, frozenset({"n"}))


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("2 ** 10 ** 10", "exponent"),
        ("9 ** 9 ** 9", "exponent"),
        ("(10 ** 64) ** 64", "out of range"),
        ("1 / 0", "cannot be evaluated"),
        ("log(0)", "cannot be evaluated"),
        ("sqrt(-1)", "cannot be evaluated"),
        ("exp(1000)", "cannot be evaluated"),
    ],
)
def test_rejected_while_evaluating(formula: str, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        calc(formula)


def test_every_assignment_and_fresh_draws() -> None:
    variables = {"a": [1.0, 2.0], "b": [10.0, 20.0, 30.0]}
    assert len(assignments(variables)) == 6
    rng = random.Random(1)
    drawn = {tuple(draw(variables, rng).values()) for _ in range(60)}
    assert len(drawn) == 6


def test_fill_touches_only_known_names() -> None:
    text = "{n} params; code `{x: 1}` and {unknown} and $\\frac{a}{b}$"
    assert fill(text, {"n": 1_000_000.0}) == (
        "1,000,000 params; code `{x: 1}` and {unknown} and $\\frac{a}{b}$"
    )
    assert format_number(0.25) == "0.25"
    assert format_number(407050.0) == "407,050"
