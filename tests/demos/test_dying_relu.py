"""dying-relu: a too-large learning rate kills ReLU units; the usual rate (the control) does not."""

from __future__ import annotations

import re
from functools import cache

import pytest

from dlprep.engine import Result, Step, final_result, stream
from dlprep.engine.loader import load_demo
from dlprep.registry import registry


@cache
def run(seed: int = 0, lang: str = "en", **params: float) -> Result:
    return final_result("dying-relu", device="cpu", seed=seed, params=params, lang=lang)


def control(seed: int) -> Result:
    return run(seed, **registry()["dying-relu"].control)


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


@pytest.mark.parametrize("seed", [0, 1])
def test_too_large_lr_kills_relu_units_and_the_verdict_says_so(seed: int) -> None:
    result = run(seed)
    n = result.numbers
    r, k = n["relu"], n["leaky_relu"]
    assert n["effect"] and r["stuck"] > 0.6 and r["stuck"] - r["stuck_at_init"] > 0.5
    assert k["stuck"] < r["stuck"]  # Leaky units are pushed below zero too, but fewer
    assert "killed ReLU units: the share stuck at or below 0" in result.verdict
    assert f"to {r['stuck']:.0%} after 300 steps" in result.verdict
    alive = round(n["units"] * (1 - r["stuck"]))
    assert f"leaving {alive} of 256 at work" in result.verdict
    assert f"Leaky ReLU has {k['stuck']:.0%} stuck" in result.verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_the_usual_lr_is_the_control_and_kills_nothing(seed: int) -> None:
    result = control(seed)
    r = result.numbers["relu"]
    assert result.numbers["lr"] == 0.001 and not result.numbers["effect"]
    assert r["stuck"] < r["stuck_at_init"] + 0.1 and r["val_accuracy"] > 0.8
    assert "did not kill ReLU units (no dying-ReLU effect)" in result.verdict


def test_units_dead_from_a_negative_bias_at_chance_are_not_called_a_solved_task() -> None:
    result = run(0, bias=-1.0, lr=0.001)
    n = result.numbers
    assert not n["effect"] and n["relu"]["stuck_at_init"] > 0.5
    assert max(n["relu"]["val_accuracy"], n["leaky_relu"]["val_accuracy"]) < n["chance"] + 0.05
    assert "Neither net learned the task: both are less than 10 points above chance (50%)" \
        in result.verdict
    assert "stuck from the start, before any update (initial bias -1)" in result.verdict
    assert "enough" not in result.verdict and "can be solved" not in result.verdict


def test_leaky_doing_worse_is_said_and_korean_says_the_same() -> None:
    module = load_demo(registry()["dying-relu"].path)
    n = dict(run(0).numbers)
    # Seed 4's outcome: ReLU 92 %, Leaky 61 % held-out accuracy.
    n["relu"] = {**n["relu"], "val_accuracy": 0.92}
    n["leaky_relu"] = {**n["leaky_relu"], "val_accuracy": 0.61}
    en, ko = module.verdict(n), module.verdict(n, lang="ko")
    assert "Leaky ReLU did worse here, 31 points below ReLU" in en
    assert "Leaky ReLU가 31%p 더 나빴습니다" in ko
    assert numbers_in(en) == numbers_in(ko)
    assert "below Leaky" not in en and "enough" not in en


def test_a_layer_killed_whole_is_named_not_averaged_away() -> None:
    """lr 1: layer 3 ends 100 % stuck, so the net's output is constant (ReLU at chance);
    the verdict once said "leaving 101 of 256 at work", an average that hid it."""
    result = run(0, lr=1.0)
    r = result.numbers["relu"]
    assert r["stuck_per_layer"][2] == 1.0 and r["val_accuracy"] < result.numbers["chance"] + 0.05
    assert "Layer 3 is 100% stuck (dead ReLU units)" in result.verdict
    assert "at work" not in result.verdict
    assert "ReLU ends 35 points below Leaky ReLU" in result.verdict


def test_the_first_per_layer_record_is_the_net_at_init() -> None:
    """The first per-layer record is the nets at init (it was once taken after one Adam
    update: 22 % stuck at lr 0.1, not the 8 % at init), and the last is the end state the
    verdict speaks of, which the views show once the run is over ("at the end (step N)")."""
    events = list(stream("dying-relu", device="cpu", seed=0, steps=40))
    result = events[-1]
    relu = [e for e in events if isinstance(e, Step) and e.run == "relu"]
    at_init = result.numbers["relu"]["stuck_per_layer_at_init"]  # type: ignore[union-attr]
    assert relu[0].step == 1 and [relu[0].metrics[f"stuck/{i}"] for i in range(1, 5)] == at_init
    end = result.numbers["relu"]["stuck_per_layer"]  # type: ignore[union-attr]
    assert relu[-1].step == 40 and [relu[-1].metrics[f"stuck/{i}"] for i in range(1, 5)] == end


def test_both_languages_carry_the_same_numbers() -> None:
    for params in ({}, {"lr": 0.001}, {"bias": -1.0, "lr": 0.001}):
        en, ko = run(0, **params).verdict, run(0, "ko", **params).verdict
        assert numbers_in(en) == numbers_in(ko), params


def test_stuck_share_is_streamed_per_layer() -> None:
    events = list(stream("dying-relu", device="cpu", seed=0, steps=40))
    relu = [e.metrics for e in events if isinstance(e, Step) and e.run == "relu"]
    assert len(relu) >= 15 and {f"stuck/{i}" for i in range(1, 5)} <= set(relu[-1])
    last = relu[-1]
    assert last["stuck"] == pytest.approx(sum(last[f"stuck/{i}"] for i in range(1, 5)) / 4)
    assert registry()["dying-relu"].layers["prefix"] == "stuck/"


def test_same_seed_same_numbers() -> None:
    def numbers() -> dict:
        *_, result = stream("dying-relu", device="cpu", seed=1, steps=5)
        return result.numbers  # type: ignore[union-attr]

    assert numbers() == numbers()
