"""attention-memory: the bytes autograd saves for attention, measured with saved-tensor hooks,
grow as T^2 with math attention and linearly with SDPA, and equal memcalc's replay of both
to the byte; at short T (the control) the two are about equal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlprep.engine import Step, final_result, stream
from dlprep.memcalc.config import GPT, Config
from dlprep.memcalc.models import gpt
from dlprep.memcalc.timeline import Timeline

NAME = "attention-memory"
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")



def memcalc_saved(n: dict, T: int, attention: str) -> list[int]:
    """Bytes memcalc's GPT replay keeps saved for each block's attention core."""
    shape = GPT(n_layer=n["n_layer"], d_model=n["d_model"], n_head=n["heads"], vocab=16)
    cfg = Config(batch=n["batch"], gpt=shape, seq=T, attention=attention)
    t = Timeline(0)
    graph = gpt.forward(t, cfg)
    return [sum(t.tensors[key].nbytes for key in set(layer.attn)) for layer in graph.layers]


@pytest.mark.parametrize("params", [{}, {"heads": 2, "d_model": 32, "num_layers": 3,
                                         "batch": 3, "max_T": 128}])
def test_math_grows_as_t_squared_sdpa_linearly_and_memcalc_agrees(params: dict, demo: Any) -> None:
    n = demo.run(0, **params).numbers
    assert n["effect"] is True
    for mode in ("math", "sdpa"):
        for T, per_layer in zip(n["T"], n[mode]["per_layer"], strict=True):
            assert per_layer == memcalc_saved(n, T, mode), (mode, T)  # to the byte
    assert n["growth"]["sdpa"] == pytest.approx(1.0)
    assert n["growth"]["math"] > 1.5 and n["ratio"] > 2
    assert n["gap"] <= 1e-4 * n["magnitude"]


def test_verdict_names_the_probabilities_and_both_languages_agree(demo: Any) -> None:
    result = demo.run(0)
    n = result.numbers
    names = [s.name for s in demo.module.statements(n) if s.holds]
    assert names == ["measured", "formula", "growth", "quadratic", "layers", "same"]
    assert f"{n['math']['saved'][-1]:,} bytes for math attention" in result.verdict
    ko = demo.module.verdict(n, "ko")
    assert set(NUMBER.findall(result.verdict)) == set(NUMBER.findall(ko))


def test_short_t_is_the_control_where_the_two_save_about_the_same(demo: Any) -> None:
    # tests/demos/test_controls.py runs seeds 0-4 with and without the control
    control = demo.run(0, **demo.control)
    assert control.numbers["effect"] is False
    assert "within 2x" in control.verdict and "caused it" not in control.verdict


def test_steps_stream_one_length_each_and_runs_repeat(demo: Any) -> None:
    events = list(stream(NAME, device="cpu", seed=1, steps=3))
    steps = [e for e in events if isinstance(e, Step)]
    assert [e.metrics["T"] for e in steps if e.run == "math"] == [64.0, 128.0, 256.0]
    assert {"saved/1", "saved/2"} <= set(steps[0].metrics)
    again = list(stream(NAME, device="cpu", seed=1, steps=3))
    assert events[-1].numbers == again[-1].numbers


def check(n: dict, demo: Any) -> None:
    """Every printed statement recomputed here from the recorded numbers."""
    m, s, Ts = n["math"]["saved"], n["sdpa"]["saved"], n["T"]
    level = max(m[-1], s[-1]) <= 2 * min(m[-1], s[-1])
    oracle = {
        "measured": True,
        "formula": all(m[i] == n["n_layer"] * (3 * n["batch"] * T * n["d_model"] * 4
                                               + n["batch"] * n["heads"] * T * T * 4)
                       for i, T in enumerate(Ts)),
        "growth": len(Ts) >= 2,
        "quadratic": len(Ts) >= 2 and m[-1] / m[-2] > 2 ** 1.5 and m[-1] > 2 * s[-1],
        "level": level,
        "layers": all(len(set(row)) == 1 for row in n["math"]["per_layer"]),
        "same": n["gap"] <= 1e-4 * n["magnitude"],
        "differ": n["gap"] > 1e-4 * n["magnitude"],
    }
    names = demo.said(n, oracle)
    assert names
    assert not {"quadratic", "level"} <= names and not {"same", "differ"} <= names


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
          max_examples=12, deadline=None, derandomize=True, database=None)
@given(st.fixed_dictionaries({
    "max_T": st.sampled_from([4, 8, 16, 32, 64]), "batch": st.integers(1, 4),
    "num_layers": st.integers(1, 4), "d_model": st.sampled_from([32, 64, 128]),
    "heads": st.sampled_from([1, 2, 4, 8])}), st.integers(1, 8), st.integers(0, 9))
def test_fuzz_printed_statements_hold_over_meta_ranges(demo: Any, params: dict, steps: int,
                                                        seed: int) -> None:
    result = final_result(NAME, device="cpu", seed=seed, params=params, steps=steps)
    check(result.numbers, demo)
