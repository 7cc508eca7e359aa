"""vanishing-gradient: sigmoid gradients vanish towards the input, ReLU+He's do not."""

from __future__ import annotations

from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "vanishing-gradient", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()


def test_sigmoid_first_layer_gradient_vanishes_relu_he_does_not(result: Result) -> None:
    s, r = result.numbers["sigmoid"], result.numbers["relu+he"]
    assert s["first_last_ratio"] < 1e-4
    assert r["first_last_ratio"] > 1e-2
    norms = s["grad_norms_at_init"]
    assert len(norms) == 11 and norms == sorted(norms)  # shrinks layer by layer to the input


def test_relu_he_learns_far_more(result: Result) -> None:
    s, r = result.numbers["sigmoid"], result.numbers["relu+he"]
    assert r["accuracy"] >= 0.9 and s["accuracy"] <= r["accuracy"] - 0.2
    assert f"{s['first_last_ratio']:.1e}" in result.verdict
    assert f"{r['accuracy']:.0%}" in result.verdict and "far less" in result.verdict
    assert not result.diverged and not result.cancelled


def test_same_seed_same_numbers() -> None:
    assert run(steps=5).numbers == run(steps=5).numbers


def test_korean_verdict_and_tanh_option() -> None:
    result = run(steps=5, params={"activation": "tanh", "depth": 3}, lang="ko")
    assert result.verdict.startswith("Tanh:") and "정확도" in result.verdict
    assert len(result.numbers["tanh"]["grad_norms_at_init"]) == 4
