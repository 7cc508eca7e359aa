"""weight-init: symmetric inits never break symmetry; tiny inits vanish; Xavier/He hold."""

from __future__ import annotations

import math
from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "weight-init", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()


def test_zero_and_constant_init_keep_every_hidden_unit_identical(result: Result) -> None:
    for net in ("tanh", "relu"):
        for scheme in ("zero", "constant"):
            assert result.numbers[net][scheme]["unit_spread"] < 1e-6, (net, scheme)
        for scheme in ("normal", "xavier", "he"):
            assert result.numbers[net][scheme]["unit_spread"] > 1e-2, (net, scheme)
        assert result.numbers[net]["zero"]["final_loss"] == pytest.approx(math.log(2), abs=1e-3)
    assert "4 of 4 runs every hidden unit is still identical" in result.verdict


def test_small_init_vanishes_xavier_and_he_keep_the_scale(result: Result) -> None:
    for net in ("tanh", "relu"):
        small = result.numbers[net]["normal"]["activation_std_at_init"]
        assert small[-1] < 1e-6 * small[0]
        assert f"{net} activation std shrank from" in result.verdict
    assert min(result.numbers["tanh"]["xavier"]["activation_std_at_init"]) > 0.05
    assert min(result.numbers["relu"]["he"]["activation_std_at_init"]) > 0.2
    assert result.numbers["effect"] is True


def test_xavier_on_relu_loses_a_factor_of_about_root_two_per_layer(result: Result) -> None:
    per = result.numbers["xavier_relu_per_layer"]
    assert per == pytest.approx(1 / math.sqrt(2), abs=0.06)
    assert f"multiplies the std by {per:.2f} per layer" in result.verdict
    assert "about 1/√2 ≈ 0.71, as He et al. (2015) predict" in result.verdict
    # the word "about level" is the shared vocabulary's: within 2x over every layer
    assert "Xavier keeps tanh's std about level over all 8 layers" in result.verdict
    assert "He keeps relu's std about level over all 8 layers" in result.verdict


def test_the_verb_comes_from_the_numbers() -> None:
    result = run(params={"std": 0.3}, steps=3)
    assert "tanh activation std grew from" in result.verdict and "shrank" not in result.verdict
    assert result.numbers["effect"] is False
    assert "The signal did not vanish 100-fold in tanh/relu." in result.verdict


def test_jitter_breaks_the_symmetry() -> None:
    result = run(params={"jitter": 0.01}, steps=3)
    assert result.numbers["identical"] == [] and result.numbers["effect"] is False
    assert "in 0 of 4 runs" in result.verdict
    assert "The symmetry was broken in 4 of 4 zero (0)/constant runs." in result.verdict


def test_zero_learning_rate_is_not_a_test_of_training_and_ties_are_named() -> None:
    result = run(params={"lr": 0.0}, steps=3)
    assert result.numbers["effect"] is False
    assert "with lr 0 (nothing trained in 3 steps" in result.verdict
    assert "after training" not in result.verdict
    # ReLU's zero, constant, normal and Xavier runs all sit at ln 2: a tie, not a winner
    assert "relu zero/constant/normal/xavier (tied) 0.693" in result.verdict
    assert "The effect did not appear. Nothing was trained (lr 0)." in result.verdict


def test_deep_he_relu_is_not_said_to_keep_its_scale_when_it_spreads_over_2x() -> None:
    """At depth 30 He's ReLU std spans ~10x: "keeps within 0.07-0.72" was printed before."""
    result = run(params={"depth": 30}, steps=2)
    stds = result.numbers["relu"]["he"]["activation_std_at_init"]
    assert max(stds) > 2 * min(stds)
    assert "He does not keep relu's std about level over 30 layers" in result.verdict


def test_a_zero_std_has_no_signal_to_vanish() -> None:
    result = run(params={"std": 0.0}, steps=2)
    assert "tanh activation std is 0 in every layer: no signal at all." in result.verdict
    assert result.numbers["vanished"] == [] and result.numbers["effect"] is False


def test_overflowing_activations_are_not_called_a_broken_symmetry() -> None:
    """Found by the fuzz test: constant 1.0 on a 23-layer ReLU net overflows to inf, its unit
    spread is NaN, and the verdict said "the symmetry was broken in 1 of 4"."""
    result = run(params={"depth": 23, "num_hiddens": 46, "value": 1.0, "lr": 0.0}, steps=1)
    assert "In relu/constant the activations overflowed (inf/NaN)" in result.verdict
    assert "symmetry was broken" not in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=3).numbers == run(steps=3).numbers


def test_an_inf_or_nan_loss_is_never_named_lowest() -> None:
    """A NaN loss first in the list used to poison min(): "relu  nan" named no init. The
    losses are set by hand on a tiny run's numbers: NaN first, inf last, then all inf/NaN."""
    from copy import deepcopy

    from dlprep.engine.loader import load_demo
    from dlprep.registry import registry

    module = load_demo(registry()["weight-init"].path)
    n = deepcopy(dict(run(params={"depth": 2, "num_hiddens": 2}, steps=1).numbers))
    for scheme, loss in zip(module.SCHEMES, [math.nan, 5.0, 0.8, 0.7, math.inf], strict=True):
        n["relu"][scheme]["final_loss"] = loss
    assert "relu xavier 0.700." in module.verdict(n)
    assert "relu xavier 0.700." in module.verdict(n, "ko")
    for scheme in module.SCHEMES:
        n["relu"][scheme]["final_loss"] = math.nan if scheme == "he" else math.inf
    said = module.verdict(n)
    assert "relu none (all inf/NaN)." in said and "Lowest final loss: tanh" in said
    for scheme in module.SCHEMES:
        n["tanh"][scheme]["final_loss"] = math.nan
    said = module.verdict(n)
    assert "Lowest final loss" not in said
    assert "Every run's final loss is inf/NaN: no init has a lowest loss." in said
    assert "모든 실행의 최종 손실이 inf/NaN" in module.verdict(n, "ko")
