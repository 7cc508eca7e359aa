"""Progress in SQLite: card state keyed by card id and an append-only review log.

Every review is its own committed transaction (WAL, busy timeout), so a killed process
loses at most the answer being typed and two dlprep processes lose nothing. A file that is
not SQLite or not ours is moved aside (to a name no other move can take); an unwritable
data dir gives an in-memory store and a notice. A file of ours that is damaged or written
by a newer dlprep is refused with :class:`StoreError`: it holds the learner's history, so
the learner decides (``dlprep progress move-aside``), never a silent fresh start.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlprep.paths import progress_db_path
from dlprep.record import record
from dlprep.study.schedule import dump_state, load_state, state_problem

if TYPE_CHECKING:  # fsrs is imported when a state is read or written, not at start-up
    import fsrs

APPLICATION_ID = 0x646C7072  # "dlpr": marks the file as ours, so foreign files are caught
SCHEMA_VERSION = 2
EXPORT_FORMAT = "dlprep-progress"  # progress_file.FORMAT
BUSY_TIMEOUT_MS = 10_000
# The largest values a review keeps: what is recorded is capped here, so that every export
# of this store imports again (progress_file checks an import against the same bounds).
MAX_ANSWER_CHARS = 100_000
MAX_DURATION_MS = 2**31

# Index i upgrades schema version i to i + 1. Never edit a shipped step; append a new one.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        "CREATE TABLE cards (card_id TEXT PRIMARY KEY, state TEXT NOT NULL,"
        " due TEXT NOT NULL, updated TEXT NOT NULL)",
        "CREATE TABLE reviews (id INTEGER PRIMARY KEY AUTOINCREMENT, card_id TEXT NOT NULL,"
        " at TEXT NOT NULL, rating INTEGER NOT NULL, answer TEXT NOT NULL,"
        " duration_ms INTEGER NOT NULL, kind TEXT NOT NULL)",
    ),
    (
        # v2: correctness and topic kept with the review, so statistics survive bank edits
        "ALTER TABLE reviews ADD COLUMN correct INTEGER",
        "ALTER TABLE reviews ADD COLUMN topic TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX reviews_card ON reviews (card_id)",
        "CREATE INDEX reviews_at ON reviews (at)",
    ),
]
assert len(MIGRATIONS) == SCHEMA_VERSION


class StoreError(RuntimeError):
    """A progress file that cannot be used, or an import file that is not ours."""


class StoreLocked(StoreError, sqlite3.OperationalError):
    """Another process held the database lock past the busy timeout; nothing was written.

    Also an ``sqlite3.OperationalError``, so code that catches ``sqlite3.Error`` still does.
    The write can be retried later.
    """


class StoreDamaged(StoreError):
    """Our progress file is damaged (a malformed page): refused, not replaced."""


class StoreTooNew(StoreError):
    """Our progress file was written by a newer dlprep: refused, not replaced."""


def _is_locked(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")
        or "locked" in str(exc) or "busy" in str(exc))


def _locked(path: Path | None, exc: sqlite3.Error) -> StoreLocked:
    where = f"{path}" if path else "the progress store"
    return StoreLocked(f"{where} is locked by another process ({exc}); nothing was written")


def _damaged(path: Path | None, why: object) -> StoreDamaged:
    why = " ".join(str(why).replace("*** in database main ***", "").split())  # one line
    return StoreDamaged(
        f"{path or 'the progress file'} is damaged ({why}); restore it from a backup "
        "(dlprep progress import FILE) or move it aside and start fresh (dlprep progress "
        "move-aside)")


@record
class Review:
    """One row of the review log."""

    card_id: str
    at: datetime
    rating: int
    answer: str
    duration_ms: int
    kind: str  # "due", "cram", "mock", "plain", "import"
    correct: bool | None = None
    topic: str = ""


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path | None, notice: str = "") -> None:
        self.conn = conn
        self.path = path  # None: in memory, nothing is saved
        self.notice = notice  # shown once to the learner (moved-aside file, read-only dir)

    @property
    def saving(self) -> bool:
        return self.path is not None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; a lock held past the busy timeout raises :class:`StoreLocked`."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise _locked(self.path, exc) from exc
            raise
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and _is_locked(exc):
                raise _locked(self.path, exc) from exc
            raise

    def states(self) -> dict[str, fsrs.Card]:
        rows = self.conn.execute("SELECT card_id, state FROM cards").fetchall()
        return {card_id: load_state(state) for card_id, state in rows}

    def due_now(self, now: datetime) -> dict[str, bool]:
        """Each card with a saved state: whether its next review has come by ``now``.

        Reads the ``due`` column, written with every state in one ISO format (UTC, fixed
        width, so text order is time order), and decodes no state: the home screen's counts
        need no fsrs at start-up.
        """
        rows = self.conn.execute("SELECT card_id, due <= ? FROM cards", (iso(now),)).fetchall()
        return {card_id: bool(due) for card_id, due in rows}

    def record(
        self, review: Review, update: Callable[[fsrs.Card | None], fsrs.Card] | None
    ) -> fsrs.Card | None:
        """Append ``review``; with ``update``, reschedule from the state read in the same
        transaction (another process may have reviewed the card meanwhile)."""
        with self.transaction() as conn:
            new = None
            if update is not None:
                row = conn.execute(
                    "SELECT state FROM cards WHERE card_id = ?", (review.card_id,)
                ).fetchone()
                new = update(load_state(row[0]) if row else None)
                self.put_state(review.card_id, new, review.at)
            conn.execute(
                "INSERT INTO reviews (card_id, at, rating, answer, duration_ms, kind, correct,"
                " topic) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (review.card_id, iso(review.at), review.rating,
                 review.answer[:MAX_ANSWER_CHARS],
                 min(max(review.duration_ms, 0), MAX_DURATION_MS), review.kind,
                 None if review.correct is None else int(review.correct), review.topic),
            )
        return new

    def put_state(self, card_id: str, state: fsrs.Card, at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO cards (card_id, state, due, updated) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (card_id) DO UPDATE SET state = excluded.state,"
            " due = excluded.due, updated = excluded.updated",
            (card_id, dump_state(state), iso(state.due), iso(at)),
        )

    def reviews(self) -> list[Review]:
        rows = self.conn.execute(
            "SELECT card_id, at, rating, answer, duration_ms, kind, correct, topic"
            " FROM reviews ORDER BY id"
        ).fetchall()
        return [
            Review(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4], r[5],
                   None if r[6] is None else bool(r[6]), r[7])
            for r in rows
        ]

    def export_data(self, now: datetime) -> dict[str, Any]:
        cards = [
            {"card_id": cid, "state": state.to_dict()} for cid, state in self.states().items()
        ]
        reviews = [{**asdict(r), "at": iso(r.at)} for r in self.reviews()]
        return {"format": EXPORT_FORMAT, "schema": SCHEMA_VERSION, "exported": iso(now),
                "cards": cards, "reviews": reviews}

    def import_data(self, data: Any) -> tuple[int, int]:
        """Merge an export, checked whole first; see :func:`dlprep.study.progress_file.merge`.
        Returns (reviews added, card states taken)."""
        from dlprep.study.progress_file import merge

        return merge(self, data)

    def close(self) -> None:
        self.conn.close()


def _connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


class _NotOurs(Exception):
    """A SQLite file with another program's tables: moved aside, since it is not history."""


