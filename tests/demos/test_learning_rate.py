"""learning-rate: too small barely moves, good converges, too large jumps up, divergent explodes."""

from __future__ import annotations

import math
from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "learning-rate", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run(steps=60)


def test_divergent_rate_is_a_result_with_its_step(result: Result) -> None:
    runs = result.numbers["runs"]
    divergent = runs["lr_divergent"]
    assert divergent["outcome"] == "diverged" and not math.isfinite(divergent["final_loss"])
    assert result.diverged == {divergent["name"]: divergent["diverged_at"]}
    assert divergent["diverged_at"] <= 10
    assert f"at step {divergent['diverged_at']}" in result.verdict


def test_good_rate_reaches_a_low_loss_and_the_small_one_barely_moves(result: Result) -> None:
    runs = result.numbers["runs"]
    good, small = runs["lr_good"], runs["lr_small"]
    assert good["outcome"] == "converged" and good["final_loss"] < 0.1 * good["initial_loss"]
    assert small["outcome"] == "barely moved" and small["final_loss"] > 0.5 * small["initial_loss"]
    assert "lowest final loss came from lr=0.1" in result.verdict


def test_too_large_rate_makes_the_loss_jump_up(result: Result) -> None:
    runs = result.numbers["runs"]
    large = runs["lr_large"]
    assert large["outcome"] == "went up" and math.isfinite(large["final_loss"])
    assert large["max_loss"] > 2 * large["initial_loss"]
    assert large["final_loss"] > 3 * runs["lr_good"]["final_loss"]
    assert f"up to {large['max_loss']:.3g}" in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=8).numbers == run(steps=8).numbers


def test_set_rates_change_the_outcome_and_korean_verdict() -> None:
    result = run(steps=10, params={"lr_divergent": 0.05, "lr_large": 0.2}, lang="ko")
    assert not result.diverged
    assert result.numbers["runs"]["lr_divergent"]["outcome"] != "diverged"
    assert "divergent lr=0.05" in result.verdict and "발산" not in result.verdict
