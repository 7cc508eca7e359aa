"""residual: a deep plain MLP stops training; the same depth with identity skips trains."""

from __future__ import annotations

import math
import re
from functools import partial

import pytest

from dlprep.engine import Result, Step, final_result, stream
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

run = partial(final_result, "residual", device="cpu")
verdict = load_demo(registry()["residual"].path).verdict


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text))


@pytest.fixture(scope="module", params=[0, 1])
def default(request: pytest.FixtureRequest) -> Result:
    return run(seed=request.param)


def test_plain_net_degrades_with_depth_residual_does_not(default: Result) -> None:
    n = default.numbers
    assert n["depths"] == [2, 6, 20] and n["effect"] is True
    assert abs(n["plain-20"]["final_loss"] - math.log(2)) < 0.01
    assert n["plain-2"]["final_loss"] < 0.2
    assert n["residual-20"]["final_loss"] < n["plain-20"]["final_loss"] - 0.1
    assert n["plain-20"]["first_last_at_init"] < 1e-4  # the gradient never reaches layer 1
    assert n["residual-20"]["first_last_at_init"] > 1e-2  # the identity path carries it
    assert "at this init, depth degrades it" in default.verdict
    assert "The plain net at depth 20 ends at chance (ln 2 = 0.693)." in default.verdict
    # The condition: PyTorch's default init shrinks the plain net's signal about 0.4x a layer.
    assert 0.3 < n["plain-20"]["signal_per_layer"] < 0.5
    factor = f"{n['plain-20']['signal_per_layer']:.2g}x per layer"
    assert f"With PyTorch's default init the plain net's signal changes about {factor}" \
        in default.verdict
    a, b = n["plain-20"]["spread_at_init"]
    assert b / a < 1e-6 and f"Over its 20 blocks it shrank to {b / a:.1e}" in default.verdict


def test_with_he_init_the_plain_deep_net_trains() -> None:
    """"Depth itself degrades it" rested on the default init: with He init the plain
    20-layer net trains, and the verdict says which init it ran."""
    result = run(seed=0, params={"init": "he"})
    n = result.numbers
    assert n["plain-20"]["final_loss"] < math.log(2) - 0.2 and n["effect"] is False
    assert n["plain-20"]["signal_per_layer"] > 0.8
    assert "No degradation here" in result.verdict and "With He init" in result.verdict


def test_worse_with_depth_but_no_better_with_skips_is_not_called_no_degradation(
        default: Result) -> None:
    """Once "No degradation here: ... not more than 0.1 worse than at depth 2 and than the
    residual net" was printed when the deep plain net was 0.4 worse than at depth 2 but the
    residual net was no better: the first half was false."""
    n = dict(default.numbers)
    n["plain-2"] = {**n["plain-2"], "final_loss": 0.2}
    n["residual-20"] = {**n["residual-20"], "final_loss": 0.65}
    n["effect"] = False
    text = verdict(n)
    assert "No degradation" not in text and "here the skips did not rescue depth" in text
    assert numbers_in(text) == numbers_in(verdict(n, lang="ko"))


def test_a_residual_net_worse_with_depth_is_reported(default: Result) -> None:
    n = dict(default.numbers)
    n["residual-2"] = {**n["residual-2"], "final_loss": 0.137}
    n["residual-20"] = {**n["residual-20"], "final_loss": 0.591}
    en, ko = verdict(n), verdict(n, lang="ko")
    assert "The residual net also got worse with depth (0.137 -> 0.591)" in en
    assert numbers_in(en) == numbers_in(ko)


@pytest.mark.parametrize("seed", [0, 1])
def test_control_shallow_both_train(seed: int) -> None:
    result = run(seed=seed, params=dict(registry()["residual"].control))
    n = result.numbers
    assert n["depths"] == [1, 2] and n["effect"] is False
    assert "No degradation here" in result.verdict


def test_per_layer_gradient_norms_are_streamed() -> None:
    events = list(stream("residual", device="cpu", seed=0, steps=2))
    deep = next(e for e in events if isinstance(e, Step) and e.run == "plain-20")
    assert len([k for k in deep.metrics if k.startswith("grad_norm/")]) == 22


def test_zero_lr_and_single_depth() -> None:
    still = run(seed=0, steps=3, params={"lr": 0})
    assert still.numbers["effect"] is False and "No degradation" in still.verdict
    one = run(seed=0, steps=3, params={"depth": 1})
    assert one.numbers["depths"] == [1] and "Only depth 1 ran" in one.verdict


@pytest.mark.parametrize("params", [{"depth": 1}, {"depth": 2}, {"lr": 0}])
def test_korean_has_the_same_numbers(params: dict, default: Result) -> None:
    for numbers in (run(seed=0, steps=3, params=params).numbers, default.numbers):
        assert numbers_in(verdict(numbers, lang="ko")) == numbers_in(verdict(numbers))