def _migrate(conn: sqlite3.Connection, where: Path | None = None) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != APPLICATION_ID and tables:
            raise _NotOurs("it has tables but is not a dlprep progress file")
        if version > SCHEMA_VERSION:
            raise StoreTooNew(
                f"{where or 'the progress file'} was written by a newer dlprep (progress "
                f"schema {version}; this one knows up to {SCHEMA_VERSION}); upgrade dlprep "
                "to use it")
        for step in MIGRATIONS[version:]:
            for statement in step:
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def memory_store(notice: str = "") -> Store:
    conn = _connect(":memory:")
    _migrate(conn)
    return Store(conn, None, notice)


def _unsaved(path: Path, why: str) -> Store:
    return memory_store(f"Cannot write progress to {path} ({why}); "
                        "this session runs without saving.")


def _location_problem(path: Path) -> str:
    """Why ``path`` cannot hold a progress file, in words a learner can act on ('' if it can)."""
    try:
        if path.parent.exists() and not path.parent.is_dir():
            return f"{path.parent} is a file, not a directory; DLPREP_HOME must name a folder"
        if path.is_dir():
            return f"{path} is a directory, not a progress file"
        for journal in (f"{path}-wal", f"{path}-shm"):
            if os.path.isdir(journal):
                return f"{journal} is a directory, not SQLite's journal; move it away"
    except OSError as exc:  # a name over 255 bytes, a loop of links...
        return f"{path.parent} cannot hold a progress file ({exc.strerror or exc})"
    return ""


