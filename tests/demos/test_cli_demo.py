"""`dlprep demo`: listing, input errors, --json, --plain and --save-script."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dlprep.commands.demo import expand_set, main
from dlprep.engine import stream

from .conftest import WITH_CTRL_C

MINE = ["vanishing-gradient", "exploding-gradient", "dying-relu", "weight-init", "activations",
        "linear-collapse"]


def test_list_shows_name_claim_and_cpu_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in MINE:
        line = next(row for row in out.splitlines() if row.startswith(name + " "))
        assert "s  " in line and len(line) > 60
    assert main(["list", "--lang", "ko"]) == 0
    assert "시그모이드" in capsys.readouterr().out
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= set(MINE) and all(r["claim_ko"] for r in rows)


def test_set_accepts_several_pairs_after_one_flag() -> None:
    assert expand_set(["x", "--set", "a=1", "b=2", "--plain", "--set", "c=3"]) == [
        "x", "--set", "a=1", "--set", "b=2", "--plain", "--set", "c=3"]
    assert expand_set(["x", "--set", "oops", "y=1"]) == ["x", "--set", "oops", "--set", "y=1"]
    assert expand_set(["x", "--", "--set", "a=1"]) == ["x", "--", "--set", "a=1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-demo"], "Error: unknown demo 'no-such-demo' (known: "),
        (["dying-relu", "--set", "depth=0"], "Error: depth: 0 is below the minimum 1"),
        (["dying-relu", "--set", "colour=red"], "Error: dying-relu has no parameter 'colour'"),
        (["dying-relu", "--set", "lr=fast"], "Error: lr: expected float, got 'fast'"),
        (["weight-init", "--set", "depth"], "Error: --set expects KEY=VALUE, got 'depth'"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    if not message.startswith("Error: --set"):  # click adds its usage lines to its own errors
        assert captured.err.count("\n") == 1


def test_unavailable_device_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["linear-collapse", "--device", "cuda"]) == 2
    assert capsys.readouterr().err == (
        "Error: device 'cuda' is not available here (no CUDA GPU or CPU-only torch)\n")


def test_json_lines_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exploding-gradient", "--json", "--device", "cpu", "--steps", "20"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    *steps, summary = lines
    assert steps and all(s["type"] == "step" for s in steps)
    assert set(steps[0]) == {"type", "demo", "run", "step", "total", "progress", "metrics"}
    assert steps[0]["demo"] == "exploding-gradient" and steps[0]["total"] == 20
    # the unclipped run overflows at step 2: strict JSON gets null, not NaN/Infinity
    assert any(s["run"] == "unclipped" and s["metrics"]["loss"] is None for s in steps)
    assert set(summary) == {"type", "demo", "verdict", "numbers", "device", "seed", "seconds",
                            "params", "cancelled", "diverged"}
    assert summary["type"] == "result" and summary["device"] == "cpu"
    assert summary["diverged"] == {"unclipped": 2} and summary["cancelled"] is False
    assert summary["params"]["gain"] == 1.5


def test_plain_prints_steps_then_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["linear-collapse", "--plain", "--device", "cpu", "--steps", "30",
                 "--set", "depth=2", "num_hiddens=8"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("linear-collapse: Stacked linear layers")
    assert any("xor/relu" in line and "step    30/30" in line for line in out)
    assert out[-2].startswith("With 2 hidden layers, accuracy after 30 steps: XOR: linear")
    assert out[-1].startswith("[linear-collapse · device cpu · seed 0 ·")


def test_saved_script_runs_with_only_torch_and_reproduces_the_verdict(tmp_path: Path) -> None:
    script = tmp_path / "collapse.py"
    args = ["linear-collapse", "--device", "cpu", "--seed", "5", "--steps", "40",
            "--set", "num_hiddens=16", "--save-script", str(script)]
    assert main(args) == 0
    text = script.read_text(encoding="utf-8")
    assert "from _kit" not in text and "import dlprep" not in text
    # A directory that shadows dlprep and _kit: the script must not need either.
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    for name in ("dlprep", "_kit"):
        (blocker / f"{name}.py").write_text("raise ImportError('not allowed')\n")
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(blocker), "PATH": ""})
    assert ran.returncode == 0, ran.stderr
    *_, result = stream("linear-collapse", device="cpu", seed=5, steps=40,
                        params={"num_hiddens": 16})
    assert ran.stdout.splitlines()[-1] == result.verdict  # type: ignore[union-attr]


def test_saved_script_prints_a_run_that_diverges_at_once_and_only_used_helpers(
    tmp_path: Path,
) -> None:
    script = tmp_path / "explode.py"
    assert main(["exploding-gradient", "--device", "cpu", "--steps", "5", "--save-script",
                 str(script)]) == 0
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env python3\n\"\"\"dlprep demo exploding-gradient, saved")
    assert "def teacher_regression" in text and "def forward_keeping_grads" in text
    for unused in ("def spirals", "def xor", "def accuracy", "def fmt", "def blobs",
                   "def dead_layers", "def spiked"):  # _kit and _verdict are pruned alike
        assert unused not in text, unused
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].split()[:3] == ["unclipped", "step", "2/5"]
    assert lines[0].endswith("(inf/NaN: stopped)")
    assert lines[1].split()[:3] == ["clipped", "step", "5/5"]


def test_save_script_to_a_missing_folder_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dying-relu", "--save-script", str(tmp_path / "no" / "x.py")]) == 2
    assert capsys.readouterr().err.startswith("Error: cannot write")


def test_save_script_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine.py"
    mine.write_text("# my own edits\n")
    assert main(["dying-relu", "--save-script", str(mine)]) == 2
    assert capsys.readouterr().err == (
        f"Error: {mine} already exists; not overwritten (add --force to replace it)\n")
    assert mine.read_text() == "# my own edits\n"
    assert main(["dying-relu", "--save-script", str(mine), "--force"]) == 0
    assert "import torch" in mine.read_text()


class Lines:
    """A child's stdout read by a thread, so every wait has a timeout: a child that never
    prints (or never stops printing) fails the test at once instead of blocking the suite."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self._queue: queue.Queue[str] = queue.Queue()
        stream = proc.stdout

        def pump() -> None:
            for line in stream:
                self._queue.put(line)
            self._queue.put("")  # end of output

        threading.Thread(target=pump, daemon=True).start()

    def next(self, within: float) -> str:
        try:
            return self._queue.get(timeout=within)
        except queue.Empty:
            pytest.fail(f"no output line within {within:.0f} s")

    def until(self, wanted: tuple[str, ...], within: float) -> list[str]:
        """Lines up to and including the first of ``wanted`` (or the end of output), all
        of them ``within`` seconds: a child that ignores Ctrl-C and keeps printing fails."""
        deadline = time.monotonic() + within
        seen: list[str] = []
        while not seen or seen[-1] not in (*wanted, ""):
            try:
                seen.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                pytest.fail(f"not done within {within:.0f} s; last lines: {seen[-3:]}")
        return seen


