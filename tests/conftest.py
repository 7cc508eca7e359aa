"""Shared fixtures: every test gets its own progress directory and no user banks; finished
demo runs are shared by the whole test session."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

import dlprep.engine
import dlprep.engine.runner

ROOT = Path(__file__).resolve().parent.parent


# A demo on the CPU is deterministic for its request, and several test files ask for the
# same finished run (a default at seed 0 in its own file, in test_controls, in
# test_cards_vs_demos). One run per request for the whole session, shared by the xdist
# workers through files, keeps `make test` within its time budget as the demos grow. Only
# plain CPU requests are shared; a run with a cancel event or on another device is not.
def _runs_dir() -> Path:
    controller = os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()
    return Path(tempfile.gettempdir()) / f"dlprep-test-runs-{controller}"


_final_result = dlprep.engine.runner.final_result


def _shared_final_result(name: str, **request: Any) -> Any:
    if set(request) - {"device", "seed", "params", "steps", "lang"} or request.get(
            "device") != "cpu":
        return _final_result(name, **request)
    params = sorted((request.get("params") or {}).items())
    key = repr((name, request.get("seed", 0), params, request.get("steps"),
                request.get("lang", "en")))
    path = _runs_dir() / (hashlib.sha256(key.encode()).hexdigest() + ".pickle")
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        pass
    result = _final_result(name, **request)
    if not result.cancelled:
        path.parent.mkdir(exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        part.write_bytes(pickle.dumps(result))
        os.replace(part, path)  # another worker reads the whole file or none
    return result


dlprep.engine.final_result = _shared_final_result
dlprep.engine.runner.final_result = _shared_final_result


def pytest_unconfigure(config: pytest.Config) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(_runs_dir(), ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("dlprep-home")
    monkeypatch.setenv("DLPREP_HOME", str(home))
    monkeypatch.delenv("DLPREP_BANK", raising=False)
    yield home
