"""Cards that link the gpu-memory demo agree with what the demo measures (issue 16).

Every card whose ``demo.name`` is ``gpu-memory`` is run through the demo with the card's own
``demo.params`` on CPU, and its answer is checked against the measurement, not against a
formula: a numeric card's answer (for a templated card, at the variable values that
describe the demo's scenario) must be within the card's tolerance of the measured number
in the card's unit; a true/false, single- or multi-choice card must say what the
measurement shows. (Whether a ``measure`` link grades a typed prediction against a measured
number is checked for every demo in test_cards_vs_demos.py.)

How a card is matched to a measurement: by its id in ``CARDS`` below. A numeric card that
is not listed may instead carry a tag ``measured-<row>`` (rows: ``MEASURED``) and use
template variables named after the demo's scenario (``batch``/``b``, ``params``, ``h`` for
equal hidden widths). A linked card matched neither way fails with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from dlprep.bank import load_bank
from dlprep.bank.cards import Card, Mcq, Multi, Numeric, TrueFalse
from dlprep.bank.template import compile_formula, evaluate, fill_params
from dlprep.engine import final_result

DEMO = "gpu-memory"
MIN_LINKED = 6
UNITS = {"B": 1, "kB": 1e3, "KB": 1e3, "KiB": 2**10, "MB": 1e6, "MiB": 2**20, "GB": 1e9,
         "GiB": 2**30, "params": 1, "": 1}
Numbers = dict[str, Any]


@cache
def _run(items: tuple[tuple[str, Any], ...]) -> Numbers:
    return dict(final_result(DEMO, params=dict(items), device="cpu", seed=0).numbers)


def measured(params: dict[str, Any]) -> Numbers:
    """The demo's numbers for ``params`` (cached: several cards share a scenario)."""
    return _run(tuple(sorted(params.items())))


def loss_saves(n: Numbers) -> int:
    """What cross-entropy keeps for backward: log_softmax output (B x C fp32) + 1 scalar."""
    return n["batch"] * n["layers"][-1] * 4 + 4


def step_counters(n: Numbers) -> int:
    """Adam's 4-byte ``step`` tensor per parameter tensor (weight and bias per layer)."""
    return 4 * 2 * (len(n["layers"]) - 1)


# The rows a ``measured-<row>`` tag may name, in bytes, from the demo's warmed-up step.
MEASURED: dict[str, Callable[[Numbers], float]] = {
    "weights": lambda n: n["measured"]["weights"],
    "gradients": lambda n: n["measured"]["gradients"],
    "state": lambda n: n["measured"]["state"],
    "saved": lambda n: n["measured"]["saved"],
    "inputs": lambda n: n["measured"]["inputs"],
    "peak": lambda n: n["measured"]["peak"],
    "model-states": lambda n: sum(n["measured"][r] for r in ("weights", "masters", "gradients",
                                                              "state")),
    "params": lambda n: n["params"],
}


def _hidden(n: Numbers) -> int:
    hidden = set(n["layers"][1:-1])
    assert len(hidden) == 1, f"layers {n['layers']}: hidden widths differ, no single h"
    return hidden.pop()


BIND: dict[str, Callable[[Numbers], float]] = {
    "batch": lambda n: n["batch"], "b": lambda n: n["batch"], "params": lambda n: n["params"],
    "h": _hidden,
}


