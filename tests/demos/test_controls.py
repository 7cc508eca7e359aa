"""Every demo is a controlled experiment: its effect appears by default, across seeds, and
disappears under its control (META "control"), and its verdict says which happened, in
English and in Korean with the same numbers.

All runs are on CPU at the demo's default steps; results are cached so the control, seed
and language tests share the runs (about 2 s each on a 2-core machine).
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

DEMOS = registry()
CONTROLLED = sorted(name for name, info in DEMOS.items() if info.control)
# Converted by part B of issue 9 (branch rigour-b); listed, not failed, until it lands.
PENDING = {"dying-relu", "batch-size", "optimizers", "overfitting", "activations",
           "learning-rate", "gpu-speedup", "vectorization"}
SEEDS = range(5)  # the verdicts were checked by hand for seeds 0-9


@cache
def outcome(name: str, seed: int, control: bool) -> Result:
    params = dict(DEMOS[name].control) if control else {}
    return final_result(name, device="cpu", seed=seed, params=params)


def conclusion(verdict: str) -> str:
    """The verdict's last sentence, where a demo says whether its effect appeared."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", verdict.strip()) if s]
    return sentences[-1]


def test_every_demo_declares_a_control() -> None:
    lacking = sorted(name for name in DEMOS if not DEMOS[name].control)
    assert not set(lacking) - PENDING, f"demos without a META control: {lacking}"
    if lacking:
        pytest.skip(f"no control yet (issue 9 part B): {', '.join(lacking)}")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", CONTROLLED)
def test_control_removes_the_effect_and_the_verdict_says_so(name: str, seed: int) -> None:
    default, control = outcome(name, seed, False), outcome(name, seed, True)
    assert default.numbers["effect"] is True, default.verdict
    assert control.numbers["effect"] is False, control.verdict
    assert not default.cancelled and not control.cancelled
    assert conclusion(default.verdict) != conclusion(control.verdict)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CONTROLLED)
def test_default_effect_holds_across_seeds(name: str, seed: int) -> None:
    result = outcome(name, seed, False)
    assert result.numbers["effect"] is True, f"seed {seed}: {result.verdict}"
    assert conclusion(result.verdict) == conclusion(outcome(name, 0, False).verdict)


NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def numbers_in(text: str) -> set[str]:
    return set(NUMBER.findall(text))


# activations (part B's file) says one number in Korean that its English leaves out; its
# rework on branch rigour-b is expected to fix it: drop the mark when this XPASSes.
PARITY_PENDING = {"activations"}


def _parity_cases() -> list:
    cases = []
    for name in sorted(DEMOS):
        for control in (False, True) if DEMOS[name].control else (False,):
            marks = [pytest.mark.xfail(strict=True, reason="issue 9 part B rework")] \
                if name in PARITY_PENDING and not control else []
            cases.append(pytest.param(name, control, marks=marks,
                                      id=f"{name}-{'control' if control else 'default'}"))
    return cases


@pytest.mark.parametrize(("name", "control"), _parity_cases())
def test_korean_verdict_states_the_same_numbers(name: str, control: bool) -> None:
    numbers = dict(outcome(name, 0, control).numbers)
    module = load_demo(DEMOS[name].path)
    english, korean = module.verdict(numbers, lang="en"), module.verdict(numbers, lang="ko")
    assert re.search("[가-힣]", korean) and english != korean
    assert numbers_in(english) == numbers_in(korean), (english, korean)
