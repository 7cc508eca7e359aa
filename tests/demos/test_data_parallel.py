"""data-parallel: real gloo workers; all-reduce keeps replicas identical, skipping it does not."""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest

from dlprep.engine import Result, Step, final_result, stream
from dlprep.engine.loader import load_demo
from dlprep.registry import registry

from .conftest import WITH_CTRL_C

run = partial(final_result, "data-parallel", device="cpu")


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text))


def in_thread(**request: object) -> Result:
    """Run as the quiz does: the stream consumed on a worker thread."""
    box: list[Result] = []
    worker = threading.Thread(target=lambda: box.append(run(**request)), daemon=True)
    worker.start()
    worker.join(timeout=300)
    assert box, "the demo did not finish from a thread"
    return box[0]


@pytest.fixture(scope="module")
def default() -> Result:
    return run(seed=0)


@pytest.fixture(scope="module")
def control() -> Result:
    return run(seed=0, params={"allreduce": False})


def test_all_reduce_gives_every_replica_the_combined_batch_gradient(default: Result) -> None:
    n = default.numbers
    assert n["effect"] is True and n["backend"] == "gloo"
    assert n["gap_before_step1"] > 0.05  # the shards' own gradients differ ...
    assert n["gap_after_max"] == 0.0  # ... and after all-reduce they are one gradient
    assert n["vs_single_step1"] < 1e-6  # the combined batch's, to float32 rounding
    assert n["drift_final"] == 0.0 and n["weight_change"] > 1e-3
    assert n["vs_single_final"] < 1e-4
    assert "The replicas stay identical." in default.verdict
    assert f"{n['gap_before_step1']:.2g}" in default.verdict


def test_without_all_reduce_the_replicas_drift(control: Result) -> None:
    n = control.numbers
    assert n["effect"] is False
    assert n["gap_after_max"] > 0.05 and n["drift_final"] > 1e-3
    assert "drifted apart" in control.verdict and f"{n['drift_final']:.2g}" in control.verdict
    assert registry()["data-parallel"].control == {"allreduce": False}


def test_seed_one_from_a_thread_like_the_quiz() -> None:
    result = in_thread(seed=1, steps=20)
    assert result.numbers["effect"] is True and result.numbers["drift_final"] == 0.0
    off = in_thread(seed=1, steps=20, params={"allreduce": False})
    assert off.numbers["effect"] is False and off.numbers["drift_final"] > 0


def test_zero_lr_without_all_reduce_says_the_weights_never_moved() -> None:
    n = run(seed=0, steps=3, params={"allreduce": False, "lr": 0}).numbers
    assert n["drift_final"] == 0 and n["weight_change"] == 0 and n["effect"] is False
    text = load_demo(registry()["data-parallel"].path).verdict(n)
    assert "never moved" in text and "drifted apart" not in text


def test_each_sentence_follows_its_own_numbers(control: Result) -> None:
    """Replicas whose weights stayed equal are not said to drift apart, and a divergence is
    reported without blaming a learning rate the run does not vary."""
    verdict = load_demo(registry()["data-parallel"].path).verdict
    equal = {**control.numbers, "drift_final": 0.0}
    assert "drifted apart" not in verdict(equal) and "still equal" in verdict(equal)
    diverged = {**control.numbers, "drift_final": math.nan}
    text = verdict(diverged)
    assert "Training diverged (inf/NaN) at lr 0.2." in text and "lower" not in text
    assert "drifted apart" not in text and "Without all-reduce" not in text


def test_korean_says_the_same_numbers(default: Result, control: Result) -> None:
    verdict = load_demo(registry()["data-parallel"].path).verdict
    for numbers in (default.numbers, control.numbers, {"error": "rank 1: boom"}):
        assert numbers_in(verdict(numbers)) == numbers_in(verdict(numbers, lang="ko"))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_cancel_mid_run_leaves_no_worker_behind() -> None:
    cancel = threading.Event()
    workers: list[int] = []
    events = []
    for event in stream("data-parallel", device="cpu", seed=0, steps=100_000, cancel=cancel):
        events.append(event)
        # step 1 is the first trained step: both workers are running (waiting for a later
        # record would train thousands of steps first: one every steps/20)
        if isinstance(event, Step) and event.step >= 1 and not cancel.is_set():
            workers = [p.pid for p in multiprocessing.active_children()
                       if p.name.startswith("dlprep-replica") and p.pid]
            cancel.set()
    assert len(workers) == 2
    assert isinstance(events[-1], Result) and events[-1].cancelled
    assert not any(_alive(pid) for pid in workers)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_ctrl_c_in_the_cli_stops_the_workers_too(tmp_path: Path) -> None:
    # WITH_CTRL_C: run by a shell in the background (CI, make), the test's own Python would
    # start `dlprep` with SIGINT ignored, and the Ctrl-C below would do nothing
    proc = subprocess.Popen(
        [sys.executable, "-c", WITH_CTRL_C, "demo", "data-parallel", "--plain", "--steps",
         "100000"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until the workers report
            if "rank0" in line:
                break
        children = [int(pid) for task in Path(f"/proc/{proc.pid}/task").iterdir()
                    for pid in (task / "children").read_text().split()]
        replicas = [pid for pid in children
                    if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(replicas) == 2
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # how this test process itself took SIGINT: the demo inherits an ignored one (see above)
    inherited = signal.getsignal(signal.SIGINT)
    assert proc.returncode == 130 and "Cancelled" in out, (proc.returncode, inherited, out[-500:])
    assert not any(_alive(pid) for pid in replicas)
