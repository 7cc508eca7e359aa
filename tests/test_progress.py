"""`dlprep progress`: export never shrinks a backup, writes atomically, reads read-only;
import is checked whole; move-aside keeps the damaged file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dlprep.commands.progress import main
from dlprep.paths import progress_db_path
from dlprep.study.store import Review, open_store

GOOD = Path(__file__).parent / "hostile" / "good-export.json"


def seed(n: int) -> None:
    store = open_store()
    for i in range(n):
        store.record(Review("c", datetime(2026, 3, 2, 9, i, tzinfo=UTC), 3, "a", 5, "due"), None)
    store.close()


def test_export_refreshes_a_backup_but_never_shrinks_one_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(3)
    backup = tmp_path / "backup.json"
    assert main(["export", str(backup)]) == 0
    assert len(json.loads(backup.read_text())["reviews"]) == 3
    seed(1)  # more progress: the backup may be refreshed
    assert main(["export", str(backup)]) == 0
    full = backup.read_bytes()
    assert len(json.loads(full)["reviews"]) == 4
    progress_db_path().unlink()  # a wrong home, a fresh store: far less to export
    seed(1)
    capsys.readouterr()
    assert main(["export", str(backup)]) == 1
    assert "holds 0 card state(s) and 4 review(s); this export has only 0 and 1" in (
        capsys.readouterr().err)
    assert backup.read_bytes() == full
    assert main(["export", "--force", str(backup)]) == 0
    assert len(json.loads(backup.read_text())["reviews"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.json"]  # no temp file left


def test_export_to_stdout_and_import_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(GOOD)]) == 0
    assert main(["import", str(GOOD)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("imported 1 new review(s) and 1 card state(s)")
    assert out[1].startswith("imported 0 new review(s) and 0 card state(s)")
    assert main(["export", "-"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [r["card_id"] for r in exported["reviews"]] == ["relu-range"]


def test_nothing_to_export_leaves_the_target_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.json"
    assert main(["export", str(target)]) == 1
    assert "no progress file" in capsys.readouterr().err and not target.exists()


def test_move_aside_keeps_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["move-aside"]) == 1
    assert "no progress file" in capsys.readouterr().err
    seed(1)
    assert main(["move-aside"]) == 1  # healthy: another dlprep may be writing to it
    assert "is healthy" in capsys.readouterr().err and progress_db_path().exists()
    assert main(["move-aside", "--force"]) == 0
    [kept] = progress_db_path().parent.glob("progress.sqlite3.bad-*[0-9]")
    assert not progress_db_path().exists()
    assert kept.read_bytes()[:15] == b"SQLite format 3"
