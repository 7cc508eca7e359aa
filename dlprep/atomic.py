"""Replacing a file without ever leaving half of it: the one writer every save goes through.

A temporary file beside the target is filled, optionally flushed to disk, then renamed over
the target (atomic on one file system). Whatever goes wrong, the temporary file is removed
and the target is left as it was; the ``OSError`` reaches the caller.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def replace_atomically(path: Path, write: Callable[[Path], Any], *, sync: bool = True) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it into place.

    ``sync`` flushes it to disk first, so a crash cannot leave a renamed but empty file
    (backups and exports want this; a cache that is rebuilt on demand does not).
    """
    parent = path.parent if str(path.parent) else Path(".")
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
    os.close(handle)
    temp = Path(name)
    try:
        write(temp)
        if sync:
            with open(temp, "rb+") as out:
                os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
