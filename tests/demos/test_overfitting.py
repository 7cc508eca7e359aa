"""overfitting: validation loss rises while training loss falls; dropout and early stopping help."""

from __future__ import annotations

from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "overfitting", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()


def test_plain_mlp_memorises_and_validation_loss_rises(result: Result) -> None:
    plain = result.numbers["plain"]
    assert plain["train_loss"] < 0.1 and plain["train_acc"] >= 0.95
    assert plain["val_loss"] > 2 * plain["best_val_loss"]
    assert plain["best_epoch"] < 100 and plain["gap"] > 1.0


def test_dropout_and_early_stopping_each_narrow_the_gap(result: Result) -> None:
    n = result.numbers
    assert n["dropout"]["gap"] < 0.5 * n["plain"]["gap"]
    assert n["early stopping"]["gap"] < 0.3 * n["plain"]["gap"]
    assert n["early stopping"]["val_acc"] >= n["plain"]["val_acc"]


def test_early_stopping_restores_the_best_validation_weights(result: Result) -> None:
    n, early = result.numbers, result.numbers["early stopping"]
    assert early["epochs_run"] < n["num_epochs"]
    assert early["epochs_run"] - early["best_epoch"] == 20  # the default patience
    assert early["val_loss"] == pytest.approx(early["best_val_loss"], abs=1e-6)
    assert f"halted at epoch {early['epochs_run']}" in result.verdict
    assert f"restored epoch {early['best_epoch']}'s weights" in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=5).numbers == run(steps=5).numbers


def test_korean_verdict_when_training_is_too_short_to_stop() -> None:
    result = run(steps=10, params={"patience": 50}, lang="ko")
    assert result.numbers["early stopping"]["epochs_run"] == 10
    assert "10에폭을 모두 돈 뒤" in result.verdict
