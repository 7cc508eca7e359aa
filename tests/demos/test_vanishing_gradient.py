"""vanishing-gradient: with depth alone changed, the first layer's gradient vanishes and the
deep sigmoid net learns far less; the verdict stays true at its edges."""

from __future__ import annotations

from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "vanishing-gradient", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()


def test_depth_alone_makes_the_first_layer_gradient_vanish(result: Result) -> None:
    n = result.numbers
    s, d = n["shallow"], n["deep"]
    assert n["effect"] is True and n["shrink"] < 1e-3
    assert d["first_last_ratio"] < 1e-6 < s["first_last_ratio"]
    norms = d["grad_norms_at_init"]
    assert len(norms) == 11 and norms == sorted(norms)  # shrinks layer by layer to the input
    assert f"{d['first_last_ratio']:.1e}" in result.verdict


def test_under_sgd_the_deep_first_layer_barely_moves_and_it_learns_far_less(
        result: Result) -> None:
    s, d, r = (result.numbers[k] for k in ("shallow", "deep", "relu+he"))
    moved = d["relative_change"]
    assert moved[0] < 1e-4 < 0.1 < moved[-1]
    assert s["final_loss"] < 0.1 and d["final_loss"] > 0.6 and r["final_loss"] < 0.1
    assert "learned far less than the 2-layer net" in result.verdict
    # issue 20 item 5: "the first layers change least" is a fact about SGD, said as such
    assert "of its 11 layers the first moved least. That holds under SGD" in result.verdict
    assert "this run does not try Adam" in result.verdict
    assert result.verdict.endswith("the deep net fell behind.")
    assert not result.diverged and not result.cancelled


@pytest.mark.parametrize(("params", "phrase"), [
    ({"depth": 2}, "Both nets have the same depth"),
    ({"depth": 1}, "Removing 1 layer multiplied"),
    ({"lr": 0.0}, "learned nothing (a drop under 0.1), and neither did the 2-layer net"),
])
def test_edges_say_what_the_numbers_show(params: dict, phrase: str) -> None:
    result = run(params=params, steps=60)
    assert result.numbers["effect"] is False
    assert phrase in result.verdict and "fell behind." not in result.verdict
    assert "learned far less" not in result.verdict


def test_tanh_keeps_its_gradient_so_depth_is_not_blamed() -> None:
    result = run(params={"activation": "tanh"}, steps=60, lang="ko")
    assert result.numbers["shrink"] > 1e-2 and result.numbers["effect"] is False
    assert result.verdict.startswith("Tanh,") and "깊이 효과 없음" in result.verdict


def test_with_lr_0_no_layer_moved_and_none_is_said_to_move_least() -> None:
    result = run(params={"lr": 0.0}, steps=3)
    assert result.numbers["deep"]["relative_change"] == [0.0] * 11
    assert "no layer moved at all" in result.verdict and "moved least" not in result.verdict


def test_same_seed_same_numbers() -> None:
    assert run(steps=5).numbers == run(steps=5).numbers
