"""Demos built on demos/_gpt.py (the tiny transformer) export like the others: the saved
script and the notebook paste _gpt, _kit and _verdict and run with only torch installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlprep.engine import final_result
from dlprep.engine.script import script_text
from dlprep.export.notebook import PLOT, notebook

HELPERS = ("dlprep", "_kit", "_gpt", "_verdict")


def blocked(tmp_path: Path) -> dict[str, str]:
    """An environment where importing dlprep or a demo helper fails."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    for name in HELPERS:
        (blocker / f"{name}.py").write_text("raise ImportError('not allowed')\n")
    return {"PYTHONPATH": str(blocker), "PATH": ""}


def test_saved_kv_cache_script_pastes_gpt_and_reruns_the_demo(tmp_path: Path) -> None:
    text = script_text("kv-cache", {"new_tokens": 4, "batch": 2}, seed=3, device="cpu")
    assert "from _gpt" not in text and "class KVCache" in text and "class GPT" in text
    assert "def label_task" not in text  # only what the demo uses
    script = tmp_path / "kv.py"
    script.write_text(text, encoding="utf-8")
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, env=blocked(tmp_path), timeout=300)
    assert ran.returncode == 0, ran.stderr
    result = final_result("kv-cache", device="cpu", seed=3, params={"new_tokens": 4,
                                                                    "batch": 2})
    # Timings differ between runs; the token identity and the work do not.
    first = result.verdict.split(". ")[0]
    assert ran.stdout.splitlines()[-1].startswith(first)
    assert f"{result.numbers['cache_bytes']:,} bytes" in ran.stdout


@pytest.mark.parametrize("name", ["causal-mask"])
def test_notebook_code_runs_without_dlprep(tmp_path: Path, name: str) -> None:
    nb = notebook(name, seed=1, steps=2, device="cpu")
    cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source != PLOT + "\n"]
    code = "\n\n".join(cells)
    assert "from _gpt" not in code and "class GPT" in code
    path = tmp_path / "nb.py"
    path.write_text(code, encoding="utf-8")
    ran = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         cwd=tmp_path, env=blocked(tmp_path), timeout=300)
    assert ran.returncode == 0, ran.stderr
    expected = final_result(name, device="cpu", seed=1, steps=2).verdict
    assert ran.stdout.splitlines()[-1] == expected
