"""positional-encoding: without positions a transformer stays at the order-blind ceiling on
an order-dependent task while learned, sinusoidal and RoPE positions learn it; on count
(the control) positions do not help."""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch

from dlprep.engine import Step, stream

NAME = "positional-encoding"


def test_no_positions_stays_at_the_order_blind_ceiling_the_others_learn_shift(demo: Any) -> None:
    result = demo.run(0)
    n = result.numbers
    assert n["effect"] is True and n["task"] == "shift"
    assert 0.25 < n["ceiling"] < 0.45
    assert n["none"]["accuracy"] <= n["ceiling"] + 0.05
    assert all(n[p]["accuracy"] >= 0.9 for p in ("learned", "sinusoidal", "rope"))
    assert demo.printed(n) == ["accuracies", "ceiling", "at-ceiling", "order-mattered",
                               "all-solved"]
    en, ko = result.verdict, demo.module.verdict(n, "ko")
    assert set(re.findall(r"\d+", en)) == set(re.findall(r"\d+", ko))


def test_count_is_the_control_where_positions_do_not_help(demo: Any) -> None:
    result = demo.run(0, **demo.control)
    n = result.numbers
    assert n["effect"] is False and n["ceiling"] == 1.0
    names = demo.printed(n)
    assert "order-free" in names and "order-mattered" not in names and "at-ceiling" not in names


def test_the_ceiling_is_the_mode_of_the_other_tokens(demo: Any) -> None:
    X = torch.tensor([[0, 0, 1, 2], [3, 3, 3, 3]])
    # Row 1: the others of 0 are {0,1,2} (best 1/3), of 1 {0,0,2} (2/3), of 2 {0,0,1} (2/3);
    # shift scores positions 1..3 only. Row 2: always 3/3.
    assert demo.module.ceiling("shift", X) == pytest.approx((1 / 3 + 2 / 3 + 2 / 3 + 3) / 6)
    assert demo.module.ceiling("count", X) == 1.0


def test_a_model_without_positions_is_permutation_equivariant() -> None:
    from _gpt import GPT

    torch.manual_seed(0)
    net = GPT(8, 32, 2, 4, 8, pos="none", causal=False)
    X = torch.randint(0, 8, (3, 8))
    perm = torch.randperm(8)
    assert torch.allclose(net(X)[:, perm], net(X[:, perm]), atol=1e-5)


def test_attention_on_the_source_is_streamed_for_every_signal() -> None:
    events = list(stream(NAME, device="cpu", seed=0, steps=2, params={"num_layers": 3}))
    runs = {e.run for e in events if isinstance(e, Step)}
    assert runs == {"none", "learned", "sinusoidal", "rope"}
    last = [e for e in events if isinstance(e, Step)][-1]
    assert {"source/1", "source/2", "source/3", "accuracy"} <= set(last.metrics)
