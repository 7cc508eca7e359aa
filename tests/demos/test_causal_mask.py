"""causal-mask: without the mask next-token training reads the future, goes below the loss
floor of any causal model and fails at generation; with the mask (the control) it does not."""

from __future__ import annotations

import math
import re
from typing import Any

from dlprep.engine import Step, stream

NAME = "causal-mask"


def test_without_the_mask_it_reads_the_future_and_fails_to_generate(demo: Any) -> None:
    result = demo.run(0)
    n = result.numbers
    assert n["effect"] is True and n["causal"] is False and n["task"] == "sort"
    assert n["random_loss"] < 0.1 * math.log(16)  # far below the causal floor
    assert n["teacher_accuracy"] > 0.9 and n["free_accuracy"] < 0.6
    assert min(n["future"]) > 0.3  # every layer looks ahead
    assert demo.printed(n) == ["future", "floor", "read-future", "failed"]


def test_the_mask_is_the_control_no_attention_to_the_future(demo: Any) -> None:
    result = demo.run(0, **demo.control)
    n = result.numbers
    assert n["effect"] is False and n["future"] == [0.0, 0.0]
    assert n["random_loss"] > 0.95 * math.log(16)  # the floor holds for a causal model
    assert n["gap"] < 0.5
    names = demo.printed(n)
    assert "no-future" in names and "failed" not in names and "read-future" not in names
    en, ko = result.verdict, demo.module.verdict(n, "ko")
    assert set(re.findall(r"\d+", en)) == set(re.findall(r"\d+", ko))


def test_the_accuracy_sentences_exclude_each_other(demo: Any) -> None:
    n = dict(demo.run(0).numbers)
    for gap, name in [(0.6, "failed"), (0.05, "agree"), (-0.05, "agree"), (0.3, "apart"),
                      (-0.3, "apart")]:
        chosen = {"failed", "agree", "apart"} & set(demo.printed({**n, "gap": gap}))
        assert chosen == {name}, gap


def test_future_attention_is_streamed_per_layer_and_runs_repeat() -> None:
    def events() -> list:
        return list(stream(NAME, device="cpu", seed=2, steps=3, params={"num_layers": 3}))

    first = events()
    steps = [e for e in first if isinstance(e, Step)]
    assert {"future/1", "future/2", "future/3"} <= set(steps[-1].metrics)
    assert first[-1].numbers == events()[-1].numbers
