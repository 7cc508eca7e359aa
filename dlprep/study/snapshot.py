"""Reading the progress file without writing a byte: export and statistics must show the
real history even where it cannot be written (a read-only home), and must never change it.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from dlprep.paths import progress_db_path
from dlprep.study.store import (
    BUSY_TIMEOUT_MS,
    Store,
    StoreError,
    _check_pages,
    _classified,
    _connect,
    _is_locked,
    _location_problem,
    _locked,
    _migrate,
    _NotOurs,
    check_rows,
    memory_store,
)


def read_only_store(path: Path | None = None, *, missing_ok: bool = False) -> Store:
    """A snapshot in memory of the progress file, read without writing a byte (for export
    and statistics, which must see the real file even where it cannot be written).

    Raises :class:`StoreError` when there is no file (unless ``missing_ok``: an empty store)
    or it cannot be used; never moves or changes anything.
    """
    path = path or progress_db_path()
    problem = _location_problem(path)
    if problem:
        raise StoreError(problem)
    if not path.exists():
        if missing_ok:
            return memory_store()
        raise StoreError(f"there is no progress file at {path} yet (nothing has been saved)")
    conn = _connect(":memory:")
    try:
        with _classified(path):
            try:
                _copy_read_only(path, conn)
            except sqlite3.OperationalError as exc:
                if _is_locked(exc):
                    raise _locked(path, exc) from None
                raise StoreError(f"cannot read {path}: {exc}") from None
            except sqlite3.DatabaseError as exc:
                if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
                    raise StoreError(f"{path} is not a dlprep progress file ({exc})") from None
                raise
            _check_pages(conn, path)
            _migrate(conn, path)
            check_rows(conn, path)
    except _NotOurs as exc:
        conn.close()
        raise StoreError(f"{path} is not a dlprep progress file ({exc})") from None
    except BaseException:
        conn.close()
        raise
    return Store(conn, None)


def _copy_read_only(path: Path, into: sqlite3.Connection) -> None:
    try:
        src = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True,
                              timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            src.backup(into)
        finally:
            src.close()
        return
    except sqlite3.OperationalError as exc:
        if _is_locked(exc):
            raise
    # A read-only folder where SQLite cannot create the WAL index: read a private copy.
    with tempfile.TemporaryDirectory(prefix="dlprep-read-") as tmp:
        for suffix in ("", "-wal"):
            if Path(f"{path}{suffix}").exists():
                shutil.copyfile(f"{path}{suffix}", Path(tmp) / f"copy{suffix}")
        src = sqlite3.connect(Path(tmp) / "copy")
        try:
            src.backup(into)
        finally:
            src.close()
