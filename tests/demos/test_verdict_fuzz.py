"""Every printed sentence of a converted demo's verdict stays true wherever a learner can turn
its knobs: hypothesis draws settings from META's ranges and choices plus a seed, runs the demo
on CPU, and for each printed statement recomputes its predicate *here*, from the step records
and numbers, with this file's own reading of the shared vocabulary (docs/demos.md) -- never
with the demo's or demos/_verdict.py's helpers. It also checks that no two printed statements
contradict, that both languages print the same statements with the same numbers, and that
the verdict is exactly the printed statements.

The default suite draws 25 settings per demo at small sizes and few steps (each within META's
range) to stay within about a minute of CPU. ``DLPREP_FUZZ_EXAMPLES=200`` draws that many,
over META's whole ranges (the nightly run).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from dlprep.engine import DemoError, check_request, final_result
from dlprep.engine.loader import load_demo
from dlprep.registry import registry


def _oracles() -> Any:
    """tests/ is not a package: load the oracles file beside this one by path."""
    spec = importlib.util.spec_from_file_location(
        "verdict_oracles", Path(__file__).with_name("verdict_oracles.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["verdict_oracles"] = module  # its dataclass looks its module up by name
    spec.loader.exec_module(module)
    return module


_o = _oracles()
CHECKS, EXCLUSIVE, SMALL, Records = _o.CHECKS, _o.EXCLUSIVE, _o.SMALL, _o.Records

NIGHTLY = "DLPREP_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("DLPREP_FUZZ_EXAMPLES", "25"))
# The suite's 900 s safety net is for hangs; a nightly run over whole ranges legitimately
# takes longer (20 min for 30 dying-relu draws on a loaded 2-core machine).
pytestmark = [pytest.mark.timeout(0)] if NIGHTLY else []
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def _param(spec: Any, cap: float | None) -> st.SearchStrategy[Any]:
    """Edges, log-spread values around the default and uniform values of META's range."""
    if spec.choices:
        return st.sampled_from(spec.choices)
    if isinstance(spec.default, str):  # free text (gpu-memory's layers): SMALL lists values
        return st.sampled_from(list(cap) if isinstance(cap, list) else [spec.default])
    low, high, default = spec.min if spec.min is not None else 0, spec.max, spec.default
    if isinstance(default, bool):
        return st.booleans()
    high = default * 4 if high is None else high
    if cap is not None and not NIGHTLY:
        high = min(high, max(cap, low))
    if isinstance(default, int):
        return st.integers(int(low), int(high))
    edges = st.sampled_from(sorted({low, min(max(default, low), high), high}))
    scale = st.floats(-2.5, 1.5).map(lambda e: min(high, max(low, (default or 1.0) * 10**e)))
    return st.one_of(edges, scale, st.floats(low, high, allow_nan=False))


def settings_for(name: str) -> st.SearchStrategy[tuple[dict[str, Any], int, int]]:
    info = registry()[name]
    small = SMALL[name]
    params = st.fixed_dictionaries(
        {key: _param(spec, small.get(key)) for key, spec in info.params.items()})
    steps_cap = int(load_demo(info.path).META.get("steps", 100) if NIGHTLY else small["steps"])
    low = info.min_steps  # META: e.g. gpu-memory sizes the second, warmed-up step
    return st.tuples(params, st.integers(low, max(low, steps_cap)), st.integers(0, 9))


def run_demo(name: str, params: dict[str, Any], steps: int, seed: int) -> tuple[Any, Any]:
    import torch

    info, values = check_request(name, params, "cpu", seed, steps)
    module = load_demo(info.path)
    torch.set_num_threads(1)
    records: list[Any] = []
    gen = module.run(dict(values), steps, seed, torch.device("cpu"))
    while True:
        try:
            records.append(next(gen))
        except StopIteration as stop:
            return module, Records(records, stop.value, dict(values), steps)


def check_draw(name: str, params: dict[str, Any], steps: int, seed: int) -> None:
    try:
        module, rec = run_demo(name, params, steps, seed)
    except DemoError:  # refused with one clear line (too large for the demo): no verdict
        reject()
    said = [s for s in module.statements(rec.numbers) if s.holds]
    names = [s.name for s in said]
    where = f"{name} {params} steps={steps} seed={seed}: {module.verdict(rec.numbers)}"
    assert said and len(set(names)) == len(names), where
    assert module.verdict(rec.numbers) == " ".join(s.en for s in said), where
    assert module.verdict(rec.numbers, "ko") == " ".join(s.ko for s in said), where
    checks: dict[str, Callable[[Any], bool]] = CHECKS[name]
    for s in said:
        assert s.en and s.ko, (s.name, where)
        assert set(NUMBER.findall(s.en)) == set(NUMBER.findall(s.ko)), (s.name, where)
        assert s.name in checks, f"{s.name}: no independent check for this statement"
        assert checks[s.name](rec), f"printed but false: {s.name} -- {where}"
    for group in EXCLUSIVE[name]:
        both = group & set(names)
        assert len(both) <= 1, f"contradiction {sorted(both)} -- {where}"
    for pattern, words in registry()[name].measures.items():
        for found in words_at(rec.numbers, pattern.split(".")):
            assert found in words, f"{pattern} = {found!r}, not declared in META -- {where}"


def words_at(node: Any, parts: list[str]) -> list[Any]:
    """The values at a META "measures" path ("*": every key or item) in the numbers: a card's
    choices offer the declared words, so the demo may measure no other."""
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        return [v for k, sub in node.items() if head in ("*", str(k))
                for v in words_at(sub, rest)]
    if isinstance(node, list) and head == "*":
        return [v for sub in node for v in words_at(sub, rest)]
    return []


def fuzz(name: str) -> Callable[[], None]:
    examples = EXAMPLES if NIGHTLY else int(SMALL[name].get("examples", EXAMPLES))

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(settings_for(name))
    def test(draw: tuple[dict[str, Any], int, int]) -> None:
        check_draw(name, *draw)

    return test


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_printed_statements_hold_and_agree(name: str) -> None:
    fuzz(name)()


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_statement_a_demo_can_print_has_a_check(name: str) -> None:
    """A statement without an oracle here would go unchecked; one draw lists them all."""
    module = load_demo(registry()[name].path)
    # The default run at seed 0, as test_controls requests it: shared, so it costs nothing more.
    numbers = final_result(name, device="cpu", seed=0, params={}).numbers
    names = {s.name for s in module.statements(numbers)}
    assert names == set(CHECKS[name]), names ^ set(CHECKS[name])
    assert all(group <= names for group in EXCLUSIVE[name])


def test_the_issue_s_counterexamples_now_hold() -> None:
    """The settings issue 20 found false or contradictory sentences at."""
    for name, params, steps in [("exploding-gradient", {"gain": 1.2}, 10),
                                ("warmup", {"lr": 0.05}, 40),
                                ("linear-collapse", {"depth": 20, "lr": 0.1}, 20)]:
        if name in CHECKS:
            check_draw(name, params, steps, 0)

