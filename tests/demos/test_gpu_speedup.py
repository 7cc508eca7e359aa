"""gpu-speedup: CPU figures always; a GPU speed-up is claimed only when one was measured."""

from __future__ import annotations

import os
import re
from functools import partial
from types import ModuleType

import pytest
import torch

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

SMALL = {"n": 256, "num_hiddens": 256, "batch_size": 64}
HAS_GPU = torch.cuda.is_available()

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "gpu-speedup", device="cpu", seed=0)


def module() -> ModuleType:
    return load_demo(registry()["gpu-speedup"].path)


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", text))


@pytest.fixture(scope="module")
def result() -> Result:
    return run(steps=3, params=SMALL)


def with_gpu(numbers: dict, matmul: float, train: float) -> dict:
    """The numbers as a run on a GPU that was ``matmul``/``train`` times faster would give."""
    n = dict(numbers)
    n["accelerator"] = {"type": "cuda", "name": "Test GPU"}
    mm, tr = n["cpu"]["matmul"], n["cpu"]["train"]
    n["gpu"] = {"matmul": {"ms": mm["ms"] / matmul, "gflops": mm["gflops"] * matmul},
                "train": {"ms": tr["ms"] / train, "gflops": tr["gflops"] * train,
                          "samples_per_s": tr["samples_per_s"] * train}}
    n["speedup"] = {"matmul": matmul, "train": train}
    n["effect"] = module().effect(n["speedup"])
    return n


def test_cpu_figures_are_measured_and_consistent(result: Result) -> None:
    n = result.numbers
    assert n["cpu_threads_tried"] == sorted({1, os.cpu_count() or 1})
    matmul, train = n["cpu"]["matmul"], n["cpu"]["train"]
    assert matmul["gflops"] == pytest.approx(2 * 256**3 / (matmul["ms"] / 1000) / 1e9)
    assert train["samples_per_s"] == pytest.approx(64 / (train["ms"] / 1000))
    assert matmul["gflops"] > 0.1 and train["threads"] in n["cpu_threads_tried"]
    assert f"{train['samples_per_s']:,.0f} samples/s" in result.verdict


@pytest.mark.skipif(HAS_GPU, reason="checks the CPU-only message")
@pytest.mark.parametrize("params", [SMALL, registry()["gpu-speedup"].control])
def test_without_a_gpu_no_speedup_is_claimed(params: dict) -> None:
    result = run(steps=2, params=params)
    n = result.numbers
    assert n["accelerator"] is None and "gpu" not in n and not n["effect"]
    if not n["mps_available"]:
        assert result.verdict.startswith("No GPU here")
        assert "no GPU speed-up can appear or was measured" in result.verdict
    assert "faster" not in result.verdict
    assert numbers_in(module().verdict(n, lang="ko")) == numbers_in(result.verdict)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.skipif(not HAS_GPU, reason="needs a CUDA GPU")
def test_on_a_gpu_the_default_size_is_faster_and_the_tiny_size_is_not(seed: int) -> None:
    big = final_result("gpu-speedup", device="cuda", seed=seed, steps=3)
    assert big.numbers["effect"] and "At this size the GPU is at least 3x faster" in big.verdict
    tiny = final_result("gpu-speedup", device="cuda", seed=seed, steps=3,
                        params=registry()["gpu-speedup"].control)
    assert not tiny.numbers["effect"] and "no GPU speed-up here" in tiny.verdict


def test_verdict_with_an_accelerator_states_the_speedup(result: Result) -> None:
    n = with_gpu(result.numbers, 8.0, 4.0)
    text = module().verdict(n)
    assert n["effect"] and text.startswith("Test GPU (cuda):")
    assert "The GPU was 8.0x faster at the matmul. The GPU was 4.0x faster at the training step."\
        in text
    assert "at least 3x faster at both" in text
    assert numbers_in(module().verdict(n, lang="ko")) == numbers_in(text)


def test_a_gpu_that_is_slower_or_tied_is_not_called_faster(result: Result) -> None:
    n = with_gpu(result.numbers, 0.25, 1.0)
    text = module().verdict(n)
    assert not n["effect"]
    assert "4.0x slower at the matmul" in text
    assert "about as fast as the CPU at the training step (1x)" in text
    assert "no GPU speed-up here" in text and "faster at the" not in text


def test_cpu_threads_are_restored_and_korean_verdict() -> None:
    result = run(steps=1, params=SMALL, lang="ko")
    assert torch.get_num_threads() == 1  # the engine's setting for demos, not the demo's
    tried = "/".join(map(str, result.numbers["cpu_threads_tried"]))
    assert f"CPU({tried}스레드 중 최고)" in result.verdict
