"""Progress in SQLite: card state keyed by card id and an append-only review log.

Every review is its own committed transaction (WAL, busy timeout), so a killed process
loses at most the answer being typed and two dlprep processes lose nothing. A file that
is not ours is moved aside; an unwritable data dir gives an in-memory store and a notice.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fsrs

from dlprep.paths import progress_db_path
from dlprep.study.schedule import dump_state, load_state

APPLICATION_ID = 0x646C7072  # "dlpr": marks the file as ours, so foreign files are caught
SCHEMA_VERSION = 2
EXPORT_FORMAT = "dlprep-progress"
BUSY_TIMEOUT_MS = 10_000

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
    """A progress file that cannot be read or an import file that is not ours."""


@dataclass(frozen=True)
class Review:
    card_id: str
    at: datetime
    rating: int
    answer: str
    duration_ms: int
    kind: str  # "due", "cram", "mock", "plain", "import"
    correct: bool | None = None
    topic: str = ""


def _iso(moment: datetime) -> str:
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
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def states(self) -> dict[str, fsrs.Card]:
        rows = self.conn.execute("SELECT card_id, state FROM cards").fetchall()
        return {card_id: load_state(state) for card_id, state in rows}

    def record(
        self, review: Review, update: Callable[[fsrs.Card | None], fsrs.Card] | None
    ) -> fsrs.Card | None:
        """Append ``review``; with ``update``, reschedule from the state read in the same
        transaction (another process may have reviewed the card meanwhile)."""
        with self._tx() as conn:
            new = None
            if update is not None:
                row = conn.execute(
                    "SELECT state FROM cards WHERE card_id = ?", (review.card_id,)
                ).fetchone()
                new = update(load_state(row[0]) if row else None)
                self._put_state(review.card_id, new, review.at)
            conn.execute(
                "INSERT INTO reviews (card_id, at, rating, answer, duration_ms, kind, correct,"
                " topic) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (review.card_id, _iso(review.at), review.rating, review.answer,
                 review.duration_ms, review.kind,
                 None if review.correct is None else int(review.correct), review.topic),
            )
        return new

    def _put_state(self, card_id: str, state: fsrs.Card, at: datetime) -> None:
        self.conn.execute(
            "INSERT INTO cards (card_id, state, due, updated) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (card_id) DO UPDATE SET state = excluded.state,"
            " due = excluded.due, updated = excluded.updated",
            (card_id, dump_state(state), _iso(state.due), _iso(at)),
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
        reviews = [{**asdict(r), "at": _iso(r.at)} for r in self.reviews()]
        return {"format": EXPORT_FORMAT, "schema": SCHEMA_VERSION, "exported": _iso(now),
                "cards": cards, "reviews": reviews}

    def import_data(self, data: Any) -> tuple[int, int]:
        """Merge an export: new reviews are appended, a card's newer state wins.
        Returns (reviews added, card states taken)."""
        if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
            raise StoreError(f"not a dlprep progress export (expected format {EXPORT_FORMAT!r})")
        try:
            incoming = [Review(**{**r, "at": datetime.fromisoformat(r["at"])})
                        for r in data.get("reviews", [])]
            states = {c["card_id"]: fsrs.Card.from_dict(c["state"]) for c in data.get("cards", [])}
        except (TypeError, KeyError, ValueError) as exc:
            raise StoreError(f"malformed progress export: {exc}") from None
        with self._tx() as conn:
            seen = {(r.card_id, _iso(r.at), r.kind, r.rating) for r in self.reviews()}
            added = 0
            for r in incoming:
                if (r.card_id, _iso(r.at), r.kind, r.rating) in seen:
                    continue
                conn.execute(
                    "INSERT INTO reviews (card_id, at, rating, answer, duration_ms, kind,"
                    " correct, topic) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (r.card_id, _iso(r.at), r.rating, r.answer, r.duration_ms, r.kind,
                     None if r.correct is None else int(r.correct), r.topic),
                )
                added += 1
            mine = self.states()
            taken = 0
            for cid, state in states.items():
                old = mine.get(cid)
                newer = old is None or (state.last_review or state.due) > (
                    old.last_review or old.due)
                if newer:
                    self._put_state(cid, state, state.last_review or state.due)
                    taken += 1
        return added, taken

    def close(self) -> None:
        self.conn.close()


def _connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != APPLICATION_ID and tables:
            raise StoreError("it has tables but is not a dlprep progress file")
        if version > SCHEMA_VERSION:
            raise StoreError(f"schema {version} is newer than this dlprep ({SCHEMA_VERSION})")
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


def open_store(path: Path | None = None) -> Store:
    """Open (creating or upgrading) the progress store; never raises for a bad file."""
    path = path or progress_db_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _unsaved(path, exc.strerror or str(exc))
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return _unsaved(path, "read-only")
    try:
        return Store(_open_checked(path), path)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise StoreError(f"{path} is locked by another process: {exc}") from None
        return _unsaved(path, str(exc))
    except (sqlite3.DatabaseError, StoreError) as exc:
        moved = _move_aside(path)
        notice = (f"{path} could not be used as a progress file ({exc}); moved it to "
                  f"{moved.name} and started a fresh store.")
        return Store(_open_checked(path), path, notice)


def _open_checked(path: Path) -> sqlite3.Connection:
    conn = _connect(path)
    try:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":  # e.g. a filesystem without shared memory: still safe, just slower
            conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn)  # reads the header and schema: a file that is not SQLite fails here
    except BaseException:
        conn.close()
        raise
    return conn


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    moved = path.with_name(f"{path.name}.bad-{stamp}")
    path.replace(moved)
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
    with store._tx() as conn:
        conn.execute(
            "DELETE FROM reviews WHERE id = (SELECT max(id) FROM reviews"
            " WHERE card_id = ? AND at = ?)", (card_id, _iso(at)))
        if not reschedule:
            return
        row = conn.execute("SELECT state FROM cards WHERE card_id = ?", (card_id,)).fetchone()
        if row is None or load_state(row[0]).last_review != at:
            return
        if previous is None:
            conn.execute("DELETE FROM cards WHERE card_id = ?", (card_id,))
        else:
            store._put_state(card_id, previous, previous.last_review or at)
