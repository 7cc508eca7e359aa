"""What the registry accepts, a demo runs: every rule a demo's settings must follow is in
META (ranges, choices, and a "check" across parameters), applied without torch wherever
settings come in - a card's demo link, ``--set``, the TUI's fields - never first at run time.

By default this checks, without running anything, that any combination drawn from META's
ranges is either accepted or refused with one ParamError line. With DLPREP_FUZZ_EXAMPLES=N
(nightly) it also runs every demo at N accepted draws for 2 steps on the CPU and fails on
any error the registry did not report first (the audit that found gpu-memory's rule).
"""

from __future__ import annotations

import ast
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlprep.engine import final_result
from dlprep.registry import ParamError, ParamSpec, registry

NIGHTLY = "DLPREP_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("DLPREP_FUZZ_EXAMPLES", "0"))


def _value(spec: ParamSpec) -> st.SearchStrategy[Any]:
    if spec.choices:
        return st.sampled_from(spec.choices)
    if isinstance(spec.default, bool):
        return st.booleans()
    if isinstance(spec.default, str):  # gpu-memory's layers: widths, sizes a rule must judge
        widths = st.lists(st.integers(1, 4096), min_size=1, max_size=5)
        return widths.map(lambda w: ",".join(map(str, w))) | st.just(spec.default)
    low = spec.min if spec.min is not None else 0
    high = spec.max if spec.max is not None else max(4 * spec.default, 1)
    if isinstance(spec.default, int):
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False)


def _params(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: _value(s) for k, s in registry()[name].params.items()})


def _accepted(name: str, params: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return registry()[name].resolve(params)
    except ParamError as exc:
        assert "\n" not in str(exc) and str(exc), (name, params)
        return None


@pytest.mark.parametrize("name", sorted(registry()))
def test_any_draw_from_meta_ranges_is_accepted_or_refused_in_one_line(name: str) -> None:
    @settings(max_examples=10, deadline=None, derandomize=True, database=None)
    @given(_params(name))
    def draw(params: dict[str, Any]) -> None:
        _accepted(name, params)

    draw()


def test_no_demo_checks_its_settings_only_at_run_time() -> None:
    """The engine no longer calls a demo's own ``check(p, device)``: a rule there would
    reach the learner only once torch is loaded and the run has begun."""
    for info in registry().values():
        tree = ast.parse(info.path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert "check" not in defined, f"{info.path.name}: put the rule in META 'check'"


@pytest.mark.skipif(not NIGHTLY, reason="nightly: set DLPREP_FUZZ_EXAMPLES to run every demo")
@pytest.mark.timeout(0)
@pytest.mark.parametrize("name", sorted(registry()))
def test_every_accepted_draw_runs(name: str) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_params(name))
    def draw(params: dict[str, Any]) -> None:
        values = _accepted(name, params)
        if values is not None:
            final_result(name, params=values, device="cpu", seed=0, steps=2)

    draw()
