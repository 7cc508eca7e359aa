"""linear-collapse: linear-only stacks are one matrix and cannot fit XOR; ReLU can."""

from __future__ import annotations

import math
from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "linear-collapse", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()


def test_linear_only_cannot_fit_xor_relu_can(result: Result) -> None:
    n = result.numbers
    assert n["xor/linear"]["final_loss"] == pytest.approx(math.log(2), abs=0.02)
    assert n["xor/relu"]["accuracy"] >= 0.95
    assert n["spirals/relu"]["accuracy"] >= n["spirals/linear"]["accuracy"] + 0.2
    assert n["effect"] is True
    assert "is about ln 2 = 0.693" in result.verdict


def test_stacked_linear_layers_equal_one_matrix(result: Result) -> None:
    n = result.numbers
    assert n["xor/linear"]["single_matrix_gap"] < 1e-4
    assert n["spirals/linear"]["single_matrix_gap"] < 1e-4
    assert n["xor/relu"]["single_matrix_gap"] is None
    assert "gives the same outputs" in result.verdict


def test_seed_4_low_accuracy_is_explained_by_the_loss() -> None:
    result = run(seed=4)
    xl = result.numbers["xor/linear"]
    assert xl["accuracy"] < 0.5 and abs(xl["final_loss"] - math.log(2)) < 0.02
    assert f"loss {xl['final_loss']:.3f} is about ln 2" in result.verdict


def test_linearly_separable_labels_are_fitted_by_the_linear_stack() -> None:
    result = run(params={"labels": "linear"}, steps=60)
    assert result.numbers["halves/linear"]["accuracy"] >= 0.95
    assert result.numbers["effect"] is False and "No effect" in result.verdict


def test_huge_outputs_are_compared_relative_to_their_size() -> None:
    """depth 20, lr 0.1: outputs near 1e10 differ from the one matrix's by float32 rounding
    (1e-6 of them, 15360 absolute), which the verdict called "does NOT give the same"."""
    result = run(params={"depth": 20, "lr": 0.1}, steps=20)
    xl = result.numbers["xor/linear"]
    assert xl["single_matrix_gap"] > 1 and xl["single_matrix_gap"] < 1e-5 * xl["output_scale"]
    assert "gives the same outputs" in result.verdict and "NOT" not in result.verdict


def test_zero_learning_rate_claims_no_fit() -> None:
    result = run(params={"lr": 0.0}, steps=5)
    assert result.numbers["effect"] is False and "No effect" in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=3).numbers == run(steps=3).numbers
