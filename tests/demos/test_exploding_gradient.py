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
    assert n["cause"].startswith("exploding gradients")
    assert "activation gradient |dL/dh|" in result.verdict


def test_he_init_control_does_not_explode() -> None:
    result = run(params={"gain": 1.0}, steps=30)
    assert not result.diverged and result.numbers["unclipped"]["growth_per_layer"] < 1.25
    assert result.numbers["effect"] is False
    assert "No exploding gradients at initialisation" in result.verdict


def test_zero_learning_rate_is_not_called_trained_or_exploded() -> None:
    result = run(params={"lr": 0.0}, steps=5)
    assert result.numbers["effect"] is False and not result.diverged
    assert "With lr 0 neither run trained." in result.verdict
    assert "It trained" not in result.verdict and "Clipping only caps" not in result.verdict


def test_a_learning_rate_divergence_is_not_blamed_on_the_init() -> None:
    result = run(params={"gain": 1.0, "lr": 0.05}, steps=10)
    assert "unclipped" in result.diverged and result.numbers["effect"] is False
    assert "the learning rate, not the init, caused it" in result.verdict


def test_large_gain_clipping_only_caps_the_step() -> None:
    result = run(params={"gain": 2.5, "max_norm": 1.0}, steps=20)
    assert result.numbers["effect"] is True
    assert "Clipping only caps each step" in result.verdict


def test_a_small_gain_shrinks_the_gradient_and_nothing_is_called_trained() -> None:
    result = run(params={"gain": 0.5}, steps=20)
    assert result.numbers["unclipped"]["growth_per_layer"] < 0.8
    assert "shrinks to about 0.5x per layer" in result.verdict
    assert "it learned no more than the mean" in result.verdict
    assert "It trained" not in result.verdict and result.numbers["effect"] is False


def test_same_seed_same_numbers() -> None:
    first = run(steps=4).numbers
    assert run(steps=4).numbers == first
