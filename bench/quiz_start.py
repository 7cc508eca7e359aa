"""Launch to first screen painted, in a real terminal (tmux), vs a bare Textual app.

All are started the same way in a fresh tmux session and timed until their text shows up
in ``tmux capture-pane``: ``dlprep quiz`` with no options (its home screen, what a learner
sees first) and ``dlprep quiz --cram`` (its first screen is a card). Target (issues 5 and
26): each within 1.3x of the bare app showing one Static.

The quiz normally starts with its bank cache warm (any earlier run made it); the cold line
deletes the cache before each run, as after an install or a card edit, for context.

A cram session's first card is drawn at random, as a learner gets it, and a question that
needs the Markdown widget costs more to show than a plain one (a Static) or one whose only
Markdown is code spans and emphasis (a Static drawing styled spans). So the bench reads each
first card off the screen, says how many of the runs drew each kind, and gives each kind's
median too; the headline is the median over all runs, whatever was drawn.
"""

from __future__ import annotations

import os
import re
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
# The same bare app after importing what any quiz start needs before its first screen (click
# for the CLI, the bank cache's code; a hit needs neither the loader nor the card classes):
# the floor for this design, for context.
DEPS = "import click, dlprep.bank.cache"
# ...and after importing the pydantic card models instead, as every start did before the
# runtime cards (a cache hit unpickled pydantic models): the old floor, for context.
OLD_DEPS = "import click, dlprep.bank.cache, dlprep.bank.models"
SESSION = "run"
HOME_MARKER = "Session length"  # the home screen's options pane, drawn with the topic list
RUNS = 9


def first_paint(tmux: list[str], command: str, marker: str, env: dict[str, str],
                limit: float = 60.0) -> tuple[float, str]:
    """Seconds from starting ``command`` in a new tmux pane until ``marker`` is on screen,
    and the screen then."""
    subprocess.run([*tmux, "kill-session", "-t", SESSION], capture_output=True)
    start = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30",
                    command], check=True, env=env)
    try:
        while time.perf_counter() - start < limit:
            pane = subprocess.run([*tmux, "capture-pane", "-p", "-t", SESSION],
                                  capture_output=True, text=True).stdout
            if marker in pane:
                return time.perf_counter() - start, pane
            time.sleep(0.005)
        raise TimeoutError(f"{marker!r} did not appear within {limit:.0f}s: {command}")
    finally:
        subprocess.run([*tmux, "kill-session", "-t", SESSION], capture_output=True)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def first_questions() -> list[tuple[set[str], str]]:
    """Each card's English question as words, and how it is shown (as ``card_kind`` says)."""
    from dlprep.bank.loader import load_bank  # uncached: the bench writes no user cache
    from dlprep.study.inline import inline_spans
    from dlprep.study.present import plain_paragraph

    def kind(text: str) -> str:
        if plain_paragraph(text) is not None:
            return "plain"
        return "markdown" if inline_spans(text) is None else "inline"

    return [(_words(card.q.en), kind(card.q.en)) for card in load_bank().cards.values()]


def card_kind(pane: str, questions: list[tuple[set[str], str]]) -> str:
    """"plain", "inline" (code spans, emphasis) or "markdown" (the Markdown widget): how the
    question of the first card on ``pane`` is shown.

    The card is the one whose English question shares the most words with the screen below
    the status line (Markdown drops its syntax characters, never the words).
    """
    shown = _words(pane.split("Card 1 of", 1)[1].split("\n", 1)[1])
    return max(questions, key=lambda q: len(q[0] & shown) / max(len(q[0]), 1))[1]


