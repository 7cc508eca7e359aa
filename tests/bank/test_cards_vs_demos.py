"""Every prediction prompt in the bank is graded against what its demo measures.

A card's ``demo.predict`` is a number, a choice or a yes/no (docs/cards.md). For each one the
demo runs at the card's default draw (a templated card's first values), on CPU at seed 0,
one run per demo and resolved parameters, with a small step budget (``BUDGET``; the runs
grade the prompts, they do not test the demos, whose own tests cover their phenomena). The
measured answer, typed as a learner would, must be graded right, and a classic slip wrong:
the number x2 and /2, another choice, the opposite yes/no.

``DLPREP_PROMPT_RUNS=full`` runs every demo with its own step count instead and also checks
``INTENDED``: the answer each prompt's author means, so a prompt cannot ask about something
its demo shows the other way round.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import pytest

from dlprep.bank import load_bank
from dlprep.bank.cards import Card, Numeric, Predict, PredictChoice, PredictNumber
from dlprep.bank.template import compile_formula, evaluate, fill_params
from dlprep.engine import final_result
from dlprep.registry import registry
from dlprep.study.predict import judge, lookup, measured_number, read
from dlprep.study.units import family_of

Numbers = dict[str, Any]
FULL = os.environ.get("DLPREP_PROMPT_RUNS") == "full"
CARDS = [c for c in load_bank().cards.values() if c.demo is not None]
PROMPTS = [c for c in CARDS if c.demo is not None and c.demo.predict is not None]
# Demos whose cards' answers are compared with the measurement in their own test module.
OWN_TEST = {"gpu-memory": "tests/bank/test_cards_vs_gpu_memory_demo.py"}
# Steps per demo in the default run: enough for every prompt's measure to exist (a target
# reached, a divergence seen); the rest run their own (already small) count.
BUDGET = {"activations": 10, "dying-relu": 60, "linear-collapse": 60, "adamw": 40,
          "overfitting": 60, "optimizers": 300, "mixed-precision": 30, "batch-size": 2,
          "vanishing-gradient": 30, "weight-init": 20, "normalization": 30, "residual": 30,
          "exploding-gradient": 20, "backprop": 20, "warmup": 20, "gpu-speedup": 1}
# Run only with DLPREP_PROMPT_RUNS=full: starting its two processes alone takes ~15 s.
SLOW = {"data-parallel"}

# A templated numeric card with a number prompt: the template's values in the demo's scenario.
SCENARIO = {
    "gpu-vec-dense-layer-macs": lambda n: dict(zip(("b", "n_in", "n_out"), n["shape"],
                                                   strict=True)),
}

# The right answer each prompt's author means, at the card's default draw with the demo's
# own step count (checked with DLPREP_PROMPT_RUNS=full): a choice's number, y or n.
INTENDED: dict[str, str] = {
    "act-training-race": "1", "act-dying-relu-definition": "3", "act-dying-relu-causes": "3",
    "act-dying-relu-fixes": "2", "act-relu-output-negative-myth": "2",
    "cnn-degradation-identity-argument": "3", "gpu-vec-recognise-vectorised": "3",
    "gpu-vec-loop-vs-vectorised-bits": "2", "gpu-vec-why-numpy-is-faster": "3",
    "grad-sigmoid-product-bound": "1", "grad-sigmoid-vs-relu-he-ratio": "3",
    "grad-tanh-not-a-cure": "3", "grad-clip-norm-numeric": "3",
    "grad-large-gain-forward-too": "3", "init-zero-weights-symmetry": "1",
    "init-constant-init-one-unit": "1", "init-small-normal-vanishes": "1",
    "init-pick-scheme-for-activation": "2", "mb-small-batch-properties": "3",
    "mb-smoothest-loss-curve": "1", "mb-bigger-batch-same-epochs": "3",
    "mlp-linear-collapse-algebra": "1", "mlp-linear-xor-best-accuracy": "1",
    "norm-bn-train-eval-myth": "1", "norm-bn-forgot-eval-symptom": "3",
    "opt-momentum-why": "1", "opt-rmsprop-denominator": "1", "opt-adamw-decoupled-decay": "1",
    "opt-lr-symptoms": "6", "opt-tuning-priority": "2", "loop-loss-goes-up-causes": "5",
    "loop-overshoot-one-step-loss": "2", "loop-loss-nan-first-check": "1",
    "reg-diagnose-overfitting": "1", "reg-early-stopping-what": "1",
    "reg-overfitting-remedies": "2", "tr-warmup-why-adam": "3",
    "mlp-stacked-linear-expressive": "y", "norm-larger-learning-rates": "y",
    "opt-adam-step-bounded-by-lr": "y", "sc-grad-scaler-dynamics": "y", "sc-ddp-allreduce": "y",
    "tr-l2-equals-weight-decay-adam-myth": "y", "tr-warmup-linear-value": "y",
    "tr-gradcheck-central-difference": "y", "gpu-amp-loss-scaling": "3",
    "sc-amp-step-order": "1", "grad-residual-identity-path": "3",
    "mb-warmup-with-large-batch": "1", "mlp-why-cross-entropy-not-mse-sigmoid": "1",
    "loop-forward-pass-order": "y", "loop-training-step-order": "1",
    "loop-backprop-chain-rule": "1",
    # transformer-era demos (issue 22)
    "tdemo-attn-scale-logit-spread": "3", "tdemo-attn-scale-why": "y",
    "tdemo-attn-scale-small-dk-myth": "n", "tdemo-causal-mask-what-leaks": "1",
    "tdemo-causal-mask-generation": "y", "tdemo-causal-mask-floor": "3",
    "tdemo-pos-permutation-myth": "1", "tdemo-pos-rope-what": "y",
    "tdemo-pos-count-no-order": "n", "tdemo-kv-cache-exact-myth": "y",
    "tdemo-kv-cache-work-per-token": "3",
}
# The transformer-era demos' cards (issue 22), kept apart so branches adding cards merge cleanly.
INTENDED.update({
    "tdemo-attn-memory-math-vs-sdpa": "2", "tdemo-attn-memory-short-sequences": "n",
    "tdemo-lora-b-zero-init": "y", "tdemo-lora-rank-too-small": "n",
    "tdemo-quant-per-tensor-outliers": "1", "tdemo-quant-no-outliers": "n",
})
INTENDED.update({
    "tdemo-norm-post-no-warmup": "y", "tdemo-norm-sqrt-l-bounds": "2",
    "tdemo-norm-warmup-needed": "n", "tdemo-norm-shallow-stack": "n",
})
# Yes/no prompts whose answer depends on the machine (a GPU present or not).
ON_THIS_MACHINE = {"gpu-timing-needs-synchronize", "gpu-tiny-model-not-faster",
                   "gpu-matmul-arithmetic-intensity", "gpu-device-mismatch-error"}


def default_draw(card: Card) -> dict[str, float]:
    if isinstance(card, Numeric) and card.template is not None:
        return {name: values[0] for name, values in card.template.vars.items()}
    return {}


@cache
def _run(name: str, items: tuple[tuple[str, Any], ...]) -> Numbers:
    steps = None if FULL else BUDGET.get(name)
    return dict(final_result(name, params=dict(items), device="cpu", seed=0,
                             steps=steps).numbers)


def measured(card: Card) -> Numbers:
    """The demo's numbers at the card's default draw (one run per resolved parameters)."""
    assert card.demo is not None
    params = registry()[card.demo.name].resolve(
        dict(fill_params(card.demo.params, default_draw(card))))
    return _run(card.demo.name, tuple(sorted(params.items())))


def right_and_slips(predict: Predict, n: Numbers) -> tuple[str, list[str]]:
    """What a learner who knew the measurement types, and classic slips."""
    if isinstance(predict, PredictNumber):
        value = measured_number(n, predict.measure)
        assert value is not None, f"{predict.measure} is not a measured number"
        assert value != 0, f"{predict.measure} is 0: x2 and /2 would be no slip"
        value /= family_of(predict.unit).factor(predict.unit) or 1.0
        return f"{value:.6g}", [f"{value * 2:.6g}", f"{value / 2:.6g}"]
    if isinstance(predict, PredictChoice):
        if predict.bounds:
            number = measured_number(n, predict.measure)
            assert number is not None, f"{predict.measure} is not a measured number"
            index = sum(number >= b for b in predict.bounds)
        else:
            keys = [c if isinstance(c, str) else c.en for c in predict.choices]
            value = lookup(n, predict.measure)
            assert value in keys, f"{predict.measure} = {value!r} is none of {keys}"
            index = keys.index(value)
        others = [str(i + 1) for i in range(len(predict.choices)) if i != index]
        return str(index + 1), others
    value = lookup(n, predict.measure)
    assert isinstance(value, bool), f"{predict.measure} = {value!r} is not a boolean"
    yes = value is predict.yes_when
    return ("y" if yes else "n"), ["n" if yes else "y"]


@pytest.mark.parametrize("card", PROMPTS, ids=lambda card: card.id)
def test_the_measured_answer_is_right_and_a_slip_is_wrong(card: Card) -> None:
    assert card.demo is not None and card.demo.predict is not None
    if card.demo.name in SLOW and not FULL:
        pytest.skip(f"{card.demo.name} runs with DLPREP_PROMPT_RUNS=full")
    predict, n = card.demo.predict, measured(card)
    right, slips = right_and_slips(predict, n)
    for said, ok in [(right, True)] + [(slip, False) for slip in slips]:
        for lang in ("en", "ko"):
            judged = judge(card, predict, read(predict, said, lang), said, n, False, lang)
            assert judged.right is ok, (card.id, lang, said, judged)
    if FULL and card.id in INTENDED:
        assert right == INTENDED[card.id], (
            f"{card.id}: its author means {INTENDED[card.id]!r}, but the demo measures "
            f"{right!r} at the card's draw: the prompt asks it the other way round")


def test_every_choice_and_yes_no_prompt_has_its_intended_answer_listed() -> None:
    listed = {c.id for c in PROMPTS if c.demo and c.demo.predict
              and not isinstance(c.demo.predict, PredictNumber)} - ON_THIS_MACHINE
    assert listed == set(INTENDED), (sorted(listed - set(INTENDED)),
                                     sorted(set(INTENDED) - listed))


# Numeric cards whose number prompt asks for the card's own quantity, in its unit: fixed, or
# templated with the demo's scenario in SCENARIO (other templated cards' prompts ask about
# what the demo measures at the card's draw, e.g. updates made, not the card's formula).
NUMBER_PROMPTS = [c for c in PROMPTS if c.demo and isinstance(c.demo.predict, PredictNumber)
                  and isinstance(c, Numeric) and c.demo.name not in OWN_TEST
                  and c.unit == c.demo.predict.unit
                  and (c.template is None or c.id in SCENARIO)]


@pytest.mark.parametrize("card", NUMBER_PROMPTS, ids=lambda card: card.id)
def test_a_numeric_cards_answer_agrees_with_the_number_its_prompt_measures(card: Card) -> None:
    """Where a numeric card's prompt asks for the card's own quantity, the card's answer in
    the demo's scenario is the measured number (within the card's tolerance)."""
    assert isinstance(card, Numeric) and card.demo is not None
    predict = card.demo.predict
    assert isinstance(predict, PredictNumber)
    n = measured(card)
    got = measured_number(n, predict.measure)
    assert got is not None
    got /= family_of(predict.unit).factor(predict.unit) or 1.0
    if card.template is None:
        assert card.answer is not None
        want = card.answer
    else:
        values = SCENARIO[card.id](n)
        for name, value in values.items():
            assert value in card.template.vars[name], (card.id, name, value)
        want = evaluate(compile_formula(card.template.formula, frozenset(card.template.vars)),
                        values)
    assert card.tolerance.accepts(got, want), (card.id, dict(card.demo.params), got, want)