def open_store(path: Path | None = None) -> Store:
    """Open (creating or upgrading) the progress store.

    Where nothing can be written, the store lives in memory and says so in ``notice``; a
    file that is not a dlprep progress file is moved aside. Raises :class:`StoreError` for
    one of ours that is damaged (:class:`StoreDamaged`), written by a newer dlprep
    (:class:`StoreTooNew`) or locked past the busy timeout (:class:`StoreLocked`).
    """
    path = path or progress_db_path()
    problem = _location_problem(path)
    if problem:
        return _unsaved(path, problem)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _unsaved(path, exc.strerror or str(exc))
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return _unsaved(path, "read-only")
    try:
        return Store(_open_checked(path), path)
    except StoreError:
        raise
    except sqlite3.OperationalError as exc:
        if _is_locked(exc):
            raise _locked(path, exc) from None
        return _unsaved(path, str(exc))
    except (sqlite3.DatabaseError, _NotOurs) as exc:
        moved = move_aside(path)
        notice = (f"{path} could not be used as a progress file ({exc}); moved it to "
                  f"{moved.name} and started a fresh store.")
        return Store(_open_checked(path), path, notice)


def _open_checked(path: Path) -> sqlite3.Connection:
    conn = _connect(path)
    try:
        with _classified(path):
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":  # e.g. a filesystem without shared memory: still safe, slower
                conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("PRAGMA synchronous = NORMAL")
            _check_pages(conn, path)
            _migrate(conn, path)  # reads the header and schema
            check_rows(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def _classified(path: Path) -> Iterator[None]:
    """A malformed page becomes :class:`StoreDamaged`; a file that is not SQLite at all
    stays ``sqlite3.DatabaseError`` (it is moved aside: there is no history in it)."""
    try:
        yield
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise
        raise _damaged(path, exc) from None


def _check_pages(conn: sqlite3.Connection, path: Path) -> None:
    # Every page, once per open (milliseconds for a learner's file): a damaged page found
    # now is one clear message, not a crash in the middle of a session.
    rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    if rows != [("ok",)]:
        raise _damaged(path, rows[0][0] if rows else "no answer from the integrity check")


def check_rows(conn: sqlite3.Connection, path: Path) -> None:
    """A card state fsrs cannot schedule or a review time out of range (hand-edited, or from
    an old bug) makes the file damaged, named by its card: found now, not as a crash at that
    card's next answer or export."""
    for card_id, text in conn.execute("SELECT card_id, state FROM cards"):
        try:
            problem = state_problem(json.loads(text))
        except (TypeError, ValueError):
            problem = "its state is not JSON"
        if problem:
            raise _damaged(path, f"card {card_id!r}: {problem}")
    # times are written as UTC ISO text, so a year outside 1900-9000 (or no date at all)
    # sorts outside this range: one indexed look-up, not a scan
    row = conn.execute("SELECT card_id, at FROM reviews WHERE at < '1900' OR at >= '9001'"
                       " LIMIT 1").fetchone()
    if row is not None:
        raise _damaged(path, f"a review of card {row[0]!r} has the time {row[1][:40]!r}")


def move_aside(path: Path | None = None) -> Path:
    """Rename the progress file (and its WAL files) to a ``.bad-`` name no other move can
    take, even two in the same second; returns the new path."""
    path = path or progress_db_path()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        moved = path.with_name(f"{path.name}.bad-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            os.link(path, moved)  # fails if the name is taken, unlike a rename
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network and FAT filesystems)
            if moved.exists() or Path(f"{moved}-wal").exists():
                continue
            path.replace(moved)
            break
        path.unlink(missing_ok=True)
        break
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            extra.replace(moved.with_name(moved.name + suffix))
    return moved


def forget(store: Store, card_id: str, at: datetime, previous: fsrs.Card | None, *,
           reschedule: bool = True) -> None:
    """Undo one answer: drop its review and give the card back the state it had before.

    The state is put back only if it is still the one that answer wrote (another process
    may have reviewed the card since; its answer wins).
    """
    with store.transaction() as conn:
        conn.execute(
            "DELETE FROM reviews WHERE id = (SELECT max(id) FROM reviews"
            " WHERE card_id = ? AND at = ?)", (card_id, iso(at)))
        if not reschedule:
            return
        row = conn.execute("SELECT state FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        if row is None or load_state(row[0]).last_review != at:
            return
        if previous is None:
            conn.execute("DELETE FROM cards WHERE card_id = ?", (card_id,))
        else:
            store.put_state(card_id, previous, previous.last_review or at)
