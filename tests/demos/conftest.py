"""A fixture for the transformer demos' tests: the demo module named by the test module's
``NAME``, its runs on CPU (cached per seed and parameters) and the statements a verdict
prints, so each test file states only what its demo must show."""

from __future__ import annotations

import re
from functools import cache
from types import ModuleType

import pytest

from dlprep.engine import Result, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")  # a verdict's numbers, to compare languages

# `dlprep` run as a user at a terminal would, whatever launched the tests: a shell starts
# background jobs (and so make, CI and pytest-xdist under them) with SIGINT ignored, and a
# Python started that way never turns Ctrl-C into KeyboardInterrupt. For tests that press it.
WITH_CTRL_C = ("import runpy, signal, sys;"
               " signal.signal(signal.SIGINT, signal.default_int_handler);"
               " sys.argv[0] = 'dlprep'; runpy.run_module('dlprep', run_name='__main__')")


class DemoUnderTest:
    def __init__(self, name: str) -> None:
        self.name = name
        self.control = dict(registry()[name].control)
        self.module: ModuleType = load_demo(registry()[name].path)

    def run(self, seed: int = 0, **params: object) -> Result:
        return _run(self.name, seed, tuple(sorted(params.items())))

    def printed(self, numbers: dict) -> list[str]:
        """Names of the statements the verdict prints for these numbers, in order."""
        return [s.name for s in self.module.statements(numbers) if s.holds]

    def said(self, numbers: dict, oracle: dict[str, bool]) -> set[str]:
        """Names of the statements the verdict prints, each checked against ``oracle`` (the
        same statement recomputed by the test from the recorded numbers): every statement
        has an oracle, every printed one holds by it, and its English and Korean show the
        same numbers."""
        statements = self.module.statements(numbers)
        assert {s.name for s in statements} == set(oracle)  # none unchecked
        said = [s for s in statements if s.holds]
        for s in said:
            assert oracle[s.name], s.name
            assert set(NUMBER.findall(s.en)) == set(NUMBER.findall(s.ko)), s.name
        return {s.name for s in said}


@cache
def _run(name: str, seed: int, params: tuple[tuple[str, object], ...]) -> Result:
    return final_result(name, device="cpu", seed=seed, params=dict(params))


@cache
def _demo(name: str) -> DemoUnderTest:
    return DemoUnderTest(name)


@pytest.fixture
def demo(request: pytest.FixtureRequest) -> DemoUnderTest:
    return _demo(request.module.NAME)
