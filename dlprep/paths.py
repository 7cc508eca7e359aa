"""Every path dlprep reads or writes, in one place.

Environment overrides (used by tests and by people who keep several profiles):
- ``DLPREP_HOME``: directory for progress and settings (default: the platform's user data dir).
- ``DLPREP_BANK``: extra card directories or files, separated by ``os.pathsep``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    # A wheel carries the folder inside the package; a source checkout keeps it at the top.
    inside = _PKG / name
    return inside if inside.is_dir() else _PKG.parent / name


def builtin_bank_dir() -> Path:
    """The question bank that ships with dlprep."""
    return _shipped("quizbank")


def demos_dir() -> Path:
    """The folder of demo modules (plain files, imported by path when a demo runs)."""
    return _shipped("demos")


def memcalc_presets_path() -> Path:
    """Shapes of published models for ``dlprep memcalc --model`` (ships in the package)."""
    return _PKG / "memcalc" / "presets.json"


def schema_path() -> Path:
    return builtin_bank_dir() / "schema.json"


def data_dir() -> Path:
    """Where progress is stored; created on demand by the store, not here."""
    home = os.environ.get("DLPREP_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir  # imported lazily: startup speed

    return Path(user_data_dir("dlprep", appauthor=False))


def progress_db_path() -> Path:
    return data_dir() / "progress.sqlite3"


def user_bank_paths(extra: Sequence[str] = ()) -> list[Path]:
    """User banks from ``--bank`` options followed by ``DLPREP_BANK``, in that order."""
    if any(not p.strip() for p in extra):  # Path("") is ".": it would walk the whole folder
        from dlprep.bank.files import BankPathError

        raise BankPathError("an empty path ('') given as a bank; give a card file or folder")
    paths = [Path(p).expanduser() for p in extra]
    env = os.environ.get("DLPREP_BANK", "")
    paths += [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    return paths
