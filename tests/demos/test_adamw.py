"""adamw: Adam+L2's decay is divided by the adaptive denominator; AdamW's is uniform."""

from __future__ import annotations

import re
from functools import partial

import pytest

from dlprep.engine import Step, final_result, stream
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

run = partial(final_result, "adamw", device="cpu")
verdict = load_demo(registry()["adamw"].path).verdict


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text))


@pytest.mark.parametrize("seed", [0, 1])
def test_l2_decay_is_not_uniform_adamw_is(seed: int) -> None:
    result = run(seed=seed)
    n = result.numbers
    l2 = n["adam+l2"]
    assert n["effect"] is True and l2["decay_spread"] > 10
    assert n["adamw"]["decay_per_step"] == pytest.approx(0.01 * 0.01)
    assert l2["decay_p10"] > n["adamw"]["decay_per_step"]  # far from lr x wd
    assert l2["weight_norm"] < n["adamw"]["weight_norm"] < n["adam"]["weight_norm"] * 1.05
    assert f"a {l2['decay_spread']:.3g}x spread" in result.verdict
    assert "smallest where the running gradient size is largest" in result.verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_control_without_decay_all_three_are_adam(seed: int) -> None:
    result = run(seed=seed, steps=30, params=dict(registry()["adamw"].control))
    n = result.numbers
    assert n["effect"] is False
    assert n["adam"]["weight_norm"] == n["adam+l2"]["weight_norm"] == n["adamw"]["weight_norm"]
    assert "the same Adam" in result.verdict


def test_per_layer_decay_is_streamed_for_adam_l2() -> None:
    events = [e for e in stream("adamw", device="cpu", seed=0, steps=5) if isinstance(e, Step)]
    l2 = [e for e in events if e.run == "adam+l2"]
    assert {"decay/1", "decay/2", "decay/3"} <= set(l2[-1].metrics)
    assert all(not any(k.startswith("decay/") for k in e.metrics)
               for e in events if e.run != "adam+l2")


@pytest.mark.parametrize("params", [{}, {"wd": 0}, {"lr": 0}, {"wd": 100}])
def test_korean_has_the_same_numbers(params: dict) -> None:
    n = run(seed=0, steps=20, params=params).numbers
    assert numbers_in(verdict(n, lang="ko")) == numbers_in(verdict(n))


def test_a_spread_under_10x_is_not_called_uniform() -> None:
    """At 2 hidden units the spread is about 7x: uneven, not over 10x, and not "nearly
    uniform" (the vocabulary's word for shares within 10 points)."""
    result = run(seed=0, steps=50, params={"num_hiddens": 2})
    spread = result.numbers["adam+l2"]["decay_spread"]
    assert 2 < spread <= 10 and result.numbers["effect"] is False
    assert "Uneven, but not over the 10x the claim speaks of." in result.verdict
    assert "uniform" not in result.verdict


def test_a_decay_of_lr_times_wd_above_1_is_not_called_shrinking() -> None:
    """AdamW multiplies each weight by 1 - lr x wd: at lr x wd = 5 that flips its sign."""
    result = run(seed=0, steps=3, params={"lr": 0.05, "wd": 100})
    assert "shrinks every weight" not in result.verdict
    assert "multiplies every weight by 1 - lr x wd = -4 each step" in result.verdict
