"""A choice prompt graded against a word the demo measures offers every word it can measure.

A demo declares in META ``"measures"`` the words a string in its numbers can take (e.g.
learning-rate's ``runs.*.outcome``); bank validation refuses a choice prompt (without
``bounds``) whose measure is undeclared or whose choices leave one of those words out: a
learner who changed the demo's parameters would be graded against a value no choice offers.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dlprep.bank import load_paths
from dlprep.registry import RegistryError, registry, scan

CARD = textwrap.dedent('''\
    - id: t-outcome
      topic: optimizers
      type: truefalse
      difficulty: 1
      q: {en: "True or false: rate 3 is large here.", ko: "참 또는 거짓: 학습률 3은 크다."}
      answer: true
      explain: {en: "It overshoots.", ko: "지나쳐 간다."}
      refs: ["Goodfellow, Bengio & Courville, Deep Learning, MIT Press 2016, §4.3"]
      demo:
        name: learning-rate
        predict:
          kind: choice
          en: "What will rate 3 do?"
          ko: "학습률 3은 어떻게 될까?"
          measure: "%s"
          choices:
    %s
    ''')
OLD = ["converged", "barely moved", "went up", "diverged"]  # the cards' choices before "rose"


def load(tmp_path: Path, keys: list[str], measure: str = "runs.lr4.outcome"):
    path = tmp_path / "cards.yaml"
    items = "\n".join(f"        - {{en: \"{k}\", ko: \"{k}\"}}" for k in keys)
    path.write_text(CARD % (measure, items), encoding="utf-8")
    return load_paths([path])


def outcomes() -> tuple[str, ...]:
    return registry()["learning-rate"].measures["runs.*.outcome"]


def test_the_demo_declares_every_outcome_its_classifier_returns() -> None:
    from dlprep.engine.loader import load_demo

    module = load_demo(registry()["learning-rate"].path)
    assert set(outcomes()) == set(module.OUTCOMES)
    assert {"rose", "unchanged"} <= set(outcomes())


def test_a_choice_prompt_missing_a_measurable_outcome_is_an_error(tmp_path: Path) -> None:
    bank = load(tmp_path, OLD)
    missing = ", ".join(repr(v) for v in outcomes() if v not in OLD)
    assert [str(p) for p in bank.errors] == [
        f"{tmp_path / 'cards.yaml'}:16: t-outcome: demo.predict.choices: learning-rate can "
        f"measure {missing} at runs.lr4.outcome, which no choice offers"]
    assert "t-outcome" not in bank.cards


def test_every_measurable_outcome_offered_loads(tmp_path: Path) -> None:
    bank = load(tmp_path, list(outcomes()))
    assert not bank.problems and "t-outcome" in bank.cards


def test_an_undeclared_measure_is_an_error(tmp_path: Path) -> None:
    bank = load(tmp_path, list(outcomes()), measure="runs.lr4.name")
    assert [(p.line, p.field) for p in bank.errors] == [(15, "demo.predict.measure")]
    assert "declares no words for runs.lr4.name" in bank.errors[0].message


def test_the_builtin_cards_offer_every_outcome_they_grade() -> None:
    from dlprep.bank import load_bank
    from dlprep.bank.cards import PredictChoice, item_key

    checked = 0
    for card in load_bank().cards.values():
        predict = card.demo.predict if card.demo else None
        if isinstance(predict, PredictChoice) and not predict.bounds:
            assert card.demo is not None
            words = registry()[card.demo.name].words_at(predict.measure)
            assert words is not None and set(words) <= {item_key(c) for c in predict.choices}
            checked += 1
    assert checked >= 4  # activations' ranking and three learning-rate outcomes


@pytest.mark.parametrize("measures", ['["a"]', '{"x": "a"}', '{"x": []}', '{"x": [1]}'])
def test_a_malformed_measures_declaration_is_a_registry_error(tmp_path: Path,
                                                               measures: str) -> None:
    (tmp_path / "toy.py").write_text(
        f'META = {{"name": "toy", "claim": "c", "measures": {measures}}}\n', encoding="utf-8")
    with pytest.raises(RegistryError, match="toy.py: META measures"):
        scan(tmp_path)
