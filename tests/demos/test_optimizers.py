"""optimizers: each at its best swept rate, plain SGD is slowest on an MLP, not on a quadratic."""

from __future__ import annotations

import re
from functools import cache

import pytest

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

RACED = ("sgd", "momentum", "rmsprop", "adam")


@cache
def run(seed: int = 0, steps: int | None = None, **params: object) -> Result:
    return final_result("optimizers", device="cpu", seed=seed, steps=steps, params=params)


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def verdict(numbers: dict, lang: str = "en") -> str:
    return str(load_demo(registry()["optimizers"].path).verdict(numbers, lang=lang))


@pytest.mark.parametrize("seed", [0, 1])
def test_tuned_sgd_still_needs_several_times_the_steps(seed: int) -> None:
    result = run(seed)
    n = result.numbers
    assert n["effect"] and all(len(n[k]["sweep"]) == 3 for k in RACED)
    for k in RACED:  # each races with the sweep's fastest rate; slower ones were cut off
        sweep = n[k]["sweep"].values()
        reached = [r["steps"] for r in sweep if r["steps"] is not None]
        assert n[k]["steps"] == min(reached)
        assert all(r["slower_than"] is None or r["slower_than"] >= n[k]["steps"] for r in sweep)
    assert f"lr 0.3: slower than {n['sgd']['steps']}" in result.verdict
    assert n["sgd"]["best_lr"] == 1.0  # below it SGD crawls, above it overshoots
    fastest = min(n[k]["steps"] for k in ("momentum", "rmsprop", "adam"))
    assert n["sgd"]["steps"] >= 3 * fastest
    assert f"needed {n['sgd']['steps'] / fastest:.1f}x as many (2x or more)" in result.verdict
    assert numbers_in(verdict(n, "ko")) == numbers_in(result.verdict)


@pytest.mark.parametrize("seed", [0, 1])
def test_on_a_perfectly_conditioned_quadratic_the_advantage_is_gone(seed: int) -> None:
    result = run(seed, **registry()["optimizers"].control)
    n = result.numbers
    assert not n["effect"] and n["problem"] == "quadratic"
    assert n["sgd"]["steps"] <= min(n[k]["steps"] or 999 for k in ("momentum", "rmsprop", "adam"))
    assert "no optimizer advantage here" in result.verdict and "fastest was SGD" in result.verdict
    assert "needed" not in result.verdict


def test_adamw_runs_outside_the_race_at_adams_rate() -> None:
    n, text = run(0).numbers, run(0).verdict
    assert "adamw" not in n["sgd"] and n["adamw"]["best_lr"] == n["adam"]["best_lr"]
    assert abs(n["adamw"]["steps"] - n["adam"]["steps"]) <= 2
    assert "Outside the race, AdamW" in text
    assert f"AdamW {n['adamw']['steps']}, Adam {n['adam']['steps']}, about the same" in text
    assert "AdamW" not in text.split("Outside the race")[0]


def test_divergence_and_an_unreachable_target_are_reported() -> None:
    result = run(0, steps=20, target_loss=0.0)
    n = result.numbers
    assert not n["effect"] and all(n[k]["steps"] is None for k in RACED)
    assert "No optimizer reached the target at any learning rate tried." in result.verdict
    assert "not within 20" in result.verdict
    quadratic = run(0, **registry()["optimizers"].control)
    assert quadratic.numbers["sgd"]["sweep"]["1"]["steps"] is None
    assert "lr 1: diverged" in quadratic.verdict and "SGD lr=1" in quadratic.diverged


def test_ties_share_first_place() -> None:
    n = {k: dict(v) if isinstance(v, dict) else v for k, v in run(0).numbers.items()}
    n["momentum"]["steps"] = n["adam"]["steps"]
    assert "fastest was SGD+momentum = Adam" in verdict(n)
    n["sgd"]["steps"] = n["adam"]["steps"]
    text = verdict({**n, "effect": False})
    assert "fastest was SGD = SGD+momentum = Adam" in text
    assert "Plain SGD was itself the fastest, so no optimizer advantage here" in text
    n["sgd"]["steps"] = n["adam"]["steps"] + 10  # slower, but within 2x
    text = verdict({**n, "effect": False})
    assert f"Plain SGD ({n['sgd']['steps']}) stayed within 2x, so no optimizer advantage" in text


def test_same_seed_same_numbers() -> None:
    first = final_result("optimizers", device="cpu", seed=0, steps=5)
    assert first.numbers == run(0, steps=5).numbers
