"""Shared fixtures: every test gets its own progress directory and no user banks."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("dlprep-home")
    monkeypatch.setenv("DLPREP_HOME", str(home))
    monkeypatch.delenv("DLPREP_BANK", raising=False)
    yield home
