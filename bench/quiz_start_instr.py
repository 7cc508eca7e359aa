"""The quiz's start-up as a count of instructions, for changes too small for a shared machine.

``quiz_start.py`` times the real thing, but on a busy 2-core machine its ratio moves by
0.1x from run to run. This counts the instructions (valgrind's cachegrind, no cache model)
that the bare Textual app of ``quiz_start.py``, ``dlprep quiz`` (the home screen) and
``dlprep quiz --cram`` execute until the text of their first screen is handed to the
terminal, in a pseudo-terminal, with a fixed hash seed and a fixed first card: the same
count every run, to within 0.3%. A ratio of
counts is not a ratio of times (cache misses and I/O are not counted), so the target stays
with ``quiz_start.py``; this says which way a change moves it, and by how much.

Needs valgrind (apt-get install valgrind); each count takes 10-30 s.
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import shutil
import sys
import tempfile
from pathlib import Path

# In the measured process: exit at once when the marker first reaches the terminal.
HOOK = """
import os, sys
from textual.drivers.linux_driver import LinuxDriver
_write = LinuxDriver.write
def write(self, data):
    _write(self, data)
    if {marker!r} in data:
        os._exit(0)
LinuxDriver.write = write
"""
BARE = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("READY-BARE")
Bare().run()
"""
# The cram session's first card is drawn with the rng the app seeds from the OS: fix it.
QUIZ = """
import random
_init = random.Random.__init__
random.Random.__init__ = lambda self, x=None: _init(self, {seed} if x is None else x)
from dlprep.cli import main
sys.exit(main(["quiz", "--cram", "--lang", "en"]))
"""
# What ``dlprep quiz`` with no options shows first: the home screen (no card is drawn).
HOME = """
from dlprep.cli import main
sys.exit(main(["quiz", "--lang", "en"]))
"""
HOME_MARKER = "Session length"  # the home screen's options pane, drawn with the topic list


def count(code: str, env: dict[str, str]) -> int:
    """Instructions ``python -c code`` executes, run in a pseudo-terminal."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "cachegrind.log"
        pid, fd = pty.fork()
        if pid == 0:  # the child: the terminal is the pty
            os.execve(shutil.which("valgrind") or "valgrind",
                      ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--log-file={log}",
                       "--cachegrind-out-file=/dev/null", sys.executable, "-c", code], env)
        while True:  # drain the screen until the child exits
            try:
                if not os.read(fd, 65536):
                    break
            except OSError:
                break
        os.waitpid(pid, 0)
        os.close(fd)
        found = re.search(r"I\s+refs:\s+([\d,]+)", log.read_text())
        if found is None:
            raise RuntimeError(f"no count from valgrind:\n{log.read_text()[-2000:]}")
        return int(found.group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=5,
                        help="seeds the first card (5: a plain multiple-choice question; 9: one "
                             "with code spans; 15: one that needs the Markdown widget)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("quiz_start_instr: valgrind is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DLPREP_HOME": home, "TERM": "xterm-256color",
               "PYTHONHASHSEED": "0"}
        env.pop("DLPREP_BANK", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: from compiled bytecode
        bare = HOOK.format(marker="READY-BARE") + BARE
        quiz = HOOK.format(marker="Card 1 of") + QUIZ.format(seed=args.seed)
        home_code = HOOK.format(marker=HOME_MARKER) + HOME
        for code in (bare, quiz, home_code):  # warm-up: bytecode written, bank cache filled
            count(code, env)
        base, home, measured = count(bare, env), count(home_code, env), count(quiz, env)
    print("quiz_start_instr: instructions to the first screen (valgrind, deterministic)")
    print(f"  bare Textual app (one Static)    {base / 1e6:8.1f} M")
    print(f"  dlprep quiz (home screen)        {home / 1e6:8.1f} M   "
          f"{home / base:.3f}x   (context: quiz_start.py holds the target)")
    print(f"  dlprep quiz --cram (seed {args.seed})      {measured / 1e6:8.1f} M   "
          f"{measured / base:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
