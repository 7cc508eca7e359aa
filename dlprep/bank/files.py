"""Finding and reading card files without trusting them: caps on size, no FIFOs, no loops.

A path the learner names must yield something: a missing path, a symlink loop, a FIFO or a
folder without card files is a :class:`BankPathError` (a usage error) rather than a bank that
silently holds only the built-in cards.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 2 * 1024 * 1024  # the largest shipped file is ~50 KB; 2 MB is ~2,000 cards
MAX_CARDS = 10_000  # a whole bank; the shipped one has a few hundred
SUFFIXES = (".yaml", ".yml")


class BankPathError(OSError):
    """A bank path that yields no card files (a usage error, not a card problem)."""


class CardFileError(Exception):
    """A card file that cannot be read (too large, not a regular file, unreadable)."""


def display_path(path: Path) -> str:
    """Relative to the working directory when under it, else absolute (no ../../..)."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path.absolute()) if relative.startswith(os.pardir) else relative


def _why(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symlink loop (too many levels of symbolic links)"
    return exc.strerror or str(exc)


# YAML files in a bank folder that hold no cards (the terminology glossary, issue 13).
NOT_CARD_FILES = frozenset({"glossary.yaml", "glossary.yml"})


def card_files(path: Path) -> list[Path]:
    """The file itself, or every ``*.yaml``/``*.yml`` under a folder (symlinks to folders
    are not followed, so a link back up cannot loop)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise BankPathError(f"no such file or directory: {path}") from None
    except OSError as exc:
        raise BankPathError(f"cannot read {path}: {_why(exc)}; nothing was read") from None
    if stat.S_ISREG(mode):
        return [path]
    if not stat.S_ISDIR(mode):
        raise BankPathError(f"{path} is not a regular file or a folder (a FIFO, socket or "
                            "device?); nothing was read")
    if not os.access(path, os.R_OK | os.X_OK):
        raise BankPathError(f"cannot read the folder {path} (permission denied); "
                            "nothing was read")
    # Entries that are not regular files are kept: reading them reports why they were skipped.
    found = sorted(p for p in path.rglob("*")
                   if p.suffix in SUFFIXES and p.name not in NOT_CARD_FILES and not p.is_dir())
    if not found:
        raise BankPathError(f"no card files ({', '.join('*' + s for s in SUFFIXES)}) in "
                            f"{path}; nothing was read")
    return found


def read_card_file(path: Path) -> bytes:
    """The file's bytes, at most :data:`MAX_FILE_BYTES`; never blocks on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CardFileError(f"cannot read: {_why(exc)}") from None
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CardFileError("not a regular file (a FIFO, socket or device?); not read")
        if info.st_size > MAX_FILE_BYTES:
            raise CardFileError(_too_large(info.st_size))
        try:
            data = src.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CardFileError(f"cannot read: {_why(exc)}") from None
    if len(data) > MAX_FILE_BYTES:  # grew since fstat
        raise CardFileError(_too_large(len(data)))
    return data


def _too_large(size: int) -> str:
    return (f"file is {size / 2**20:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit "
            "for a card file; split it into several files")
