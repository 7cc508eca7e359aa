"""overfitting: with 48 points validation loss turns up; dropout and early stopping help on test."""

from __future__ import annotations

import re
from functools import cache

import pytest

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry


@cache
def run(seed: int = 0, steps: int | None = None, lang: str = "en", **params: float) -> Result:
    return final_result("overfitting", device="cpu", seed=seed, steps=steps, params=params,
                        lang=lang)


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


@pytest.mark.parametrize("seed", [0, 1])
def test_little_data_overfits_and_both_remedies_narrow_the_test_gap(seed: int) -> None:
    result = run(seed)
    n = result.numbers
    plain, drop, early = n["plain"], n["dropout"], n["early stopping"]
    assert n["effect"] and plain["train_acc"] >= 0.95 and plain["gap"] > 1.0
    assert plain["val_loss"] > 2 * plain["best_val_loss"]
    assert drop["gap"] < 0.5 * plain["gap"] and early["gap"] < 0.3 * plain["gap"]
    assert early["test_acc"] >= plain["test_acc"]
    assert "It overfits" in result.verdict
    assert f"gap {drop['gap']:.3g}, {drop['gap'] / plain['gap']:.0%} of plain's" in result.verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_more_data_is_the_control(seed: int) -> None:
    result = run(seed, **registry()["overfitting"].control)
    plain = result.numbers["plain"]
    assert result.numbers["num_train"] == 1024 and not result.numbers["effect"]
    assert plain["val_loss"] < 1.25 * plain["best_val_loss"] and plain["gap"] < 0.1
    assert "Not enough to call it overfitting" in result.verdict
    assert "of plain's" not in result.verdict  # no gap, so no share of it is claimed


def test_early_stopping_picks_on_validation_and_is_scored_on_test() -> None:
    result = run(0)
    n, early = result.numbers, result.numbers["early stopping"]
    assert early["epochs_run"] - early["best_epoch"] == 20  # the default patience
    assert early["val_loss"] == pytest.approx(early["best_val_loss"], abs=1e-6)
    assert early["test_loss"] != pytest.approx(early["val_loss"], abs=1e-6)  # another set
    assert early["gap"] == pytest.approx(early["test_loss"] - early["train_loss"])
    assert f"halted at epoch {early['epochs_run']}" in result.verdict
    assert f"restored epoch {early['best_epoch']}'s weights, chosen on validation" in (
        result.verdict)
    assert f"test loss {early['test_loss']:.3g}" in result.verdict
    assert n["plain"]["best_epoch"] < 100


def test_zero_learning_rate_is_no_overfitting() -> None:
    result = run(0, steps=25, lr=0.0)
    plain = result.numbers["plain"]
    assert not result.numbers["effect"] and plain["val_loss"] == plain["best_val_loss"]
    assert "stayed near its minimum" in result.verdict and "It overfits" not in result.verdict


def test_korean_says_the_same_numbers() -> None:
    module = load_demo(registry()["overfitting"].path)
    for numbers in (run(0).numbers, run(0, steps=10, patience=50).numbers):
        en, ko = module.verdict(numbers), module.verdict(numbers, lang="ko")
        assert numbers_in(en) == numbers_in(ko)
    short = run(0, steps=10, lang="ko", patience=50)
    assert short.numbers["early stopping"]["epochs_run"] == 10
    assert "10에폭을 모두 돈 뒤" in short.verdict


def test_same_seed_same_numbers() -> None:
    first = final_result("overfitting", device="cpu", seed=0, steps=5)
    assert first.numbers == run(0, steps=5).numbers


def test_a_diverged_plain_run_does_not_stay_near_its_minimum() -> None:
    """NaN compares False, so a NaN validation loss once "stayed near its minimum"; a share
    of 0.06 % once printed as "0% of plain's"."""
    module = load_demo(registry()["overfitting"].path)
    n = run(0, steps=10).numbers
    diverged = {**n, "plain": {**n["plain"], "val_loss": float("nan")}}
    text = module.verdict(diverged)
    assert "ended at inf/NaN" in text and "stayed near" not in text
    tiny = {**n, "plain": {**n["plain"], "gap": 31.8}, "dropout": {**n["dropout"], "gap": 0.0188}}
    assert "gap 0.0188, under 1% of plain's" in module.verdict(tiny)
    assert numbers_in(module.verdict(tiny)) == numbers_in(module.verdict(tiny, lang="ko"))


def test_a_remedy_that_learned_nothing_is_named() -> None:
    """At lr 1 the dropout net ends at chance with a tiny gap: once read as a remedy."""
    result = run(0, steps=60, lr=1.0)
    n = result.numbers
    assert n["dropout"]["test_acc"] < n["chance"] + 0.1
    assert "Dropout did not learn" in result.verdict
    assert numbers_in(result.verdict) == numbers_in(
        load_demo(registry()["overfitting"].path).verdict(n, lang="ko"))
