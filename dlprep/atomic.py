"""Replacing a file without ever leaving half of it: the one writer every save goes through.

A temporary file beside the target is filled, optionally flushed to disk, then renamed over
the target (atomic on one file system). Whatever goes wrong, the temporary file is removed
and the target is left as it was; the ``OSError`` reaches the caller.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def replace_atomically(path: Path, write: Callable[[Path], Any], *, sync: bool = True) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it into place.

    A symlink is written through (its target is replaced, the link kept); a path that is not
    a regular file (a device, FIFO or socket) or lies under /dev or /proc is refused with an
    ``OSError`` before anything is written. ``sync`` flushes the file to disk first, so a
    crash cannot leave a renamed but empty file (backups and exports want this; a cache that
    is rebuilt on demand does not).
    """
    path = writable_target(path)
    parent = path.parent if str(path.parent) else Path(".")
    # mkstemp adds 8 characters and the suffix: cut the prefix so the name fits in 255 bytes
    prefix = "." + path.name.encode()[:MAX_PREFIX_BYTES].decode("utf-8", "ignore") + "."
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=parent)
    os.close(handle)
    temp = Path(name)
    try:
        if path.exists():  # the replaced file keeps its permissions (mkstemp's are 0600)
            os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
        write(temp)
        if sync:
            with open(temp, "rb+") as out:
                os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


MAX_PREFIX_BYTES = 200  # + "." + 8 random characters + ".part" stays under NAME_MAX (255)
_SYSTEM = ("/dev", "/proc", "/sys")


def writable_target(path: Path) -> Path:
    """The file a write to ``path`` should replace: a symlink's target; raises ``OSError``
    for a device, FIFO, socket or folder, or anything under /dev, /proc or /sys (as root,
    replacing /dev/stdout or /dev/null would break the system)."""
    for where in (Path(os.path.abspath(path)), Path(os.path.realpath(path))):
        if any(where == Path(top) or Path(top) in where.parents for top in _SYSTEM):
            raise OSError(errno.EPERM, f"{where} is a system path, not a file of yours")
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "it is a directory")
    if not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, "not a regular file (a device, FIFO or socket)")
    return target