# Generous: a loaded 2-core machine imports torch slowly. How fast Ctrl-C stops a demo is a
# speed goal, measured by bench/ctrl_c.py, not asserted here.
START_S, STOP_S = 300.0, 120.0



def test_ctrl_c_stops_the_run_and_prints_the_partial_result() -> None:
    args = [sys.executable, "-c", WITH_CTRL_C, "demo", "weight-init", "--plain", "--device",
            "cpu", "--steps", "100000"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = Lines(proc)
        assert lines.next(START_S).startswith("weight-init: ")  # the claim
        assert "step     1/100000" in lines.next(START_S)  # training is under way
        proc.send_signal(signal.SIGINT)
        stopped = lines.until(("Interrupted.\n",), STOP_S)
        assert stopped[-1] == "Interrupted.\n", stopped[-3:]
        out = "".join(lines.until(("",), STOP_S))
        assert proc.wait(timeout=STOP_S) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.startswith("Cancelled; partial results: tanh/zero step ")
    assert out.rstrip().splitlines()[-1].startswith("[weight-init · device cpu · seed 0 ·")


@pytest.mark.parametrize("args", [["list"], ["no-such-demo"], ["dying-relu", "--set", "x=1"]])
def test_listing_and_input_errors_do_not_import_torch(args: list[str]) -> None:
    probe = (f"import sys\nfrom dlprep.commands.demo import main\ncode = main({args!r})\n"
             "print(code, 'torch' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    code, torch_loaded = ran.stdout.split()[-2:]
    assert torch_loaded == "False" and code in ("0", "2"), ran.stdout + ran.stderr


def test_control_runs_the_demo_with_its_cause_removed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["linear-collapse", "--control", "--plain", "--device", "cpu", "--steps",
                 "40"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(line.strip().startswith("halves/linear  step    40/40") for line in out)
    assert "the sign of x1" in out[-2] and out[-2].endswith("on every task.")
    # --set still applies on top of the control settings
    assert main(["linear-collapse", "--control", "--json", "--device", "cpu", "--steps", "3",
                 "--set", "depth=2"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["params"]["labels"] == "linear" and summary["params"]["depth"] == 2
    assert summary["numbers"]["effect"] is False


def test_control_of_a_demo_without_one_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import dlprep.engine.runner as runner
    import dlprep.registry as registry
    from dlprep.registry import scan

    (tmp_path / "bare.py").write_text(
        'META = {"name": "bare", "claim": "No control.", "params": {}}\n'
        "def run(p, num_steps, seed, device):\n    return {}\n"
        "def verdict(n, lang='en'):\n    return ''\n", encoding="utf-8")
    demos = scan(tmp_path)
    monkeypatch.setattr(registry, "registry", lambda: demos)
    monkeypatch.setattr(runner, "registry", lambda: demos)
    assert main(["bare", "--control"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "Error: bare declares no control experiment\n"