def measure(tmux: list[str], home: str, exe: str, env: dict[str, str]
            ) -> dict[str, list[float]]:
    cached_bank = Path(home) / "cache" / "bank.pickle"  # where DLPREP_HOME puts it
    commands = {name: f"{sys.executable} {Path(home) / name}.py"
                for name in ("bare", "floor", "old_floor")}
    # stderr is the terminal: Textual draws on it, so it must not be redirected.
    quiz_cmd = f"{exe} quiz --cram --lang en"
    home_cmd = f"{exe} quiz --lang en"
    times: dict[str, list[float]] = {name: [] for name in
                                     ("bare", "home", "quiz", "plain", "inline", "markdown",
                                      "floor", "old_floor", "cold")}
    questions = first_questions()
    first_paint(tmux, commands["bare"], "READY-BARE", env)  # warm the file cache for all
    first_paint(tmux, quiz_cmd, "Card 1 of", env)
    for _ in range(RUNS):  # interleaved, so machine noise hits all alike
        times["bare"].append(first_paint(tmux, commands["bare"], "READY-BARE", env)[0])
        times["home"].append(first_paint(tmux, home_cmd, HOME_MARKER, env)[0])
        seconds, pane = first_paint(tmux, quiz_cmd, "Card 1 of", env)
        times["quiz"].append(seconds)
        times[card_kind(pane, questions)].append(seconds)
        for name in ("floor", "old_floor"):
            times[name].append(first_paint(tmux, commands[name], "READY-BARE", env)[0])
        cached_bank.unlink(missing_ok=True)
        times["cold"].append(first_paint(tmux, quiz_cmd, "Card 1 of", env)[0])
    return times


def main() -> int:
    if shutil.which("tmux") is None:
        print("quiz_start: tmux is not installed (apt-get install tmux)", file=sys.stderr)
        return 2
    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "bare.py").write_text(BARE.format(imports=""))
        (Path(home) / "floor.py").write_text(BARE.format(imports=DEPS))
        (Path(home) / "old_floor.py").write_text(BARE.format(imports=OLD_DEPS))
        env = {**os.environ, "DLPREP_HOME": home, "TERM": "xterm-256color"}
        env.pop("DLPREP_BANK", None)
        # An installed dlprep runs from compiled bytecode (pip compiles it, as it did Textual's),
        # so the warm-up runs may write it; never measure compiling sources on every start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ.pop("DLPREP_BANK", None)  # card_kind loads the same bank as the quiz
        # A private tmux server (its own socket, removed with ``home``) that outlives each
        # measured session: nobody else's sessions clash with ours, and no run races a server
        # that is shutting down. A pane gets the server's environment: it starts with ``env``.
        tmux = ["tmux", "-S", str(Path(home) / "tmux.sock")]
        subprocess.run([*tmux, "new-session", "-d", "-s", "keep", "sleep 3600"], check=True,
                       env=env)
        try:
            times = measure(tmux, home, exe, env)
        finally:
            subprocess.run([*tmux, "kill-server"], capture_output=True)
    median = {name: statistics.median(runs) for name, runs in times.items() if runs}
    base = median["bare"]

    def row(label: str, name: str, note: str) -> str:
        if name not in median:
            return f"  {label:<33}      –   (no run drew one)"
        value = median[name]
        return f"  {label:<33}{value * 1000:7.1f} ms   {value / base:.2f}x   {note}"

    ratio, home = median["quiz"] / base, median["home"] / base
    plain, inline, markdown = (len(times[kind]) for kind in ("plain", "inline", "markdown"))
    print(f"quiz_start: launch to first paint in tmux, median of {RUNS} interleaved runs")
    print(f"  {'bare Textual app (one Static)':<33}{base * 1000:7.1f} ms")
    print(row("dlprep quiz (home screen)", "home", f"[{verdict(home <= 1.3)}: target <= 1.3x]"))
    print(row("dlprep quiz --cram (first card)", "quiz",
              f"[{verdict(ratio <= 1.3)}: target <= 1.3x]  "
              f"(first card drawn: {plain} plain, {inline} code/emphasis, {markdown} Markdown)"))
    print(row("  of which a plain question", "plain", f"(context: median of {plain})"))
    print(row("  of which code spans, emphasis", "inline", f"(context: median of {inline})"))
    print(row("  of which a Markdown question", "markdown", f"(context: median of {markdown})"))
    print(row("same, bank cache cold", "cold",
              "(context: first start after an install or a card edit)"))
    print(row("bare app + click + bank code", "floor",
              "(context: the floor: what every quiz start imports)"))
    print(row("  + pydantic card models", "old_floor",
              "(context: the floor before runtime cards)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
