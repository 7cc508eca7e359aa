"""linear-collapse: linear-only stacks are one matrix and cannot fit XOR; ReLU can."""

from __future__ import annotations

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
    assert n["xor/linear"]["accuracy"] <= 0.6
    assert n["xor/relu"]["accuracy"] >= 0.95
    assert n["spirals/relu"]["accuracy"] >= n["spirals/linear"]["accuracy"] + 0.2


def test_stacked_linear_layers_equal_one_matrix(result: Result) -> None:
    n = result.numbers
    assert n["xor/linear"]["single_matrix_gap"] < 1e-4
    assert n["spirals/linear"]["single_matrix_gap"] < 1e-4
    assert n["xor/relu"]["single_matrix_gap"] is None
    assert "gives the same outputs" in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=3).numbers == run(steps=3).numbers
