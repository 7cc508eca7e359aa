"""`dlprep export anki`: one clear line and exit 2 for bad targets; never a partial file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dlprep", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_writes_a_package_and_imports_no_torch(tmp_path: Path) -> None:
    out = tmp_path / "deck.apkg"
    probe = ("import sys; from dlprep.cli import main; code = main(['export', 'anki', "
             f"{str(out)!r}, '--lang', 'both', '--topic', 'memory']); "
             "assert 'torch' not in sys.modules and 'textual' not in sys.modules; "
             "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "notes from" in done.stdout and "in 1 decks" in done.stdout
    assert out.stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]


def test_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from dlprep.cli import main

    # chmod cannot stop root (CI runs as root), so the folder is made unwritable to
    # dlprep's own check, in process
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path
                        else real_access(p, mode))
    assert main(["export", "anki", str(tmp_path / "d.apkg")]) == 2
    err = capsys.readouterr().err
    target = tmp_path / "d.apkg"
    assert err.strip() == f"Error: cannot write {target}: folder {tmp_path} is not writable"
    assert list(tmp_path.iterdir()) == []


def test_bad_targets_give_one_line_and_exit_2(tmp_path: Path) -> None:
    existing = tmp_path / "old.apkg"
    existing.write_bytes(b"my deck")
    cases = [
        ([str(existing)], "already exists; use --force"),
        ([str(tmp_path)], "must end in .apkg"),
        ([str(tmp_path / "missing" / "d.apkg")], "does not exist"),
        ([str(tmp_path / "d.apkg"), "--topic", "nope"], "no such topic: nope"),
        ([str(tmp_path / "d.apkg"), "--bank", str(tmp_path / "nowhere")], "nowhere"),
        ([str(tmp_path / "folder.apkg")], "is a directory"),
    ]
    (tmp_path / "folder.apkg").mkdir()
    for args, message in cases:
        done = run_cli("export", "anki", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert existing.read_bytes() == b"my deck"
    done = run_cli("export", "anki", str(existing), "--force", "--topic", "init")
    assert done.returncode == 0, done.stderr
    assert existing.read_bytes() != b"my deck"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    import genanki

    from dlprep.bank import load_bank
    from dlprep.export.anki import export_anki
    from dlprep.export.files import ExportError

    target = tmp_path / "deck.apkg"
    target.write_bytes(b"old")

    def broken(self: object, path: str, timestamp: float | None = None) -> None:
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(genanki.Package, "write_to_file", broken)
    cards = list(load_bank().cards.values())[:5]
    with pytest.raises(ExportError, match="No space left on device"):
        export_anki(target, cards, ("en",), force=True)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]
