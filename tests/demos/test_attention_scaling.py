"""attention-scaling: without 1/sqrt(d_k) the logits spread sqrt(d_k) wider, the softmax
saturates and training slows; at a small d_k (the control) the scale hardly matters."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from dlprep.engine import Step, stream

NAME = "attention-scaling"


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text))


def test_unscaled_logits_spread_by_sqrt_dk_and_the_softmax_saturates(demo: Any) -> None:
    result = demo.run(0)
    n = result.numbers
    assert n["effect"] is True and n["d_k"] == 64 and n["heads"] == 1
    assert n["spread_ratio"] == pytest.approx(math.sqrt(64), rel=0.15)
    assert max(n["scaled"]["logit_std"]) < 1.5  # the scale keeps the spread about 1
    assert n["entropy_ratio"] < 0.5 and n["gain_ratio"] < 0.6 and n["loss_ratio"] > 1.25
    names = demo.printed(n)
    assert names == ["spread", "entropy", "saturated", "gain-shrank", "losses", "slower"]
    layer, head, low = demo.module.lowest_head(n["unscaled"]["entropy_init"])
    assert f"layer {layer} head {head} at {low:.3g}" in result.verdict
    assert low == min(min(row) for row in n["unscaled"]["entropy_init"])


def test_small_dk_is_the_control_where_the_scale_hardly_matters(demo: Any) -> None:
    result = demo.run(0, **demo.control)
    n = result.numbers
    assert n["effect"] is False and n["d_k"] == 2 and n["heads"] == 32
    assert n["spread_ratio"] == pytest.approx(math.sqrt(2), rel=0.1)
    assert n["entropy_ratio"] > 0.8 and 0.8 < n["loss_ratio"] < 1.25
    assert "did not saturate" in result.verdict and "about as fast" in result.verdict
    assert "saturated the softmax" not in result.verdict


def test_both_languages_carry_the_same_numbers(demo: Any) -> None:
    for n in (demo.run(0).numbers, demo.run(0, **demo.control).numbers):
        en, ko = demo.module.verdict(n), demo.module.verdict(n, "ko")
        assert numbers_in(en) == numbers_in(ko)
        assert re.search("[가-힣]", ko)


def test_a_diverged_run_is_not_compared_for_speed(demo: Any) -> None:
    n = dict(demo.run(0).numbers)
    n["unscaled"] = {**n["unscaled"], "finite": False}
    printed = demo.printed(n)
    assert "diverged" in printed
    assert not {"losses", "slower", "faster", "as-fast"} & set(printed)


def test_entropy_is_streamed_per_layer_and_runs_repeat() -> None:
    def events() -> list:
        return list(stream(NAME, device="cpu", seed=1, steps=3, params={"num_layers": 3}))

    first, again = events(), events()
    steps = [e for e in first if isinstance(e, Step) and e.run == "unscaled"]
    assert {"entropy/1", "entropy/2", "entropy/3"} <= set(steps[-1].metrics)
    assert first[-1].numbers == again[-1].numbers
