"""exploding-gradient: too-large init blows up unless the gradient norm is clipped."""

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


def test_unclipped_diverges_clipped_stays_finite(result: Result) -> None:
    n = result.numbers
    assert "unclipped" in result.diverged and "clipped" not in result.diverged
    assert result.diverged["unclipped"] == n["diverged"]["unclipped"] <= 10
    assert n["clipped"]["steps_run"] == 200 and math.isfinite(n["clipped"]["last_finite_loss"])
    assert n["clipped"]["last_finite_loss"] < n["clipped"]["first_loss"]
    assert f"step {result.diverged['unclipped']}" in result.verdict
    # Finite is not trained: the verdict compares with predicting the mean.
    times = n["clipped"]["last_finite_loss"] / n["mean_baseline"]
    assert times > 2 and f"still {times:.3g}x that of predicting the mean" in result.verdict


def test_gradients_grow_layer_by_layer_and_the_cause_is_named(result: Result) -> None:
    n = result.numbers
    norms = n["unclipped"]["grad_norms_at_init"]
    assert norms == sorted(norms, reverse=True)  # larger towards the input
    assert n["unclipped"]["growth_per_layer"] > 1.5
    assert n["cause"].startswith("exploding gradients")
    assert "exploding gradients" in result.verdict


def test_with_plain_he_init_nothing_diverges() -> None:
    result = run(params={"gain": 1.0}, steps=30)
    assert not result.diverged and result.numbers["unclipped"]["growth_per_layer"] < 1.5
    assert "stayed finite for all 30 steps" in result.verdict


def test_same_seed_same_numbers() -> None:
    first = run(steps=4).numbers
    assert run(steps=4).numbers == first
