"""vectorization: loop, NumPy and torch agree, and the vectorized versions are far faster."""

from __future__ import annotations

from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "vectorization", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run(steps=20)


def test_all_three_give_the_same_output(result: Result) -> None:
    n = result.numbers
    assert n["allclose"] == {"numpy": True, "torch": True}
    assert max(n["max_diff"].values()) < 1e-4
    assert "All three give the same output" in result.verdict


def test_vectorized_is_far_faster_than_the_loop(result: Result) -> None:
    n = result.numbers
    assert n["repeats"] == {"loop": 3, "numpy": 20, "torch": 20}
    # Measured 2,000-3,500x. The CPU is shared, so only generous ratios are asserted; NumPy's
    # multi-threaded BLAS can stall for ~20 ms a call while other processes hold the cores.
    assert n["speedup"]["torch"] > 20 and n["speedup"]["numpy"] > 2
    assert n["best_ms"]["torch"] <= n["median_ms"]["torch"]
    assert n["speedup"]["torch"] == pytest.approx(n["best_ms"]["loop"] / n["best_ms"]["torch"])
    assert f"{n['speedup']['torch']:,.0f}x faster" in result.verdict


def test_shapes_and_korean_verdict() -> None:
    result = run(steps=2, params={"batch_size": 3, "num_inputs": 5, "num_outputs": 4},
                 lang="ko")
    n = result.numbers
    assert n["shape"] == [3, 5, 4] and n["multiply_adds"] == 60
    assert n["repeats"]["loop"] == 2 and all(n["allclose"].values())
    assert "세 방법의 출력이 같습니다" in result.verdict
