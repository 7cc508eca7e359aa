"""Every demo is a controlled experiment: its effect appears by default, across seeds, and
disappears under its control (META "control"), and its verdict says which happened, in
English and in Korean with the same numbers.

All runs are on CPU at the demo's default steps; results are cached so the control, seed
and language tests share the runs (about 2 s each on a 2-core machine).
"""

from __future__ import annotations

import os
import re
from functools import cache

import pytest

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

DEMOS = registry()
CONTROLLED = sorted(name for name, info in DEMOS.items() if info.control)
# Its effect (a GPU measured several times faster) can only appear where a GPU is present;
# without one, default and control alike must say that no speed-up was measured.
NEEDS_GPU = {"gpu-speedup"}
# The verdicts were checked by hand for seeds 0-9; DLPREP_FULL_TESTS=1 (the nightly run)
# checks 0-9 here. The default suite has a time budget (`make test` within 5 minutes on two
# cores): seeds 0-4 for the transformer demos (issue 22 asks for 0-4) whose default run costs
# under about a second, 0-2 for the costlier ones and for the MLP-era demos (every statement
# of those is also fuzzed by test_verdict_fuzz at seeds 0-9).
FULL = bool(os.environ.get("DLPREP_FULL_TESTS"))
TRANSFORMER = {"attention-scaling", "causal-mask", "positional-encoding", "kv-cache",
               "attention-memory", "prenorm-postnorm", "lora", "quantization"}
COSTLY = {"lora", "attention-scaling", "positional-encoding", "prenorm-postnorm"}


def seeds(name: str) -> range:
    if FULL:
        return range(10)
    return range(5) if name in TRANSFORMER - COSTLY else range(3)


NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


@cache
def outcome(name: str, seed: int, control: bool) -> Result:
    params = dict(DEMOS[name].control) if control else {}
    return final_result(name, device="cpu", seed=seed, params=params)


def wording(verdict: str) -> str:
    """The verdict with its numbers masked: what it says, not what it measured."""
    return NUMBER.sub("#", verdict)


def gpu_present() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()


def expected_effect(name: str) -> bool:
    return name not in NEEDS_GPU or gpu_present()


def test_every_demo_declares_a_control() -> None:
    lacking = sorted(name for name in DEMOS if not DEMOS[name].control)
    assert not lacking, f"demos without a META control: {lacking}"


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", CONTROLLED)
def test_control_removes_the_effect_and_the_verdict_says_so(name: str, seed: int) -> None:
    default, control = outcome(name, seed, False), outcome(name, seed, True)
    assert default.numbers["effect"] is expected_effect(name), default.verdict
    assert control.numbers["effect"] is False, control.verdict
    assert not default.cancelled and not control.cancelled
    if expected_effect(name):  # the control's verdict words it differently, numbers aside
        assert wording(default.verdict) != wording(control.verdict), control.verdict
    else:  # no GPU: both runs must say that nothing could be measured
        assert all("no GPU speed-up can appear" in r.verdict for r in (default, control))


@pytest.mark.parametrize(("name", "seed"),
                         [(name, seed) for name in CONTROLLED for seed in seeds(name)])
def test_default_effect_holds_across_seeds(name: str, seed: int) -> None:
    result = outcome(name, seed, False)
    assert result.numbers["effect"] is expected_effect(name), f"seed {seed}: {result.verdict}"


def numbers_in(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def _parity_cases() -> list:
    cases = []
    for name in sorted(DEMOS):
        for control in (False, True) if DEMOS[name].control else (False,):
            cases.append(pytest.param(name, control,
                                      id=f"{name}-{'control' if control else 'default'}"))
    return cases


@pytest.mark.parametrize(("name", "control"), _parity_cases())
def test_korean_verdict_states_the_same_numbers(name: str, control: bool) -> None:
    numbers = dict(outcome(name, 0, control).numbers)
    module = load_demo(DEMOS[name].path)
    english, korean = module.verdict(numbers, lang="en"), module.verdict(numbers, lang="ko")
    assert re.search("[가-힣]", korean) and english != korean
    assert numbers_in(english) == numbers_in(korean), (english, korean)
