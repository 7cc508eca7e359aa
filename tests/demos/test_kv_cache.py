"""kv-cache: the same tokens with and without the cache, flat work per token with it, and
its bytes equal memcalc's KV-cache formula for the same model to the byte. Nothing here
asserts on time: the timings are shown as measured, the work is counted."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dlprep.engine import Step, stream
from dlprep.memcalc.config import GPT
from dlprep.memcalc.inference import kv_cache_bytes

NAME = "kv-cache"


def memcalc_bytes(n: dict) -> int:
    shape = GPT(n_layer=n["n_layer"], d_model=n["d_model"], n_head=n["n_head"],
                vocab=n["vocab"])
    return kv_cache_bytes(shape, seq=n["seq"], batch=n["batch"], element=n["element"])


@pytest.mark.parametrize("params", [{}, {"num_layers": 3, "heads": 8, "batch": 3,
                                         "prompt": 5, "new_tokens": 20, "d_model": 32}])
def test_same_tokens_flat_work_and_memcalc_bytes(params: dict, demo: Any) -> None:
    n = demo.run(0, **params).numbers
    assert n["identical"] and n["mismatched_tokens"] == 0 and n["effect"] is True
    assert n["cache_bytes"] == memcalc_bytes(n)  # to the byte
    assert n["cache_bytes_per_layer"] == [n["cache_bytes"] // n["n_layer"]] * n["n_layer"]
    no, ca = n["no-cache"]["work"], n["cache"]["work"]
    # Without the cache step t scores (P+t)^2 pairs per layer; with it, P+t.
    P, L = n["prompt"], n["n_layer"]
    assert no == [L * (P + t) ** 2 for t in range(n["new_tokens"])]
    assert ca == [L * P * P] + [L * (P + t + 1) for t in range(n["new_tokens"] - 1)]
    assert n["work_ratio"] >= 2


def test_verdict_states_identity_saving_and_the_formula(demo: Any) -> None:
    result = demo.run(0)
    n = result.numbers
    names = demo.printed(n)
    assert names[:4] == ["identical", "work", "saves", "times"] and names[-1] == "memory"
    assert "524,288 bytes = 2 x 2 x 4 x 16 x 64 x 8 x 4" in result.verdict
    en, ko = result.verdict, demo.module.verdict(n, "ko")
    assert set(re.findall(r"\d+", en)) == set(re.findall(r"\d+", ko))


def test_one_new_token_is_the_control_where_the_cache_saves_nothing(demo: Any) -> None:
    result = demo.run(0, **demo.control)
    n = result.numbers
    assert n["effect"] is False and n["work_ratio"] == 1.0
    assert n["cache_bytes"] == memcalc_bytes(n)
    assert "the cache saves nothing" in result.verdict and "cut the attention" not in result.verdict


def test_different_tokens_are_said_and_the_effect_is_gone(demo: Any) -> None:
    n = dict(demo.run(0).numbers)
    n.update(identical=False, mismatched_tokens=3)
    printed = demo.printed(n)
    assert "differ" in printed and "identical" not in printed


def test_steps_cap_the_generation_and_each_step_streams_its_work() -> None:
    events = list(stream(NAME, device="cpu", seed=0, steps=5))
    steps = [e for e in events if isinstance(e, Step)]
    assert [e.step for e in steps if e.run == "no-cache"] == [1, 2, 3, 4, 5]
    cached = [e for e in steps if e.run == "cache"]
    assert {"kv_bytes/1", "kv_bytes/2"} <= set(cached[-1].metrics)
    assert events[-1].numbers["new_tokens"] == 5
