"""A built wheel installed into a fresh venv works from any directory."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str | Path, cwd: Path | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          input=stdin)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    built = run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", dist, ROOT,
    )
    assert built.returncode == 0, built.stderr
    [path] = dist.glob("dlprep-*.whl")
    return path


def test_wheel_carries_cards_and_demos_inside_the_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert all(t == "dlprep" or t.startswith("dlprep-") for t in tops), tops
    assert "dlprep/quizbank/schema.json" in names
    assert any(n.startswith("dlprep/quizbank/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("dlprep/demos/") and n.endswith(".py") for n in names)
    # Textual loads each screen's CSS from a file next to the screen's module at run time.
    for screen in ("home", "card", "feedback", "demo", "info"):
        assert f"dlprep/tui/{screen}.tcss" in names


def test_installed_wheel_runs_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # Reuse the already-installed dependencies (torch is large) without dlprep itself:
    # a .pth line adds the site dir to sys.path but does not run its editable hook.
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    fresh_site = Path(run(python, "-c", purelib).stdout.strip())
    (fresh_site / "_dlprep_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel
    )
    assert installed.returncode == 0, installed.stderr
    assert not (fresh_site / "demos").exists() and not (fresh_site / "quizbank").exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dlprep = env_dir / "bin" / "dlprep"
    where = run(python, "-c", "import dlprep; print(dlprep.__file__)", cwd=elsewhere)
    assert where.stdout.startswith(str(env_dir)), where.stdout + where.stderr

    helped = run(dlprep, "--help", cwd=elsewhere)
    assert helped.returncode == 0 and "memcalc" in helped.stdout
    validated = run(dlprep, "bank", "validate", "--strict", cwd=elsewhere)
    assert validated.returncode == 0, validated.stdout[-2000:] + validated.stderr
    assert "0 error(s), 0 warning(s)" in validated.stdout
    stats = run(dlprep, "bank", "stats", cwd=elsewhere)
    assert stats.returncode == 0 and "cards" in stats.stdout, stats.stderr
    demos = run(python, "-c", "from dlprep.registry import registry; print(len(registry()))",
                cwd=elsewhere)
    assert int(demos.stdout) >= 12, demos.stderr
    # A real session from the installed cards (conftest's DLPREP_HOME keeps it off the
    # user's progress); twice, so the second start is served from the bank cache.
    for _ in range(2):
        quiz = run(dlprep, "quiz", "--plain", "--cram", "--lang", "en", cwd=elsewhere,
                   stdin="q\n")
        assert quiz.returncode == 0 and "[1/20]" in quiz.stdout, quiz.stdout + quiz.stderr
