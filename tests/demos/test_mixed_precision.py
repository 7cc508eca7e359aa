"""mixed-precision: fp16 flushes small gradients; loss scaling recovers fp32; bf16 does not."""

from __future__ import annotations

import re
from functools import partial

import pytest

from dlprep.engine import Result, Step, final_result, stream
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

run = partial(final_result, "mixed-precision", device="cpu")
verdict = load_demo(registry()["mixed-precision"].path).verdict


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text))


@pytest.fixture(scope="module", params=[0, 1])
def default(request: pytest.FixtureRequest) -> Result:
    return run(seed=request.param)


def test_fp16_flushes_and_falls_behind_scaling_recovers(default: Result) -> None:
    n = default.numbers
    base = n["fp32"]["final_loss"]
    assert n["effect"] is True
    assert n["fp16"]["flushed"] > 0.2 and n["fp16"]["final_loss"] > 1.25 * base
    for name in ("fp16+static", "fp16+dynamic"):
        assert n[name]["flushed"] < 0.05
        assert n[name]["final_loss"] == pytest.approx(base, rel=0.02)
    assert n["range"]["fp16_zero"] > 0.5 and n["range"]["bf16_zero"] == 0.0
    assert 1e-4 < n["range"]["bf16_rel_err"] < 1e-2  # 8 mantissa bits: ~2^-9
    assert "recovers fp32's result" in default.verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_control_fp32_nothing_flushes(seed: int) -> None:
    result = run(seed=seed, steps=40, params=dict(registry()["mixed-precision"].control))
    n = result.numbers
    assert n["effect"] is False and n["fp32"]["flushed"] == 0 and n["fp32+static"]["flushed"] == 0
    assert "nothing flushes (the control)" in result.verdict


def test_bf16_needs_no_scaling() -> None:
    n = run(seed=0, steps=60, params={"dtype": "bf16"}).numbers
    assert n["bf16"]["flushed"] == 0 and n["effect"] is False


def test_static_scale_too_big_overflows_every_step() -> None:
    result = run(seed=0, steps=20, params={"static_scale": 1e12})
    assert result.numbers["fp16+static"]["overflows"] == 20
    assert "20 steps skipped on overflow" in result.verdict


def test_per_layer_flushed_share_is_streamed() -> None:
    events = [e for e in stream("mixed-precision", device="cpu", seed=0, steps=3)
              if isinstance(e, Step) and e.run == "fp16"]
    assert {"flushed/1", "flushed/4", "scale"} <= set(events[-1].metrics)


@pytest.mark.parametrize("params", [{}, {"dtype": "fp32"}, {"lr": 0}, {"loss_weight": 1},
                                    {"static_scale": 1e12}])
def test_korean_has_the_same_numbers(params: dict) -> None:
    n = run(seed=0, steps=20, params=params).numbers
    assert numbers_in(verdict(n, lang="ko")) == numbers_in(verdict(n))


def test_the_static_scale_is_judged_apart_from_the_dynamic_scaler() -> None:
    """A static scale of 1 is no scaling at all: the effect (the dynamic scaler recovers
    fp32's loss) still appears, and the verdict once credited "loss scaling" as a whole."""
    result = run(seed=0, params={"static_scale": 1})
    assert result.numbers["effect"] is True
    assert "The dynamic loss scaler (GradScaler) keeps the small gradients" in result.verdict
    assert "The static scale of 1 did not" in result.verdict
    assert "Loss scaling keeps" not in result.verdict


def test_a_diverged_fp32_run_is_compared_with_nothing(default: Result) -> None:
    """NaN compares False, so "not above 1.25x fp32's loss" once read as "stayed within
    1.25x of fp32's" when fp32 itself ended at NaN."""
    n = {**default.numbers, "effect": False,
         "fp32": {**default.numbers["fp32"], "final_loss": float("nan")}}
    text = verdict(n)
    assert "fp32 itself ended at inf/NaN" in text and "within" not in text
    assert numbers_in(verdict(n, lang="ko")) == numbers_in(text)
