"""Shared by the exactness grids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def one_thread() -> Iterator[None]:
    # Tiny matmuls on two shared cores: threads only fight each other (20x slower).
    import torch  # only the grids need it; the CLI tests prove memcalc runs without it

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
