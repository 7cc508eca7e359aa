"""gpu-speedup: CPU figures always; on a CPU-only machine the verdict says so plainly."""

from __future__ import annotations

import os
from functools import partial

import pytest
import torch

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

SMALL = {"n": 256, "num_hiddens": 256, "batch_size": 64}


# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "gpu-speedup", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run(steps=3, params=SMALL)


def test_cpu_figures_are_measured_and_consistent(result: Result) -> None:
    n = result.numbers
    assert n["cpu_threads_tried"] == sorted({1, os.cpu_count() or 1})
    matmul, train = n["cpu"]["matmul"], n["cpu"]["train"]
    assert matmul["gflops"] == pytest.approx(2 * 256**3 / (matmul["ms"] / 1000) / 1e9)
    assert train["samples_per_s"] == pytest.approx(64 / (train["ms"] / 1000))
    assert matmul["gflops"] > 0.1 and train["threads"] in n["cpu_threads_tried"]
    assert f"{train['samples_per_s']:,.0f} samples/s" in result.verdict


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_cpu_only_machine_says_so_plainly(result: Result) -> None:
    assert result.numbers["accelerator"] is None and "gpu" not in result.numbers
    if not result.numbers["mps_available"]:
        assert result.verdict.startswith("No GPU here")


def test_cpu_threads_are_restored_and_korean_verdict() -> None:
    result = run(steps=1, params=SMALL, lang="ko")
    assert torch.get_num_threads() == 1  # the engine's setting for demos, not the demo's
    tried = "/".join(map(str, result.numbers["cpu_threads_tried"]))
    assert f"CPU ({tried}스레드 중 최고)" in result.verdict


def test_verdict_with_an_accelerator_states_the_speedup(result: Result) -> None:
    module = load_demo(registry()["gpu-speedup"].path)
    n = dict(result.numbers)
    n["accelerator"] = {"type": "cuda", "name": "Test GPU"}
    mm, tr = n["cpu"]["matmul"], n["cpu"]["train"]
    n["gpu"] = {"matmul": {"ms": mm["ms"] / 8, "gflops": mm["gflops"] * 8},
                "train": {"ms": tr["ms"] / 4, "gflops": tr["gflops"] * 4,
                          "samples_per_s": tr["samples_per_s"] * 4}}
    n["speedup"] = {"matmul": 8.0, "train": 4.0}
    text = module.verdict(n)
    assert text.startswith("Test GPU (cuda):")
    assert "8.0x faster at the matmul and 4.0x at the training step" in text