# card id -> (template values of the demo's scenario, or None; the measured value in the
# card's unit, or for a true/false or choice card whether the card's answer is right).
Check = Callable[[Numbers, dict[str, Any], Card], float | bool]
CARDS: dict[str, tuple[Callable[[Numbers], dict[str, float]] | None, Check]] = {
    # weights of a ~1M-parameter MLP (784-1024-192-10) in MB
    "mem-weights-one-million-fp32": (None, lambda n, p, c: n["measured"]["weights"] / 1e6),
    # weights + gradients + Adam's two moments (the card ignores the step counters), in MB
    "mem-adam-fp32-model-states": (
        lambda n: {"params": 1_000_000},
        lambda n, p, c: (n["measured"]["weights"] + n["measured"]["gradients"]
                         + n["measured"]["state"] - step_counters(n)) / 1e6),
    # the two saved ReLU outputs: saved activations minus what cross-entropy keeps, in MB
    "mem-mlp-relu-saved-bytes": (
        lambda n: {"h": _hidden(n), "b": n["batch"]},
        lambda n, p, c: (n["measured"]["saved"] - loss_saves(n)) / 1e6),
    # "doubling the batch doubles gradient memory": false iff gradients stay put
    "mem-gradients-vs-batch": (None, lambda n, p, c: isinstance(c, TrueFalse) and c.answer == (
        n["sweep"][1]["measured"]["gradients"] == 2 * n["sweep"][0]["measured"]["gradients"])),
    # "checkpointing every Linear -> ReLU block roughly halves saved activations": compare
    # the card's checkpointed scenario with the same run without checkpointing
    "mem-checkpoint-per-relu-block": (None, lambda n, p, c: isinstance(c, TrueFalse) and (
        c.answer == (n["measured"]["saved"]
                     < 0.6 * measured({**p, "checkpointing": False})["measured"]["saved"]))),
    # large batch: the peak is in backward, while saved activations are alive
    "mem-peak-phase-large-batch": (None, lambda n, p, c: isinstance(c, Mcq) and (
        n["measured"]["peak_phase"] == "backward") == ("start of backward" in c.answer)),
    # every listed term is live in a step; no per-example weight copy (weights fixed)
    "mem-training-memory-terms": (None, lambda n, p, c: isinstance(c, Multi) and all(
        n["measured"][r] > 0 for r in ("weights", "gradients", "state", "saved"))
        and "weights" in n["fixed"] and n["measured"]["temp_at_peak"] > 0
        and not any("every example" in a for a in c.answers)),
    # momentum keeps exactly one parameter-sized tensor (and no step counter)
    "mem-one-state-tensor-optimizers": (None, lambda n, p, c: isinstance(c, Multi) and (
        n["measured"]["state"] == n["measured"]["weights"]) and any(
            "momentum" in a for a in c.answers) and n["optimizer"] == "momentum"),
}


def linked() -> list[Card]:
    return [card for card in load_bank().cards.values()
            if card.demo is not None and card.demo.name == DEMO]


def expected_answer(card: Numeric, values: dict[str, float]) -> float:
    if card.template is None:
        assert card.answer is not None
        return card.answer
    for name, value in values.items():
        assert value in card.template.vars.get(name, []), (
            f"{card.id}: the demo's scenario has {name}={value:g}, which the card's template "
            f"does not list ({card.template.vars.get(name)}): its demo.params do not match")
    missing = set(card.template.vars) - set(values)
    assert not missing, f"{card.id}: no scenario value for template variables {missing}"
    tree = compile_formula(card.template.formula, frozenset(card.template.vars))
    return evaluate(tree, values)


def tagged(card: Card) -> tuple[Callable[[Numbers], dict[str, float]] | None, Check] | None:
    rows = [t.removeprefix("measured-") for t in card.tags if t.startswith("measured-")]
    if len(rows) != 1 or rows[0] not in MEASURED or not isinstance(card, Numeric):
        return None
    unit = UNITS.get(card.unit)
    assert unit is not None, f"{card.id}: unit {card.unit!r} is not one of {sorted(UNITS)}"
    names = set(card.template.vars) if card.template else set()
    unknown = names - set(BIND)
    assert not unknown, f"{card.id}: cannot tie template variables {unknown} to the demo"
    return ((lambda n: {k: BIND[k](n) for k in names}),
            lambda n, p, c: MEASURED[rows[0]](n) / unit)


def test_enough_cards_link_the_demo() -> None:
    ids = [card.id for card in linked()]
    assert len(ids) >= MIN_LINKED, (
        f"only {len(ids)} cards link the {DEMO} demo ({ids}); issue 16 asks for at least "
        f"{MIN_LINKED}, each with demo.params of its scenario")


@pytest.mark.parametrize("card", linked(), ids=lambda card: card.id)
def test_card_agrees_with_the_measurement(card: Card) -> None:
    assert card.demo is not None
    # a templated card runs the demo at its draw: its first values here
    draw = ({k: v[0] for k, v in card.template.vars.items()}
            if isinstance(card, Numeric) and card.template is not None else {})
    params = fill_params(card.demo.params, draw)
    rule = CARDS.get(card.id) or tagged(card)
    assert rule is not None, (
        f"{card.id} links {DEMO} but this test does not know which measured number it "
        f"teaches: add it to CARDS in {__name__} or give it a measured-<row> tag")
    bind, check = rule
    n = measured(params)
    got = check(n, params, card)
    if isinstance(card, Numeric):
        want = expected_answer(card, bind(n) if bind else {})
        assert card.tolerance.accepts(float(got), want), (card.id, params, got, want)
    else:
        assert got is True, f"{card.id}: the demo's measurement with {params} contradicts it"
