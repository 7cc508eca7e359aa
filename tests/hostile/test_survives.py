"""Hostile inputs that must *work* (issue 25): dlprep's own export always imports, writes go
through a symlink to its target, long names and a BOM are fine, and no typed number or
output encoding ends in a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dlprep.commands.progress import main
from dlprep.paths import progress_db_path
from dlprep.study.store import MAX_ANSWER_CHARS, MAX_DURATION_MS, Review, open_store
from dlprep.study.units import UnitError, parse_quantity

from .cases import GOOD_EXPORT, seed_progress


@pytest.mark.parametrize(("answer", "duration_ms"), [
    ("x" * 150_000, 900),  # a 150 KB answer, stored as typed
    ("4 MB", 2**31 + 5),  # a review left open for 25 days
    ("4 MB", -5),  # a clock that went back
], ids=["150-KB-answer", "25-day-review", "negative-duration"])
def test_the_own_export_of_the_largest_values_imports(
    answer: str, duration_ms: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    store.record(Review("c1", datetime(2026, 3, 2, tzinfo=UTC), 3, answer, duration_ms, "due",
                        True, "memory"), None)
    store.close()
    backup = tmp_path / "backup.json"
    assert main(["export", str(backup)]) == 0
    monkeypatch.setenv("DLPREP_HOME", str(tmp_path / "elsewhere"))  # a fresh machine
    assert main(["import", str(backup)]) == 0
    [review] = open_store().reviews()
    assert review.answer == answer[:MAX_ANSWER_CHARS]
    assert review.duration_ms == min(max(duration_ms, 0), MAX_DURATION_MS)


def test_export_force_through_a_symlink_updates_its_target(tmp_path: Path) -> None:
    seed_progress(progress_db_path().parent)
    real = tmp_path / "backups" / "real.json"
    real.parent.mkdir()
    real.write_text("{}")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    assert main(["export", "--force", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == real  # the link kept, its target new
    assert len(json.loads(real.read_text())["reviews"]) == 12


def test_a_244_character_file_name_exports(tmp_path: Path) -> None:
    seed_progress(progress_db_path().parent)
    target = tmp_path / ("a" * 239 + ".json")  # legal; the temporary name was over 255
    assert main(["export", str(target)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left


def test_an_export_with_a_utf8_bom_imports(tmp_path: Path) -> None:
    bom = tmp_path / "edited.json"
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD_EXPORT.read_bytes())
    assert main(["import", str(bom)]) == 0
    assert len(open_store().reviews()) == 1


@pytest.mark.parametrize("typed", ["1 x 10^400", "1*10**309", "1e400", "3x10^" + "9" * 5000],
                         ids=["x-10-caret-400", "star-10-power-309", "1e400", "5000-digits"])
def test_a_huge_typed_number_is_not_a_number(typed: str) -> None:
    with pytest.raises(UnitError):  # was an OverflowError that ended the session
        parse_quantity(typed, "B")


def test_korean_on_a_latin1_stdout_is_no_traceback() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    result = subprocess.run([sys.executable, "-m", "dlprep", "bank", "list", "--lang", "ko"],
                            capture_output=True, env=env, timeout=120)
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stdout.count(b"\n") > 100  # every card listed, unencodable letters as '?'
