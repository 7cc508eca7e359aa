"""Ctrl-C latency: from SIGINT to "Interrupted." while a demo trains, in a real subprocess.

The goal (issue 3) is "stops within a second". Machines differ, so it is printed against a
baseline measured in the same run: the wall time of starting `python -c pass` (interpreter
start-up tracks how loaded and how fast this machine is). Target: latency < 1 s and at most
25x the baseline (about 1 s where Python starts in 40 ms).

Usage: python bench/ctrl_c.py [--repeat N]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import command_time, verdict  # noqa: E402

# SIGINT restored to Python's default first: a background job starts with it ignored.
ARGS = [sys.executable, "-c",
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
        " sys.argv[0] = 'dlprep'; runpy.run_module('dlprep', run_name='__main__')",
        "demo", "weight-init", "--plain", "--device", "cpu", "--steps", "100000"]


def latency() -> float:
    proc = subprocess.Popen(ARGS, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        proc.stdout.readline()  # the claim
        proc.stdout.readline()  # step 1: training is under way
        start = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        for line in proc.stdout:
            if line == "Interrupted.\n":
                return time.perf_counter() - start
        raise RuntimeError("the demo ended without printing 'Interrupted.'")
    finally:
        proc.kill()
        proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    base = command_time([sys.executable, "-c", "pass"], repeat=max(repeat, 5))
    stop = statistics.median(latency() for _ in range(repeat))
    ratio = stop / base
    print(f"ctrl_c: SIGINT to 'Interrupted.' in `dlprep demo weight-init`, median of {repeat}")
    print(f"  python -c pass (baseline)     {base * 1000:7.1f} ms")
    print(f"  Ctrl-C latency                {stop * 1000:7.1f} ms   "
          f"[{verdict(stop < 1.0)}: target < 1000 ms]")
    print(f"  ratio to baseline             {ratio:7.1f}x   "
          f"[{verdict(ratio <= 25)}: target <= 25x]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
