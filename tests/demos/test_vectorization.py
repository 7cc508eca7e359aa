"""vectorization: loop, NumPy and torch agree; vectorized wins big, except on a 1x1 layer."""

from __future__ import annotations

import re
from functools import cache

import pytest

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry


@cache
def run(seed: int = 0, steps: int | None = 20, **params: int) -> Result:
    return final_result("vectorization", device="cpu", seed=seed, steps=steps, params=params)


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def verdict(numbers: dict, lang: str = "en") -> str:
    return str(load_demo(registry()["vectorization"].path).verdict(numbers, lang=lang))


@pytest.mark.parametrize("seed", [0, 1])
def test_vectorized_is_far_faster_and_gives_the_same_output(seed: int) -> None:
    result = run(seed)
    n = result.numbers
    assert n["allclose"] == {"numpy": True, "torch": True} and max(n["max_diff"].values()) < 1e-4
    assert "all three give the same output" in result.verdict
    assert 3 <= n["repeats"]["loop"] <= 20 and n["repeats"]["torch"] == 20
    # Measured 2,000-20,000x. The CPU is shared, so only generous ratios are asserted; NumPy's
    # multi-threaded BLAS can stall for ~20 ms a call while other processes hold the cores.
    assert n["effect"] and n["speedup"]["torch"] > 20 and n["speedup"]["numpy"] > 2
    assert n["speedup"]["torch"] == pytest.approx(n["best_ms"]["loop"] / n["best_ms"]["torch"])
    assert f"{n['speedup']['torch']:,.0f}x faster" in result.verdict
    assert "vectorization clearly wins" in result.verdict
    assert numbers_in(verdict(n, "ko")) == numbers_in(result.verdict)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_one_by_one_layer_is_the_control(seed: int) -> None:
    result = run(seed, steps=None, **registry()["vectorization"].control)
    n = result.numbers
    assert n["shape"] == [1, 1, 1] and n["multiply_adds"] == 1 and all(n["allclose"].values())
    assert not n["effect"] and min(n["speedup"].values()) < 1  # the loop beats a kernel call
    assert "neither vectorized version is 10x faster" in result.verdict
    assert "The loop even beat a vectorized call: with 1 multiply-add there" in result.verdict
    assert numbers_in(verdict(n, "ko")) == numbers_in(result.verdict)


def test_ties_and_differences_are_said_as_measured() -> None:
    n = dict(run(0, steps=2, batch_size=3, num_inputs=5, num_outputs=4).numbers)
    assert n["shape"] == [3, 5, 4] and n["multiply_adds"] == 60
    n.update(speedup={"numpy": 1.05, "torch": 0.5}, effect=False)
    text = verdict(n)
    assert "NumPy was about as fast as the loop (1.1x)" in text
    assert "torch was 2x slower than the loop" in text
    assert "is 10x faster. The loop even beat" in text
    # "the same" is relative to the outputs' magnitude: 1e-4 of it, not an absolute tolerance
    n["max_diff"] = {"numpy": 0.0, "torch": 2e-4 * n["output_max"]}
    assert "the outputs DIFFER" in verdict(n) and "출력이 서로 다릅니다" in verdict(n, "ko")
    n["max_diff"]["torch"] = 0.5e-4 * n["output_max"]
    assert "all three give the same output" in verdict(n)


def test_same_output_and_shapes_in_korean() -> None:
    result = final_result("vectorization", device="cpu", seed=0, steps=2, lang="ko",
                          params={"batch_size": 3, "num_inputs": 5, "num_outputs": 4})
    assert result.numbers["repeats"]["loop"] == 2 and all(result.numbers["allclose"].values())
    assert "세 방법의 출력이 같습니다" in result.verdict
