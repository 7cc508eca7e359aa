"""The demo engine's contract, checked with tiny fake demos (no real training)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import dlprep.engine.runner as runner
from dlprep.engine import DemoError, Result, Step, stream
from dlprep.paths import demos_dir
from dlprep.registry import scan

FAKE = '''"""A fake demo for engine tests."""
from __future__ import annotations

import time

import torch

from _kit import Log

META = {
    "name": "fake",
    "claim": "Fakes are fast.",
    "claim_ko": "가짜는 빠르다.",
    "cpu_seconds": 0.1,
    "metric": "loss",
    "steps": 1000,
    "params": {
        "blow_up_at": {"default": 0, "help": "step whose loss is inf (0: never)", "min": 0},
        "sleep": {"default": 0.0, "help": "seconds per step", "min": 0},
        "interrupt_at": {"default": 0, "help": "raise KeyboardInterrupt here", "min": 0},
    },
}


def run(p, num_steps, seed, device):
    torch.manual_seed(seed)
    noise = torch.rand(2).tolist()
    for part, name in enumerate(["a", "b"]):
        for step in range(1, num_steps + 1):
            if p["sleep"]:
                time.sleep(p["sleep"])
            if step == p["interrupt_at"]:
                raise KeyboardInterrupt
            loss = math_inf() if step == p["blow_up_at"] and name == "a" else 1.0 / step
            yield Log(name, step, num_steps, {"loss": loss, "noise": noise[part]}, part, 2)
    return {"noise": noise, "device": str(device), "tensor": torch.tensor([1.5, 2.5])}


def math_inf():
    return float("inf")


def verdict(n, lang="en"):
    return ("잡음 " if lang == "ko" else "noise ") + f"{n['noise'][0]:.4f}"
'''


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(demos_dir() / "_kit.py", tmp_path / "_kit.py")
    (tmp_path / "fake.py").write_text(FAKE, encoding="utf-8")
    demos = scan(tmp_path)
    monkeypatch.setattr(runner, "registry", lambda: demos)
    return tmp_path


def collect(**kwargs: object) -> tuple[list[Step], Result]:
    events = list(stream("fake", device="cpu", **kwargs))  # type: ignore[arg-type]
    *steps, result = events
    assert isinstance(result, Result)
    assert all(isinstance(s, Step) for s in steps)
    return steps, result  # type: ignore[return-value]


def test_importing_the_engine_does_not_import_torch() -> None:
    probe = "import sys, dlprep.engine; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_stream_thins_records_and_reports_progress(fake: Path) -> None:
    steps, result = collect()
    for run in ("a", "b"):
        mine = [s.step for s in steps if s.run == run]
        assert mine[0] == 1 and mine[-1] == 1000
        assert 100 <= len(mine) <= 201  # at most ~200 per run, not all 1000
    progress = [s.progress for s in steps]
    assert progress == sorted(progress) and 0 < progress[0] and progress[-1] == 1.0
    assert result.verdict.startswith("noise ") and not result.cancelled and not result.diverged
    assert result.numbers["tensor"] == [1.5, 2.5]  # made JSON-friendly
    json.dumps(result.numbers)


def test_divergence_is_a_result_with_its_step(fake: Path) -> None:
    steps, result = collect(params={"blow_up_at": 7}, steps=50)
    assert result.diverged == {"a": 7}
    assert any(s.step == 7 and math.isinf(s.metrics["loss"]) for s in steps)


def test_same_seed_same_numbers_other_seed_differs(fake: Path) -> None:
    first = collect(seed=3, steps=5)[1].numbers
    assert collect(seed=3, steps=5)[1].numbers == first
    assert collect(seed=4, steps=5)[1].numbers != first


def test_korean_verdict(fake: Path) -> None:
    assert collect(steps=2, lang="ko")[1].verdict.startswith("잡음")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "nope"}, "unknown demo 'nope'"),
        ({"params": {"colour": 1}}, "no parameter 'colour'"),
        ({"params": {"sleep": -1}}, "below the minimum"),
        ({"params": {"blow_up_at": "x"}}, "expected int"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"seed": -1}, "seed must be"),
        ({"steps": 0}, "steps must be"),
        ({"lang": "fr"}, "unknown language"),
    ],
)
def test_bad_requests_raise_before_any_step(fake: Path, kwargs: dict, message: str) -> None:
    name = kwargs.pop("name", "fake")
    with pytest.raises(DemoError, match=message):
        stream(name, **kwargs)


def test_unavailable_device_is_a_demo_error(fake: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DemoError, match="'cuda' is not available"):
        stream("fake", device="cuda")


def test_cancel_stops_at_the_next_step_with_partial_numbers(fake: Path) -> None:
    # Counted in steps, not seconds: the engine checks the event before every training step,
    # so the event after the one that set it is already the partial result.
    cancel = threading.Event()
    events = stream("fake", device="cpu", cancel=cancel)
    steps = [next(events) for _ in range(20)]
    assert all(isinstance(step, Step) for step in steps)
    cancel.set()
    event = next(events)
    assert isinstance(event, Result) and event.cancelled
    assert event.numbers["stopped_at"] == {"a": steps[-1].step} and steps[-1].step < 1000
    assert "a" in event.numbers["last"] and event.verdict.startswith("Cancelled")


def test_keyboard_interrupt_inside_the_demo_ends_as_cancelled(fake: Path) -> None:
    _, result = collect(params={"interrupt_at": 30}, steps=100)
    assert result.cancelled and result.numbers["stopped_at"] == {"a": 29}


MINE = ["vanishing-gradient", "exploding-gradient", "dying-relu", "weight-init", "activations",
        "linear-collapse"]


def test_real_demo_metas_follow_the_contract() -> None:
    import ast

    demos = runner.registry()
    assert set(MINE) <= set(demos)
    for name, info in demos.items():
        assert any("\uac00" <= ch <= "\ud7a3" for ch in info.claim_ko), name
        assert info.cpu_seconds > 0 and info.claim.endswith("."), name
        tree = ast.parse(info.path.read_text(encoding="utf-8"))
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert {"run", "verdict"} <= functions, name
        lines = len(info.path.read_text(encoding="utf-8").splitlines())
        # A verdict that stays true at every edge (ties, lr 0, reversed signs) takes room.
        assert name not in MINE or 60 <= lines <= 250, f"{name}: {lines} lines"
