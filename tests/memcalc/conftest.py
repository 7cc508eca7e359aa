"""Shared by the memcalc tests: the in-process CLI runner and the grids' one-thread mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dlprep.commands.memcalc import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def one_thread() -> Iterator[None]:
    # Tiny matmuls on two shared cores: threads only fight each other (20x slower).
    import torch  # only the grids need it; the CLI tests prove memcalc runs without it

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*args)``: dlprep memcalc in-process, giving (exit code, stdout, stderr)."""

    def memcalc(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return memcalc


@pytest.fixture
def flat() -> Callable[[str], str]:
    """Whitespace collapsed, so assertions survive the table's line wrapping."""
    return lambda text: " ".join(text.split())


# Every row a GPT-family step reports: a replay must match a measured step on all of them.
ROWS = ("weights", "master_weights", "buffers", "inputs", "gradients", "optimizer_state",
        "saved_activations", "peak", "phase_peaks")


@pytest.fixture
def misses(one_thread: None) -> Callable[[list[Any]], list[str]]:
    """``misses(configs)``: one line per row where the estimate and a measured CPU step
    differ (empty when every config is exact to the byte)."""
    from dlprep.memcalc.estimate import estimate
    from dlprep.memcalc.measure import measure

    def check(configs: list[Any]) -> list[str]:
        out = []
        for cfg in configs:
            got, want = estimate(cfg), measure(cfg, "cpu")
            for row in ROWS:
                if getattr(got, row) != getattr(want, row):
                    out.append(f"{cfg}: {row} estimated {getattr(got, row)} "
                               f"measured {getattr(want, row)}")
        return out

    return check
