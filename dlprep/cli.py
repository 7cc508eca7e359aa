"""The ``dlprep`` entry point: a tiny dispatcher so ``dlprep --help`` starts fast.

Each subcommand lives in ``dlprep.commands.<name>`` (a click command) and is imported
only when it runs; the top-level help is built from the table below without importing
click, pydantic, textual or torch.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Sequence

from dlprep import __version__

# name: (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "quiz": ("dlprep.commands.quiz", "Practise cards in the terminal UI (spaced repetition)."),
    "demo": ("dlprep.commands.demo", "Run a live PyTorch experiment that proves an answer."),
    "memcalc": ("dlprep.commands.memcalc", "Compute the GPU memory that training needs."),
    "bank": ("dlprep.commands.bank", "Validate, list and count the question bank."),
    "stats": ("dlprep.commands.stats", "Show your review statistics and what to study next."),
    "progress": ("dlprep.commands.progress", "Export or import your progress as JSON."),
    "export": ("dlprep.commands.export", "Export the cards as an Anki deck (.apkg)."),
}

USAGE = "Usage: dlprep [--version] [--help] COMMAND [ARGS]..."


def help_text() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items())
    return (
        f"{USAGE}\n\n"
        "  Deep-learning interview prep you can run: bilingual cards, spaced repetition,\n"
        "  live PyTorch demos and a training-memory calculator.\n\n"
        "Options:\n"
        "  --version  Show the version and exit.\n"
        "  --help     Show this message and exit.\n\n"
        f"Commands:\n{rows}\n\n"
        "Run 'dlprep COMMAND --help' for a command's options.\n"
        "Exit codes: 0 ok, 1 problems found (e.g. invalid cards), 2 usage error."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(help_text())
        return 0
    if args[0] == "--version":
        print(f"dlprep {__version__}")
        return 0
    if args[0] == "help" and len(args) > 1:
        args = [args[1], "--help"]
    entry = COMMANDS.get(args[0])
    if entry is None:
        print(f"{USAGE}\nError: no such command {args[0]!r}. "
              f"Commands: {', '.join(COMMANDS)}.", file=sys.stderr)
        return 2
    problem = _prepare_streams()
    if problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 2
    module = importlib.import_module(entry[0])
    try:
        code: int = module.main(args[1:], prog_name=f"dlprep {args[0]}")
        sys.stdout.flush()  # a full or closed stdout fails here, inside the handler
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRORS:
            raise
        # stdout is a full disk or a closed pipe: say so once, and let the interpreter's
        # final flush write nowhere instead of printing a second error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"Error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return code


_OUTPUT_ERRORS = {errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EDQUOT}


def _prepare_streams() -> str:
    """Streams and a working directory every command can rely on; else why not."""
    try:
        os.getcwd()
    except OSError:
        return "the current directory no longer exists (deleted?); cd to one that does"
    for name in ("stdin", "stdout"):  # closed by the caller (<&- or >&-): read/write nothing
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "r" if name == "stdin" else "w",
                                    encoding="utf-8"))
    # Korean text on a stdout that cannot encode it (PYTHONIOENCODING=latin-1, a C locale):
    # replaced characters, not a UnicodeEncodeError in the middle of a session
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "") == "strict":
            reconfigure(errors="replace")
    return ""
