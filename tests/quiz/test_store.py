"""The progress store: reviews committed as made, concurrent writers, bad files, migrations."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from dlprep.paths import progress_db_path
from dlprep.study.grading import Rating
from dlprep.study.schedule import ManualClock, Scheduler
from dlprep.study.snapshot import read_only_store
from dlprep.study.store import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    Review,
    StoreDamaged,
    StoreError,
    StoreLocked,
    StoreTooNew,
    move_aside,
    open_store,
)

from .conftest import START

WRITER = """
import sys
from datetime import datetime, UTC
from dlprep.study.grading import Rating
from dlprep.study.schedule import Scheduler
from dlprep.study.store import Review, open_store
store = open_store()
sch = Scheduler(fuzz=False)
tag, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    now = datetime.now(UTC)
    review = Review(f"card-{i % 5}", now, 3, f"{tag}-{i}", 10, "due", True, "memory")
    store.record(review, lambda s: sch.review(s, Rating.Good, now, 10))
    print(i, flush=True)
"""


def _writer(tag: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, tag, str(count)],
                            stdout=subprocess.PIPE, text=True, env=os.environ.copy())


def _review(card_id: str, clock: ManualClock, rating: int = 3) -> Review:
    return Review(card_id, clock(), rating, "4 MB", 1500, "due", rating > 1, "memory")


def test_review_is_committed_and_state_updated(clock: ManualClock) -> None:
    sch = Scheduler(clock, fuzz=False)
    store = open_store()
    state = store.record(_review("a", clock),
                         lambda s: sch.review(s, Rating.Good, clock(), 1500))
    assert state is not None and state.due > clock()
    other = sqlite3.connect(progress_db_path())  # a separate reader sees it: committed
    assert other.execute("SELECT card_id, answer, kind FROM reviews").fetchall() == [
        ("a", "4 MB", "due")]
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.record(_review("a", clock), None)  # cram: logged, schedule untouched
    assert len(store.reviews()) == 2 and store.states()["a"].due == state.due
    store.close()


def test_killed_mid_session_loses_nothing_committed() -> None:
    proc = _writer("kill", 100000)
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(30)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = open_store()
    assert store.notice == ""  # the file is intact, nothing moved aside
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(store.reviews()) >= len(lines) == 30


def test_two_processes_lose_no_reviews() -> None:
    open_store().close()  # create the schema once so both start on the same file
    procs = [_writer("p1", 150), _writer("p2", 150)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    answers = [r.answer for r in open_store().reviews()]
    assert len(answers) == 300 and len(set(answers)) == 300


def test_corrupt_file_is_moved_aside(tmp_path: Path) -> None:
    path = progress_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not sqlite" * 100)
    store = open_store()
    assert "moved it to" in store.notice and store.saving
    assert [p.name for p in path.parent.glob("progress.sqlite3.bad-*")]
    assert store.reviews() == []


def test_foreign_sqlite_file_is_moved_aside() -> None:
    path = progress_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    foreign = sqlite3.connect(path)
    foreign.execute("CREATE TABLE photos (id INTEGER)")
    foreign.commit()
    foreign.close()
    store = open_store()
    assert "not a dlprep progress file" in store.notice
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_read_only_dir_runs_without_saving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           clock: ManualClock) -> None:
    home = tmp_path / "ro"
    home.mkdir()
    home.chmod(0o500)
    monkeypatch.setenv("DLPREP_HOME", str(home))
    if os.geteuid() == 0:  # root ignores permission bits; make the check see what a user would
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: mode != os.W_OK and real_access(p, mode))
    try:
        store = open_store()
        assert not store.saving and "without saving" in store.notice
        store.record(_review("a", clock), None)  # still works, in memory
        assert len(store.reviews()) == 1
        assert not list(home.iterdir())
    finally:
        home.chmod(0o700)


def test_unwritable_path_runs_without_saving(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = open_store(blocker / "sub" / "progress.sqlite3")  # parent is a file
    assert not store.saving and "without saving" in store.notice


def test_v1_file_is_migrated() -> None:
    path = progress_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        old.execute(statement)
    old.execute("INSERT INTO reviews (card_id, at, rating, answer, duration_ms, kind)"
                " VALUES ('a', '2026-01-01T00:00:00+00:00', 3, 'x', 5, 'due')")
    old.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    store = open_store()
    assert store.notice == ""
    [review] = store.reviews()
    assert review.card_id == "a" and review.correct is None and review.topic == ""


def test_export_import_round_trip(tmp_path: Path, clock: ManualClock) -> None:
    sch = Scheduler(clock, fuzz=False)
    store = open_store()
    for card in ("a", "b"):
        store.record(_review(card, clock), lambda s: sch.review(s, Rating.Good, clock(), 9))
        clock.advance(60)
    data = json.loads(json.dumps(store.export_data(clock())))
    other = open_store(tmp_path / "other.sqlite3")
    assert other.import_data(data) == (2, 2)
    assert other.import_data(data) == (0, 0)  # importing twice duplicates nothing
    assert other.states()["a"].due == store.states()["a"].due
    assert [r.answer for r in other.reviews()] == ["4 MB", "4 MB"]
    assert START + timedelta(seconds=60) == other.reviews()[1].at


def _seed(clock: ManualClock, n: int = 30) -> Path:
    store = open_store()
    for i in range(n):
        store.record(Review(f"c{i % 3}", clock(), 3, "y" * 300, 10, "due", True, "memory"), None)
        clock.advance(60)
    store.close()
    return progress_db_path()


def test_two_files_moved_aside_in_the_same_second_keep_both(clock: ManualClock) -> None:
    path = progress_db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    moved = []
    for text in (b"first bad file " * 50, b"second bad file " * 50):
        path.write_bytes(text)
        moved.append(move_aside(path))
    assert moved[0] != moved[1]
    assert [m.read_bytes()[:6] for m in moved] == [b"first ", b"second"]
    assert not path.exists()


def test_a_newer_file_is_refused_not_moved_aside(clock: ManualClock) -> None:
    path = _seed(clock)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    for opener in (open_store, read_only_store):
        with pytest.raises(StoreTooNew, match="written by a newer dlprep"):
            opener()
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.bad-*"))


def test_a_damaged_page_is_refused_everywhere_and_left_alone(clock: ManualClock) -> None:
    path = _seed(clock)
    data = bytearray(path.read_bytes())
    data[3 * 4096 + 8: 3 * 4096 + 2048] = b"\x5a" * (2048 - 8)  # page 4; the header is intact
    path.write_bytes(bytes(data))
    for opener in (open_store, read_only_store):
        with pytest.raises(StoreDamaged, match="is damaged .*progress move-aside"):
            opener()
    assert path.read_bytes() == bytes(data)
    assert not list(path.parent.glob("*.bad-*"))


def test_a_lock_held_past_the_busy_timeout_is_store_locked(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    store.conn.execute("PRAGMA busy_timeout = 50")  # the other process holds on past this
    holder = sqlite3.connect(progress_db_path(), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreLocked, match="locked by another process") as caught:
            store.record(_review("a", clock), None)
        assert isinstance(caught.value, sqlite3.OperationalError)  # old handlers still catch it
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.record(_review("a", clock), None)  # once released, the same answer is written
    assert [r.card_id for r in store.reviews()] == ["a"]


def test_read_only_snapshot_sees_uncheckpointed_reviews_and_writes_nothing(
    clock: ManualClock,
) -> None:
    writer = open_store()
    writer.conn.execute("PRAGMA wal_autocheckpoint = 0")
    writer.record(_review("a", clock), None)
    path = progress_db_path()
    wal = path.with_name(path.name + "-wal")
    before = path.read_bytes(), wal.read_bytes()
    assert len(before[1]) > 0  # the review is still only in the WAL
    snap = read_only_store()
    assert [r.card_id for r in snap.reviews()] == ["a"] and not snap.saving
    snap.close()
    assert (path.read_bytes(), wal.read_bytes()) == before
    writer.close()


def test_missing_file_and_home_that_is_a_file(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StoreError, match="no progress file"):
        read_only_store()
    assert read_only_store(missing_ok=True).reviews() == []
    blocker = tmp_path / "home-file"
    blocker.write_text("x")
    monkeypatch.setenv("DLPREP_HOME", str(blocker))
    assert "is a file, not a directory" in open_store().notice
    with pytest.raises(StoreError, match="is a file, not a directory"):
        read_only_store()


def test_import_refuses_bad_data_by_path_and_adds_a_review_once(clock: ManualClock) -> None:
    store = open_store()
    store.record(_review("a", clock), None)
    data = json.loads(json.dumps(store.export_data(clock())))
    bad = {**data, "reviews": [{**data["reviews"][0], "rating": 7}]}
    with pytest.raises(StoreError, match=r"\$\.reviews\[0\]\.rating: .*less than or equal to 4"):
        store.import_data(bad)
    other = open_store(progress_db_path().with_name("other.sqlite3"))
    twice = {**data, "reviews": data["reviews"] * 2}
    assert other.import_data(twice) == (1, 0)
    assert other.import_data(data) == (0, 0)


def test_snapshot_falls_back_to_a_private_copy_where_sqlite_cannot_open_read_only(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dlprep.study.snapshot as snapshot

    writer = open_store()
    writer.conn.execute("PRAGMA wal_autocheckpoint = 0")
    writer.record(_review("a", clock), None)  # only in the WAL so far
    real_connect = sqlite3.connect

    def no_read_only(*args, **kwargs):  # what a read-only folder without a WAL index does
        if kwargs.get("uri"):
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(snapshot.sqlite3, "connect", no_read_only)
    snap = read_only_store()
    assert [r.card_id for r in snap.reviews()] == ["a"]
    snap.close()
    writer.close()
