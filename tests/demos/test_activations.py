"""activations: derivative curves from autograd and a training race."""

from __future__ import annotations

from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "activations", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()


def test_derivatives_match_the_textbook(result: Result) -> None:
    n = result.numbers
    assert n["sigmoid"]["max_derivative"] == pytest.approx(0.25, abs=1e-3)
    assert n["tanh"]["max_derivative"] == pytest.approx(1.0, abs=1e-3)
    assert n["relu"]["max_derivative"] == 1.0 and n["relu"]["derivative_at_-4"] == 0.0
    assert n["leaky_relu"]["derivative_at_-4"] == pytest.approx(0.01)
    assert n["gelu"]["max_derivative"] > 1.05 and n["silu"]["max_derivative"] > 1.05
    assert n["sigmoid"]["derivative_at_4"] < 0.02
    assert len(n["grid"]) == len(n["sigmoid"]["values"]) == len(n["sigmoid"]["derivatives"])


def test_sigmoid_loses_the_race(result: Result) -> None:
    n = result.numbers
    assert n["ranking"][-1] == "sigmoid"
    assert n["sigmoid"]["final_loss"] > 2 * n["relu"]["final_loss"]
    assert n["sigmoid"]["steps_to_target"] is None and n["relu"]["steps_to_target"]
    assert "sigmoid placed 7 of 7" in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=3).numbers == run(steps=3).numbers
