"""Every numeric answer is tight enough to tell it from an obviously wrong one (issue 13).

A tolerance that accepts 0, 1, ten times or a tenth of the answer grades the learner's
slip as correct: `reg-weight-decay-shrink-factor` once accepted the no-decay answer 1,
and `grad-sigmoid-product-bound` at L = 20 accepted 0. The check covers fixed answers
and every combination of a template's values.
"""

from __future__ import annotations

import math

import pytest

from dlprep.bank import Bank, load_bank
from dlprep.bank.cards import Numeric, Tolerance
from dlprep.bank.template import assignments, compile_formula, evaluate


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank()


def expected_answers(card: Numeric) -> list[tuple[str, float]]:
    """(where, expected) for the fixed answer or each template combination."""
    if card.template is None:
        assert card.answer is not None
        return [("answer", card.answer)]
    variables = {name: list(values) for name, values in card.template.vars.items()}
    tree = compile_formula(card.template.formula, frozenset(variables))
    return [(str(values), evaluate(tree, values)) for values in assignments(variables)]


def slips(expected: float) -> list[float]:
    """Obviously wrong answers that differ from the expected one."""
    wrong = [0.0, 1.0, expected * 10, expected / 10]
    return [w for w in wrong if not math.isclose(w, expected, rel_tol=1e-9, abs_tol=1e-15)]


def accepted_slips(card: Numeric) -> list[str]:
    found = []
    for where, expected in expected_answers(card):
        for wrong in slips(expected):
            if card.tolerance.accepts(wrong, expected):
                found.append(f"{card.id} {where}: expected {expected:.6g}, accepts {wrong:.6g}")
    return found


def test_no_numeric_card_accepts_an_obvious_slip(bank: Bank) -> None:
    numeric = [c for c in bank.cards.values() if isinstance(c, Numeric)]
    assert len(numeric) >= 40
    problems = [line for card in numeric for line in accepted_slips(card)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("tolerance", "expected", "caught"),
    [
        (Tolerance(rel=0.0001), 0.999995, [1.0]),  # the weight-decay factor that failed
        (Tolerance(rel=0.02), 0.25**20, [0.0, 0.25**20 / 10]),  # under the 1e-12 floor
        (Tolerance(abs=0.5), 0.3, [0.0, 0.03]),
        (Tolerance(rel=0.01), 4.0, []),
    ],
)
def test_the_check_catches_what_it_claims(
    tolerance: Tolerance, expected: float, caught: list[float]
) -> None:
    assert [w for w in slips(expected) if tolerance.accepts(w, expected)] == caught
