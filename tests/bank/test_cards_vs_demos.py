"""A card's demo link is graded against the demo's run, so it must ask what the demo measures.

The demo panel grades two kinds of prediction (docs/cards.md):

- a typed number, when the link names ``measure``: it is compared with ``numbers[measure]``
  in the link's unit, with the card's tolerance;
- a yes or no, against the demo's own ``numbers["effect"]``: so a yes/no prompt must be one
  whose right answer *is* the effect, "yes" where the demo shows its phenomenon.

Both are checked here for every demo (gpu-memory's cards have their own, finer test of what
each card teaches: tests/bank/test_cards_vs_gpu_memory_demo.py). Runs are on CPU at seed 0
with the card's demo.params, cached so cards sharing a scenario share the run. A yes/no
prompt without params is not run here: with default params the effect appears on every seed
(tests/demos/test_controls.py asserts it), so its right answer must be "yes".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from dlprep.bank import load_bank
from dlprep.bank.cards import Card, Numeric
from dlprep.bank.template import compile_formula, evaluate
from dlprep.engine import final_result
from dlprep.study.grading import grade_measured

Numbers = dict[str, Any]
CARDS = [c for c in load_bank().cards.values() if c.demo is not None]
# Demos whose cards' answers are compared with the measurement in their own test module.
OWN_TEST = {"gpu-memory": "tests/bank/test_cards_vs_gpu_memory_demo.py"}
# Demos whose effect can only appear on a GPU (see tests/demos/test_controls.py).
NEEDS_GPU = {"gpu-speedup"}

# A templated numeric card with a measure: the template's values in the demo's scenario.
SCENARIO: dict[str, Callable[[Numbers], dict[str, float]]] = {
    "gpu-vec-dense-layer-macs": lambda n: dict(zip(("b", "n_in", "n_out"), n["shape"],
                                                   strict=True)),
}

# The right answer to each yes/no prediction prompt, as its card's author means it. The
# test compares it with the demo's effect: a prompt whose honest answer is "no" while the
# effect appears would be graded backwards.
ANSWERS: dict[str, bool] = {
    "act-dying-relu-causes": False,  # ... and will training revive them? (bias -3)
    "gpu-tiny-model-not-faster": False,  # tiny sizes: no GPU speed-up
    "grad-clip-norm-numeric": True,
    "grad-large-gain-forward-too": True,
    "init-pick-scheme-for-activation": True,
    "mb-bigger-batch-same-epochs": True,
    "mlp-stacked-linear-expressive": True,
    "norm-larger-learning-rates": True,
    "opt-momentum-why": True,
    "opt-rmsprop-denominator": True,
    "opt-adam-step-bounded-by-lr": True,
    "sc-grad-scaler-dynamics": True,
    "sc-ddp-allreduce": True,
    "loop-overshoot-one-step-loss": True,
    "tr-l2-equals-weight-decay-adam-myth": True,
    "tr-warmup-linear-value": True,
    "tr-gradcheck-central-difference": True,
}

AUX = r"(?:will|would|does|do|did|is|are|can|could|should|has|have)"
# A question a learner can answer with yes or no: led by an auxiliary verb, possibly after
# an opening clause ("With the same SGD settings, will ...", "..., and will ...").
YES_NO = re.compile(rf"^(?:.*?(?:,|:|\band)\s+)?{AUX}\b[^?]*\?$", re.IGNORECASE)


def questions(text: str) -> list[str]:
    return [part.strip() + "?" for part in text.split("?") if part.strip()]


def is_yes_no(text: str) -> bool:
    return any(YES_NO.match(q) for q in questions(text))


@cache
def _run(name: str, items: tuple[tuple[str, Any], ...]) -> Numbers:
    return dict(final_result(name, params=dict(items), device="cpu", seed=0).numbers)


def measured(card: Card) -> Numbers:
    assert card.demo is not None
    return _run(card.demo.name, tuple(sorted(card.demo.params.items())))


def gpu_present() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


def test_yes_no_prompts_are_exactly_the_listed_ones() -> None:
    found = {c.id for c in CARDS if c.demo and c.demo.predict and is_yes_no(c.demo.predict.en)}
    missing, stale = found - set(ANSWERS), set(ANSWERS) - found
    assert not missing, (
        f"yes/no prediction prompts {sorted(missing)} are graded against the demo's effect: "
        "add each to ANSWERS with its right answer, or ask with what/which/how instead "
        "(an either-or question led by 'will' invites a yes or no too)")
    assert not stale, f"ANSWERS lists cards without a yes/no prompt: {sorted(stale)}"


@pytest.mark.parametrize("card_id", sorted(ANSWERS))
def test_yes_no_answer_is_the_demos_effect(card_id: str) -> None:
    card = load_bank().cards[card_id]
    assert card.demo is not None
    if card.demo.params:
        effect = measured(card)["effect"]
    else:  # the default run, whose effect test_controls asserts on every seed
        effect = card.demo.name not in NEEDS_GPU or gpu_present()
    assert ANSWERS[card_id] is effect, (
        f"{card_id}: the right answer to {card.demo.predict.en!r} is "
        f"{'yes' if ANSWERS[card_id] else 'no'}, but the demo ({card.demo.name}, "
        f"{dict(card.demo.params)}) reports effect={effect}: a learner's correct answer "
        "would be graded wrong")


MEASURED = [c for c in CARDS if c.demo and c.demo.measure]


@pytest.mark.parametrize("card", MEASURED, ids=lambda card: card.id)
def test_measured_predictions_grade_against_a_measured_number(card: Card) -> None:
    """The path leads to a measured number, which (in the link's unit) is accepted while 0
    and a slip of 10x are not."""
    assert card.demo is not None and card.demo.measure is not None
    n = measured(card)
    tol = card.tolerance if isinstance(card, Numeric) else None
    right = grade_measured("0", n, card.demo.measure, card.demo.unit, tol)
    assert right is not None, f"{card.id}: {card.demo.measure} is not a measured number"
    value = right[2]
    assert value > 0
    for said, ok in [(f"{value:.6g}", True), (f"{value * 10:.6g}", False), ("0", False),
                     (f"{value / 10:.6g}", False)]:
        graded = grade_measured(said, n, card.demo.measure, card.demo.unit, tol)
        assert graded is not None and graded[0] is ok, (card.id, said, value)


@pytest.mark.parametrize("card", MEASURED, ids=lambda card: card.id)
def test_card_answer_agrees_with_its_measured_number(card: Card) -> None:
    """A numeric card's own answer, in the demo's scenario, is the number the demo measured
    (within the card's tolerance), unless its demo has a card test of its own."""
    assert card.demo is not None and card.demo.measure is not None
    if card.demo.name in OWN_TEST:
        pytest.skip(f"checked against the measurement in {OWN_TEST[card.demo.name]}")
    assert isinstance(card, Numeric), f"{card.id}: only a numeric card can carry a measure"
    n = measured(card)
    right = grade_measured("0", n, card.demo.measure, card.demo.unit, card.tolerance)
    assert right is not None
    got = right[2]
    if card.template is None:
        assert card.answer is not None
        want = card.answer
    else:
        assert card.id in SCENARIO, (
            f"{card.id}: templated; add to SCENARIO how the demo's numbers set its variables")
        values = SCENARIO[card.id](n)
        for name, value in values.items():
            assert value in card.template.vars[name], (
                f"{card.id}: the demo's scenario has {name}={value:g}, which the template "
                f"does not list ({card.template.vars[name]})")
        tree = compile_formula(card.template.formula, frozenset(card.template.vars))
        want = evaluate(tree, values)
    assert card.tolerance.accepts(got, want), (card.id, dict(card.demo.params), got, want)
