"""learning-rate: too small barely moves, good converges, too large jumps up, beyond diverges."""

from __future__ import annotations

import math
import re
from functools import cache

import pytest

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry


@cache
def run(seed: int = 0, steps: int | None = 60, lang: str = "en", **params: float) -> Result:
    return final_result("learning-rate", device="cpu", seed=seed, steps=steps, params=params,
                        lang=lang)


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def test_param_names_do_not_give_the_answer_away() -> None:
    info = registry()["learning-rate"]
    assert list(info.params)[:4] == ["lr1", "lr2", "lr3", "lr4"]
    for spec in info.params.values():
        assert not re.search(r"small|good|large|diverg", spec.help)


@pytest.mark.parametrize("seed", [0, 1])
def test_each_rate_does_what_its_curve_shows(seed: int) -> None:
    result = run(seed)
    runs = result.numbers["runs"]
    small, good, large, big = (runs[k] for k in ("lr1", "lr2", "lr3", "lr4"))
    assert result.numbers["effect"]
    assert small["outcome"] == "barely moved" and good["outcome"] == "converged"
    assert good["final_loss"] < 0.1 * good["initial_loss"]
    assert large["outcome"] == "went up" and large["max_loss"] > 2 * large["initial_loss"]
    assert big["outcome"] == "diverged" and not math.isfinite(big["final_loss"])
    assert result.diverged == {big["name"]: big["diverged_at"]} and big["diverged_at"] <= 10
    assert f"at step {big['diverged_at']}" in result.verdict
    assert "The lowest final loss came from lr=0.1." in result.verdict
    assert "at lr=0.7, 3 the loss jumped up, rose or diverged" in result.verdict
    assert all(f"#{i}" in runs[f"lr{i}"]["name"] for i in range(1, 5))  # names are neutral
    assert not re.search(r"small|good|large|diverg", " ".join(r["name"] for r in runs.values()))


@pytest.mark.parametrize("seed", [0, 1])
def test_one_good_rate_for_all_four_is_the_control(seed: int) -> None:
    result = run(seed, **registry()["learning-rate"].control)
    runs = result.numbers["runs"]
    assert not result.numbers["effect"] and not result.diverged
    assert len({r["final_loss"] for r in runs.values()}) == 1
    assert result.verdict.startswith("lr=0.1 (×4): ")
    assert "the good-versus-too-large contrast is absent here" in result.verdict


def test_zero_rates_claim_no_best() -> None:
    result = run(0, steps=5, lr1=0.0, lr2=0.0, lr3=0.0, lr4=0.0)
    assert all(r["outcome"] == "unchanged" for r in result.numbers["runs"].values())
    assert not result.numbers["effect"]
    assert "No run lowered its loss, so there is no best rate." in result.verdict
    assert "lowest" not in result.verdict


def test_ties_and_korean_carry_the_same_numbers() -> None:
    result = run(0, steps=10, lr3=0.1, lr4=0.05)
    assert "The lowest final loss came from lr=0.1." in result.verdict
    assert not result.diverged and "diverg" not in result.verdict.split(".")[-2]
    module = load_demo(registry()["learning-rate"].path)
    for numbers in (run(0).numbers, result.numbers, run(0, steps=5, lr1=0.0).numbers):
        assert numbers_in(module.verdict(numbers)) == numbers_in(
            module.verdict(numbers, lang="ko"))
    n = run(0).numbers
    runs = {k: dict(v) for k, v in n["runs"].items()}
    runs["lr1"]["final_loss"] = runs["lr2"]["final_loss"]  # a tie for the lowest loss
    runs["lr1"]["outcome"] = "converged"
    assert "came from lr=0.001, 0.1." in module.verdict({**n, "runs": runs})


def test_same_seed_same_numbers() -> None:
    first = final_result("learning-rate", device="cpu", seed=0, steps=8)
    assert str(first.numbers) == str(run(0, steps=8).numbers)  # str: NaN != NaN


def test_the_lowest_final_loss_counts_a_run_that_never_moved() -> None:
    """lr=0 keeps its starting loss, below every run that jumped up: it is the lowest (the
    verdict used to skip unchanged runs and name lr=0.9 here)."""
    result = run(0, steps=60, lr1=0.0, lr2=0.9, lr3=1.1, lr4=2.0)
    assert "lr=0: loss stayed at 0.466, unchanged." in result.verdict
    assert "The lowest final loss came from lr=0." in result.verdict


def test_a_small_rise_is_not_a_jump() -> None:
    """'jumped up' means spiked (above 1.25x the first loss somewhere in the run); a loss
    that ends higher without that is said to have risen."""
    module = load_demo(registry()["learning-rate"].path)
    assert module._outcome([1.0, 1.1, 1.2]) == "rose"
    assert module._outcome([1.0, 1.3, 0.4]) == "went up"
    assert module._outcome([1.0, 0.6, 0.49]) == "converged"
    assert module._outcome([1.0, 0.8, 0.6]) == "barely moved"
