"""The transformer demos on a CUDA GPU (skipped without one): each runs with --device cuda,
shows its effect at its default settings, and the KV cache there still has memcalc's bytes."""

from __future__ import annotations

import pytest
import torch

from dlprep.engine import final_result
from dlprep.memcalc.config import GPT
from dlprep.memcalc.inference import kv_cache_bytes

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.mark.parametrize("name", ["attention-scaling", "causal-mask", "positional-encoding",
                                  "kv-cache", "attention-memory", "lora", "quantization",
                                  "prenorm-postnorm"])
def test_default_run_on_cuda_shows_the_effect(name: str) -> None:
    result = final_result(name, device="cuda", seed=0)
    assert result.numbers["effect"] is True, result.verdict


def test_kv_cache_bytes_on_cuda_match_memcalc() -> None:
    n = final_result("kv-cache", device="cuda", seed=0).numbers
    shape = GPT(n_layer=n["n_layer"], d_model=n["d_model"], n_head=n["n_head"],
                vocab=n["vocab"])
    assert n["identical"]
    assert n["cache_bytes"] == kv_cache_bytes(shape, seq=n["seq"], batch=n["batch"],
                                              element=n["element"])
