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


def test_small_init_vanishes_xavier_and_he_keep_the_scale(result: Result) -> None:
    for net in ("tanh", "relu"):
        small = result.numbers[net]["normal"]["activation_std_at_init"]
        assert small[-1] < 1e-6 * small[0]
    assert min(result.numbers["tanh"]["xavier"]["activation_std_at_init"]) > 0.05
    assert min(result.numbers["relu"]["he"]["activation_std_at_init"]) > 0.2
    for net in ("tanh", "relu"):
        good = min(result.numbers[net][s]["final_loss"] for s in ("xavier", "he"))
        assert good < 0.5 * result.numbers[net]["zero"]["final_loss"]
    assert "4 of 4 runs every hidden unit is still identical" in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=3).numbers == run(steps=3).numbers
