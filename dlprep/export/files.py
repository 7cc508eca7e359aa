"""Writing an export without ever leaving a partial file or replacing one by accident."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlprep.atomic import replace_atomically


class ExportError(Exception):
    """A target the export cannot write; the message is one line for the learner."""


def check_target(path: Path, force: bool) -> None:
    """Refuse a target that exists (unless ``force``), is a folder, or sits in no folder."""
    if path.is_dir():
        raise ExportError(f"{path} is a directory; give a file name")
    if path.exists() and not force:
        raise ExportError(f"{path} already exists; use --force to replace it")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise ExportError(f"cannot write {path}: folder {parent} is not writable")


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """:func:`dlprep.atomic.replace_atomically`, its failure as one line for the learner."""
    try:
        replace_atomically(path, write)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
