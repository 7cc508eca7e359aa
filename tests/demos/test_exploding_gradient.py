"""exploding-gradient: too-large init blows up; clipping keeps it finite and lets it train."""

from __future__ import annotations

import math
from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "exploding-gradient", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()


def test_unclipped_diverges_clipping_rescues_training(result: Result) -> None:
    n = result.numbers
    assert "unclipped" in result.diverged and "clipped" not in result.diverged
    assert result.diverged["unclipped"] == n["diverged"]["unclipped"] <= 10
    assert n["clipped"]["steps_run"] == 200 and math.isfinite(n["clipped"]["last_finite_loss"])
    times = n["clipped"]["last_finite_loss"] / n["mean_baseline"]
    assert times < 0.2  # trained, not merely finite
    assert f"step {result.diverged['unclipped']}" in result.verdict
    assert f"It trained: its loss came down to {times:.2g}x" in result.verdict


def test_activation_gradients_grow_layer_by_layer_and_are_labelled(result: Result) -> None:
    n = result.numbers
    norms = n["unclipped"]["grad_norms_at_init"]
    assert norms == sorted(norms, reverse=True)  # larger towards the input
    assert n["unclipped"]["growth_per_layer"] > 1.25 and n["effect"] is True
    assert "activation gradient |dL/dh| at initialisation grew" in result.verdict
    # The weight gradients do not grow towards the input: the verdict says which one does.
    weights = n["unclipped"]["weight_grad_norms_at_init"]
    assert weights[0] < weights[-1] and "it is dL/dh that grows" in result.verdict


def test_he_init_control_does_not_explode() -> None:
    result = run(params={"gain": 1.0}, steps=30)
    assert not result.diverged and result.numbers["unclipped"]["growth_per_layer"] < 1.25
    assert result.numbers["effect"] is False
    assert "No exploding gradients: dL/dh did not grow" in result.verdict


def test_zero_learning_rate_is_not_called_trained_or_exploded() -> None:
    result = run(params={"lr": 0.0}, steps=5)
    assert result.numbers["effect"] is False and not result.diverged
    assert "no lower than where it started" in result.verdict
    assert "It trained" not in result.verdict


def test_a_divergence_without_growth_blames_nothing_the_run_did_not_vary() -> None:
    result = run(params={"gain": 1.0, "lr": 0.05}, steps=10)
    assert "unclipped" in result.diverged and result.numbers["effect"] is False
    assert "No exploding gradients at initialisation" in result.verdict
    assert "does not vary the learning rate" in result.verdict
    assert "caused it" not in result.verdict and "Likely cause" not in result.verdict


def test_a_gain_of_1_2_grows_over_the_stack_and_says_so_once() -> None:
    """gain 1.2: 1.2x per layer is 7.5x over 12 layers; it was called "about level" and then
    blamed on both the init and the learning rate in one verdict."""
    result = run(params={"gain": 1.2}, steps=10)
    assert result.numbers["effect"] is True
    assert "grew from the output back to the input" in result.verdict
    assert "about level" not in result.verdict and "learning rate, not" not in result.verdict


def test_large_gain_clipping_only_caps_the_step() -> None:
    result = run(params={"gain": 2.5, "max_norm": 1.0}, steps=20)
    assert result.numbers["effect"] is True
    assert "Finite is not trained, though" in result.verdict


def test_a_small_gain_shrinks_the_gradient_and_nothing_is_called_trained() -> None:
    result = run(params={"gain": 0.5}, steps=20)
    assert result.numbers["unclipped"]["growth_per_layer"] < 0.8
    assert "shrank from the output back to the input" in result.verdict
    assert "about 0.501x per layer" in result.verdict
    assert "Finite is not trained" in result.verdict
    assert "It trained" not in result.verdict and result.numbers["effect"] is False


def test_same_seed_same_numbers() -> None:
    first = run(steps=4).numbers
    assert run(steps=4).numbers == first
