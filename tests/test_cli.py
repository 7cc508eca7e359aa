"""The command line as a user meets it: help, version, exit codes, bank subcommands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlprep import __version__
from dlprep.cli import COMMANDS, main

BROKEN = Path(__file__).parent / "bank" / "broken"
FIXTURE = Path(__file__).parent / "bank" / "builtin-fixture"


def dlprep(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dlprep", *args], capture_output=True, text=True, cwd=cwd
    )


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("quiz", "demo", "memcalc", "bank", "stats"):
        assert f"  {name} " in out
    assert set(COMMANDS) >= {"quiz", "demo", "memcalc", "bank", "stats"}


def test_version_and_python_dash_m() -> None:
    result = dlprep("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"dlprep {__version__}"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quizz"]) == 2
    assert "no such command 'quizz'" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_subcommand_has_help(name: str) -> None:
    result = dlprep(name, "--help")
    assert result.returncode == 0, result.stderr
    assert f"Usage: dlprep {name}" in result.stdout


def test_validate_exit_codes(tmp_path: Path) -> None:
    ok = dlprep("bank", "validate", str(FIXTURE))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = dlprep("bank", "validate", str(BROKEN / "mcq-answer-not-choice.yaml"))
    assert bad.returncode == 1
    assert "mcq-answer-not-choice.yaml:10: mcq-card: answer: 'tanh' is not among" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr
    missing = dlprep("bank", "validate", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    usage = dlprep("bank", "validate", "--no-such-flag")
    assert usage.returncode == 2


def test_validate_reports_all_broken_files_without_traceback() -> None:
    result = dlprep("bank", "validate", str(BROKEN))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if str(BROKEN.name) in line]
    assert len(lines) >= len(list(BROKEN.glob("*.yaml")))
    assert "Traceback" not in result.stdout + result.stderr


def test_strict_makes_warnings_fatal(tmp_path: Path) -> None:
    text = (FIXTURE / "cards.yaml").read_text(encoding="utf-8").replace(
        "topic: activations", "topic: cooking"
    )
    (tmp_path / "odd.yaml").write_text(text, encoding="utf-8")
    lenient = dlprep("bank", "validate", str(tmp_path))
    strict = dlprep("bank", "validate", "--strict", str(tmp_path))
    assert lenient.returncode == 0 and "(warning)" in lenient.stdout
    assert strict.returncode == 1


def test_builtin_bank_validates_strictly() -> None:
    result = dlprep("bank", "validate", "--strict")
    assert result.returncode == 0, result.stdout[-3000:]


def test_stats_and_list() -> None:
    stats = dlprep("bank", "stats")
    assert stats.returncode == 0, stats.stderr
    for word in ("activations", "mcq", "numeric", "difficulty", "ko "):
        assert word in stats.stdout
    listing = dlprep("bank", "list", "--topic", "memory")
    assert listing.returncode == 0 and listing.stdout.strip()
    assert all(" " in line for line in listing.stdout.splitlines())
    unknown = dlprep("bank", "list", "--topic", "cooking")
    assert unknown.returncode == 2 and "no cards with topic 'cooking'" in unknown.stderr


def test_bank_option_and_env(tmp_path: Path) -> None:
    listing = dlprep("bank", "list", "--bank", str(FIXTURE), "--topic", "activations")
    assert "good-mcq" in listing.stdout
