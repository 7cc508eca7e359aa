"""Launch to first card painted, in a real terminal (tmux), vs a bare Textual app.

Both are started the same way in a fresh tmux session and timed until their text shows up
in ``tmux capture-pane``; the quiz starts a cram session so its first screen is a card.
Target (issue 5): the quiz within 1.3x of the bare app showing one Static.

The quiz normally starts with its bank cache warm (any earlier run made it); the cold line
deletes the cache before each run, as after an install or a card edit, for context.
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
SESSION = "run"
RUNS = 7


def first_paint(tmux: list[str], command: str, marker: str, env: dict[str, str],
                limit: float = 60.0) -> float:
    """Seconds from starting ``command`` in a new tmux pane until ``marker`` is on screen."""
    subprocess.run([*tmux, "kill-session", "-t", SESSION], capture_output=True)
    start = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30",
                    command], check=True, env=env)
    try:
        while time.perf_counter() - start < limit:
            pane = subprocess.run([*tmux, "capture-pane", "-p", "-t", SESSION],
                                  capture_output=True, text=True).stdout
            if marker in pane:
                return time.perf_counter() - start
            time.sleep(0.005)
        raise TimeoutError(f"{marker!r} did not appear within {limit:.0f}s: {command}")
    finally:
        subprocess.run([*tmux, "kill-session", "-t", SESSION], capture_output=True)


def measure(tmux: list[str], home: str, exe: str, env: dict[str, str]
            ) -> tuple[list[float], ...]:
    cached_bank = Path(home) / "cache" / "bank.pickle"  # where DLPREP_HOME puts it
    bare_cmd = f"{sys.executable} {Path(home) / 'bare.py'}"
    floor_cmd = f"{sys.executable} {Path(home) / 'floor.py'}"
    # stderr is the terminal: Textual draws on it, so it must not be redirected.
    quiz_cmd = f"{exe} quiz --cram --lang en"
    bare_times, quiz_times, floor_times, cold_times = [], [], [], []
    first_paint(tmux, bare_cmd, "READY-BARE", env)  # warm the file cache for both
    first_paint(tmux, quiz_cmd, "Card 1 of", env)
    for _ in range(RUNS):  # interleaved, so machine noise hits both alike
        bare_times.append(first_paint(tmux, bare_cmd, "READY-BARE", env))
        quiz_times.append(first_paint(tmux, quiz_cmd, "Card 1 of", env))
        floor_times.append(first_paint(tmux, floor_cmd, "READY-BARE", env))
        cached_bank.unlink(missing_ok=True)
        cold_times.append(first_paint(tmux, quiz_cmd, "Card 1 of", env))
    return bare_times, quiz_times, floor_times, cold_times


def main() -> int:
    if shutil.which("tmux") is None:
        print("quiz_start: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "bare.py").write_text(BARE.format(imports=""))
        (Path(home) / "floor.py").write_text(BARE.format(imports=DEPS))
        env = {**os.environ, "DLPREP_HOME": home, "TERM": "xterm-256color"}
        env.pop("DLPREP_BANK", None)
        # A private tmux server (its own socket, removed with ``home``) that outlives each
        # measured session: nobody else's sessions clash with ours, and no run races a server
        # that is shutting down. A pane gets the server's environment: it starts with ``env``.
        tmux = ["tmux", "-S", str(Path(home) / "tmux.sock")]
        subprocess.run([*tmux, "new-session", "-d", "-s", "keep", "sleep 3600"], check=True,
                       env=env)
        try:
            bare_times, quiz_times, floor_times, cold_times = measure(tmux, home, exe, env)
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
    base, quiz = statistics.median(bare_times), statistics.median(quiz_times)
    floor_s, cold = statistics.median(floor_times), statistics.median(cold_times)
    ratio = quiz / base
    print(f"quiz_start: launch to first paint in tmux, median of {RUNS} interleaved runs")
    print(f"  bare Textual app (one Static)   {base * 1000:7.1f} ms")
    print(f"  dlprep quiz --cram (first card)  {quiz * 1000:7.1f} ms   {ratio:.2f}x   "
          f"[{verdict(ratio <= 1.3)}: target <= 1.3x]")
    print(f"  same, bank cache cold            {cold * 1000:7.1f} ms   {cold / base:.2f}x   "
          "(context: first start after an install or a card edit)")
    print(f"  bare app + click + card models   {floor_s * 1000:7.1f} ms   {floor_s / base:.2f}x   "
          "(context: the floor while cards are pydantic models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
