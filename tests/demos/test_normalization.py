"""normalization: a deep MLP trains with BatchNorm, not without; BatchNorm's eval-mode pitfall."""

from __future__ import annotations

import math
import re
from functools import partial

import pytest

from dlprep.engine import Result, Step, final_result, stream
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

run = partial(final_result, "normalization", device="cpu")
verdict = load_demo(registry()["normalization"].path).verdict


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text))


@pytest.fixture(scope="module", params=[0, 1])
def default(request: pytest.FixtureRequest) -> Result:
    return run(seed=request.param)


def test_deep_net_trains_only_with_batchnorm(default: Result) -> None:
    n = default.numbers
    assert n["effect"] is True
    assert abs(n["none"]["final_loss"] - math.log(2)) < 0.02
    assert n["batchnorm"]["final_loss"] < 0.4 and n["batchnorm"]["test_acc"] > 0.75
    assert n["none"]["shrink"] < 1e-4 and n["batchnorm"]["shrink"] > 0.3  # the signal kept
    assert "stuck at chance" in default.verdict and "BatchNorm, the only difference" in \
        default.verdict
    per_layer = n["none"]["shrink"] ** (1 / 15)
    assert 0.3 < per_layer < 0.5 and f"about {per_layer:.2g}x per layer" in default.verdict


def test_batchnorm_in_train_mode_depends_on_the_batch(default: Result) -> None:
    pit = default.numbers["pitfall"]
    assert pit["alone_diff"] < 1e-4  # eval mode: an example alone = in a batch
    assert pit["changed"] > 0.2 and pit["train_mode_acc"] < pit["eval_acc"] - 0.1
    assert pit["batch_of_one"] == "refused"
    assert f"{pit['changed']:.0%} of the predictions change" in default.verdict


@pytest.mark.parametrize("seed", [0, 1])
def test_control_shallow_net_trains_without_a_norm(seed: int) -> None:
    result = run(seed=seed, params=dict(registry()["normalization"].control))
    assert result.numbers["effect"] is False
    assert abs(result.numbers["none"]["final_loss"] - math.log(2)) >= 0.02
    assert "not stuck at chance" in result.verdict


def test_per_layer_spread_is_streamed() -> None:
    events = list(stream("normalization", device="cpu", seed=0, steps=3))
    step = next(e for e in events if isinstance(e, Step) and e.run == "none")
    assert [k for k in step.metrics if k.startswith("act_std/")] == [
        f"act_std/{i}" for i in range(1, 17)]


def test_zero_lr_nothing_trains() -> None:
    result = run(seed=0, steps=5, params={"lr": 0})
    assert result.numbers["effect"] is False
    assert "BatchNorm does not get more than 0.1 below chance" in result.verdict


def test_any_eval_batch_runs_and_depth_1_has_no_batchnorm_to_judge() -> None:
    """256 test points in batches of 3 left a batch of 1, which BatchNorm refuses in train
    mode: `--set eval_batch=3` raised. Depth 1 has no norm layer (none on the input layer),
    yet the verdict judged "the BatchNorm net" and said a batch of 1 runs."""
    odd = run(seed=0, steps=2, params={"eval_batch": 3})
    assert 0 <= odd.numbers["pitfall"]["changed"] <= 1 and "in batches of 3" in odd.verdict
    one = run(seed=0, steps=2, params={"depth": 1})
    assert "no normalisation layer" in one.verdict and "eval mode" not in one.verdict


@pytest.mark.parametrize("params", [{}, {"depth": 2}, {"lr": 0}])
def test_korean_has_the_same_numbers(params: dict) -> None:
    result = run(seed=0, steps=10, params=params)
    assert numbers_in(verdict(result.numbers, lang="ko")) == numbers_in(result.verdict)


def test_a_batchnorm_net_0_17_worse_is_not_about_as_good() -> None:
    """"about as well as with BatchNorm" was printed whenever BatchNorm was not 0.1 lower,
    also when it was 0.17 higher and never got 0.1 below chance."""
    n = run(seed=0, steps=2, params={"depth": 2}).numbers
    n = {**n, "effect": False, "none": {**n["none"], "final_loss": 0.45},
         "batchnorm": {**n["batchnorm"], "final_loss": 0.62}}
    text = verdict(n)
    assert "about as well" not in text and "Both learn" not in text
    assert "it gets more than 0.1 below it (0.450)" in text
    assert "BatchNorm does not get more than 0.1 below chance (0.620" in text
