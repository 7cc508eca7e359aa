"""optimizers: momentum and the adaptive optimizers reach the target loss long before SGD."""

from __future__ import annotations

from functools import partial

import pytest

from dlprep.engine import Result, final_result

STEPS = 150  # Adam needs ~40 steps at seed 0, momentum and RMSprop ~120; SGD needs > 300


# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "optimizers", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run(steps=STEPS)


def steps_to_target(result: Result, name: str) -> int:
    reached = result.numbers[name]["steps_to_target"]
    return reached if reached is not None else STEPS + 1  # never reached: beyond the run


def test_adam_reaches_the_target_in_far_fewer_steps_than_sgd(result: Result) -> None:
    adam, sgd = steps_to_target(result, "adam"), steps_to_target(result, "sgd")
    assert adam <= STEPS and adam * 3 < sgd
    assert steps_to_target(result, "adamw") * 3 < sgd


def test_momentum_and_rmsprop_beat_plain_sgd(result: Result) -> None:
    sgd = steps_to_target(result, "sgd")
    for name in ("momentum", "rmsprop"):
        assert steps_to_target(result, name) < sgd
        assert result.numbers[name]["final_loss"] < result.numbers["sgd"]["final_loss"]


def test_verdict_states_the_measured_step_counts(result: Result) -> None:
    n = result.numbers
    assert f"Adam {n['adam']['steps_to_target']}" in result.verdict
    assert "fewer steps than plain SGD" in result.verdict
    assert f"{n['sgd']['final_loss']:.3f}" in result.verdict
    assert not result.diverged and not result.cancelled


def test_same_seed_same_numbers() -> None:
    assert run(steps=5).numbers == run(steps=5).numbers


def test_unreachable_target_is_reported_in_korean() -> None:
    result = run(steps=5, params={"target_loss": 0.01}, lang="ko")
    assert all(result.numbers[k]["steps_to_target"] is None
               for k in ("sgd", "momentum", "rmsprop", "adam", "adamw"))
    assert "도달하지 못했습니다" in result.verdict and "0.01" in result.verdict
