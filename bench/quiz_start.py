"""Launch to first card painted, in a real terminal (tmux), vs a bare Textual app.

Both are started the same way in a fresh tmux session and timed until their text shows up
in ``tmux capture-pane``; the quiz starts a cram session so its first screen is a card.
Target (issue 5): the quiz within 1.3x of the bare app showing one Static.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import verdict  # noqa: E402

BARE = """
{imports}
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("READY-BARE")

Bare().run()
"""
# The same bare app after importing what any quiz start needs before its first card
# (click for the CLI, the pydantic card models): the floor for this design, for context.
DEPS = "import click, dlprep.bank.models"
SESSION = "dlprep-bench"
RUNS = 7


def first_paint(command: str, marker: str, env: dict[str, str], limit: float = 60.0) -> float:
    """Seconds from starting ``command`` in a new tmux pane until ``marker`` is on screen."""
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30",
                    command], check=True, env=env)
    try:
        while time.perf_counter() - start < limit:
            pane = subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION],
                                  capture_output=True, text=True).stdout
            if marker in pane:
                return time.perf_counter() - start
            time.sleep(0.005)
        raise TimeoutError(f"{marker!r} did not appear within {limit:.0f}s: {command}")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def main() -> int:
    if shutil.which("tmux") is None:
        print("quiz_start: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    with tempfile.TemporaryDirectory() as home:
        bare = Path(home) / "bare.py"
        bare.write_text(BARE.format(imports=""))
        floor = Path(home) / "floor.py"
        floor.write_text(BARE.format(imports=DEPS))
        env = {**os.environ, "DLPREP_HOME": home, "TERM": "xterm-256color"}
        env.pop("DLPREP_BANK", None)
        bare_cmd = f"{sys.executable} {bare}"
        floor_cmd = f"{sys.executable} {floor}"
        # stderr is the terminal: Textual draws on it, so it must not be redirected.
        quiz_cmd = f"{exe} quiz --cram --lang en"
        bare_times, quiz_times, floor_times = [], [], []
        first_paint(bare_cmd, "READY-BARE", env)  # warm the file cache for both
        first_paint(quiz_cmd, "Card 1 of", env)
        for _ in range(RUNS):  # interleaved, so machine noise hits both alike
            bare_times.append(first_paint(bare_cmd, "READY-BARE", env))
            quiz_times.append(first_paint(quiz_cmd, "Card 1 of", env))
            floor_times.append(first_paint(floor_cmd, "READY-BARE", env))
    base, quiz = statistics.median(bare_times), statistics.median(quiz_times)
    floor_s = statistics.median(floor_times)
    ratio = quiz / base
    print(f"quiz_start: launch to first paint in tmux, median of {RUNS} interleaved runs")
    print(f"  bare Textual app (one Static)   {base * 1000:7.1f} ms")
    print(f"  dlprep quiz --cram (first card)  {quiz * 1000:7.1f} ms   {ratio:.2f}x   "
          f"[{verdict(ratio <= 1.3)}: target <= 1.3x]")
    print(f"  bare app + click + card models   {floor_s * 1000:7.1f} ms   {floor_s / base:.2f}x   "
          "(context: the floor while cards are pydantic models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
