"""The hostile corpus: every bad input gets one clear line naming the file or path, a
non-zero exit, no traceback and no hang, and the learner's progress stays byte for byte."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import cases_demo_params, cases_round3  # noqa: F401  (register their cases)
from .cases import CASES, Run, seed_progress

# A hang guard, not a speed goal: each case takes about a second; a loaded machine is slow.
HANG_S = 120


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


# `python -m dlprep`, after the case's prelude
RUNNER = "import sys\n{prelude}\nfrom dlprep.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def dlprep(run: Run, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", **run.env}
    command = [sys.executable, "-c", RUNNER.format(prelude=run.prelude), *run.args]
    try:
        if run.stdout is None:
            return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd,
                                  stdin=subprocess.DEVNULL, timeout=HANG_S)
        with run.stdout.open("w") as out:
            return subprocess.run(command, stdout=out, stderr=subprocess.PIPE, text=True,
                                  env=env, cwd=cwd, stdin=subprocess.DEVNULL, timeout=HANG_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"dlprep {' '.join(run.args)} still running after {HANG_S} s (a hang)")


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_one_clear_error(name: str, tmp_path: Path, _isolated_home: Path
                                          ) -> None:
    progress = seed_progress(_isolated_home)
    run = CASES[name](tmp_path, _isolated_home)
    before = {p: digest(p) for p in [progress, *run.precious]}
    result = dlprep(run, tmp_path)
    out = (result.stdout or "") + result.stderr
    assert "Traceback" not in out, out[-3000:]
    assert result.returncode != 0, out[-3000:]
    if run.exit_code is not None:
        assert result.returncode == run.exit_code, out[-3000:]
    named = [line for line in out.splitlines() if run.needle in line]
    assert len(named) == 1, out[-3000:]
    if run.lines is not None:
        assert len([line for line in out.splitlines() if line.strip()]) == run.lines, out
    assert after(before) == before, "the learner's files changed"


def after(before: dict[Path, str | None]) -> dict[Path, str | None]:
    return {p: digest(p) for p in before}
