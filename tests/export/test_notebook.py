"""Demo notebooks, checked by Jupyter itself: nbformat validates them and nbclient runs them
top to bottom in a fresh ipykernel, without importing dlprep."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dlprep.export.notebook import notebook, save_notebook

STEPS = 60  # short runs: the test is about the notebook, not the phenomenon


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dlprep", *args], capture_output=True,
                          text=True, timeout=300)


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    # proves the notebook never needed dlprep: nothing imported it into the kernel
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys; print('dlprep loaded:', any(m.startswith('dlprep') for m in sys.modules))"))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize(("name", "lang"), [("linear-collapse", "en"), ("dying-relu", "ko")])
def test_executed_notebook_gives_the_same_verdict_as_json(tmp_path: Path, name: str,
                                                          lang: str) -> None:
    path = tmp_path / f"{name}.ipynb"
    done = run_cli("demo", name, "--save-notebook", str(path), "--steps", str(STEPS),
                   "--device", "cpu", "--lang", lang)
    assert done.returncode == 0, done.stderr
    nbformat.validate(nbformat.read(path, as_version=4))
    nb = execute(path)
    verdict_cell, probe = nb.cells[-2], nb.cells[-1]
    assert stdout(probe).strip() == "dlprep loaded: False"
    shown = stdout(verdict_cell).strip()
    result = run_cli("demo", name, "--json", "--steps", str(STEPS), "--device", "cpu",
                     "--lang", lang)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["type"] == "result"
    assert shown == summary["verdict"]
    plots = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(plots) == 1  # the loss (and per-layer) figure


def test_cells_in_order_with_claim_parameters_and_no_dlprep_import() -> None:
    nb = notebook("vanishing-gradient", {"depth": "6"}, seed=3, lang="ko")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[:2] == ["markdown", "markdown"] and kinds.count("code") == 6
    from dlprep.registry import registry

    assert registry()["vanishing-gradient"].claim_ko in nb.cells[0].source  # chosen language
    params = next(c.source for c in nb.cells if "PARAMS = " in c.source)
    assert "'depth': 6" in params and "SEED = 3" in params and "LANG = 'ko'" in params
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "import dlprep" not in code and "from dlprep" not in code
    assert "from _kit" not in code  # the helpers are pasted, not imported
    assert "except ImportError" in code and "pip install matplotlib" in code


def test_a_demo_built_on_dlprep_says_so() -> None:
    title = notebook("gpu-memory").cells[0].source
    assert "needs torch and dlprep" in title
    assert "needs torch and dlprep" not in notebook("dying-relu").cells[0].source


def test_save_refuses_existing_file_and_leaves_no_partial_file(tmp_path: Path) -> None:
    from dlprep.export.files import ExportError

    path = tmp_path / "nb.ipynb"
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(ExportError, match="already exists; use --force"):
        save_notebook(path, "linear-collapse")
    assert path.read_text(encoding="utf-8") == "keep me"
    save_notebook(path, "linear-collapse", force=True)
    nbformat.validate(nbformat.read(path, as_version=4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb"]


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    existing = tmp_path / "old.ipynb"
    existing.write_text("{}", encoding="utf-8")
    for args, message in [
        (["--save-notebook", str(existing)], "already exists; use --force"),
        (["--save-notebook", str(tmp_path / "x.py")], "must end in .ipynb"),
        (["--save-notebook", str(tmp_path / "no" / "x.ipynb")], "does not exist"),
        (["--save-notebook", str(tmp_path / "x.ipynb"), "--set", "nope=1"], "nope"),
    ]:
        done = run_cli("demo", "linear-collapse", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert existing.read_text(encoding="utf-8") == "{}"
