"""Writing an export without ever leaving a partial file or replacing one by accident."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


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
    """Let ``write`` fill a temporary file beside ``path``, then rename it into place.

    The temporary file is in the same folder so the rename is atomic; whatever goes wrong,
    it is removed and ``path`` is left as it was.
    """
    parent = path.parent if str(path.parent) else Path(".")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        os.replace(temp, path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        temp.unlink(missing_ok=True)
