"""Memory and parameter-count cards agree with `dlprep memcalc`'s estimator (issue 6).

Each templated card is checked for every combination of its listed values, so a card can
never teach a number the calculator would contradict.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dlprep.bank import load_bank
from dlprep.bank.cards import Numeric
from dlprep.bank.template import assignments, compile_formula, evaluate
from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import estimate


def params_of(layers: tuple[int, ...]) -> float:
    return estimate(Config(batch=1, layers=layers)).weights / 4  # fp32: 4 bytes a weight


def relu_saves(h: float, b: float) -> float:
    """MB the two hidden ReLU layers add to what is saved for backward (784-h-h-10)."""
    with_hidden = estimate(Config(batch=int(b), layers=(784, int(h), int(h), 10)))
    without = estimate(Config(batch=int(b), layers=(784, 10)))
    assert with_hidden.saved_activations is not None and without.saved_activations is not None
    return (with_hidden.saved_activations - without.saved_activations) / 1e6


def adam_states(params: float) -> float:
    e = estimate(Config(batch=1, params=int(params), optimizer="adam"))
    return (e.weights + e.gradients + e.optimizer_state) / 1e6


def master_states(billions: float) -> float:
    """GB of ZeRO's model states (half weights and grads, fp32 masters and moments); memcalc
    also counts the fp32 gradient copies made for the step, which ZeRO's 16 B leave out."""
    e = estimate(Config(batch=1, params=int(billions * 1e9), optimizer="adam",
                        dtype="fp16-master"))
    return (e.weights + e.master_weights + e.gradients - e.master_grads + e.optimizer_state) / 1e9


def zero_states(billions: float, gpus: float, stage: int) -> float:
    """GB of model states per GPU under ZeRO stage 1, 2 or 3, built from memcalc's rows:
    the half-precision weights and gradients, fp32 masters and Adam moments, each either
    replicated or split `gpus` ways (the paper's K = 12 bytes are masters + m + v)."""
    e = estimate(Config(batch=1, params=int(billions * 1e9), optimizer="adam",
                        dtype="fp16-master"))
    half_weights, half_grads = e.weights, e.gradients - e.master_grads
    optimizer = e.master_weights + e.optimizer_state
    sharded = {1: optimizer, 2: optimizer + half_grads, 3: optimizer + half_grads + half_weights}
    whole = half_weights + half_grads + optimizer - sharded[stage]
    return (whole + sharded[stage] / gpus) / 1e9


# card id -> what memcalc says for the card's variables (in the card's unit)
MEMCALC: dict[str, Callable[..., float]] = {
    "mlp-param-count-784-512-10": lambda: params_of((784, 512, 10)),
    "mlp-param-count-two-hidden": lambda n_in, h: params_of((int(n_in), int(h), int(h), 10)),
    "mlp-param-count-deep-uniform": lambda h, L: params_of((784, *[int(h)] * int(L), 10)),
    "mem-weights-one-million-fp32": lambda: estimate(Config(batch=1, params=10**6)).weights / 1e6,
    "mem-bf16-weights-mib": lambda params: estimate(
        Config(batch=1, params=int(params), dtype="bf16")).weights / 2**20,
    "mem-adam-fp32-model-states": adam_states,
    "mem-mlp-relu-saved-bytes": relu_saves,
    "mem-mixed-precision-adam-gb": master_states,
    "sc-zero-stage1-memory": lambda: zero_states(7.5, 64, 1),
    "sc-zero-stage2-memory": lambda: zero_states(7.5, 64, 2),
    "sc-zero-stage3-memory": lambda billions, gpus: zero_states(billions, gpus, 3),
}


@pytest.mark.parametrize("card_id", sorted(MEMCALC))
def test_card_matches_memcalc(card_id: str) -> None:
    card = load_bank().cards[card_id]
    assert isinstance(card, Numeric)
    if card.template is None:
        assert card.answer is not None
        cases = [({}, card.answer)]
    else:
        tree = compile_formula(card.template.formula, frozenset(card.template.vars))
        cases = [(values, evaluate(tree, values)) for values in assignments(card.template.vars)]
    for values, expected in cases:
        computed = MEMCALC[card_id](**values)
        assert card.tolerance.accepts(computed, expected), (card_id, values, computed, expected)
