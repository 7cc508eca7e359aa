"""The block's order is written once (``shape.BLOCK_LINEARS``): the walk runs its Linears
in that order, for every MLP kind and Linear policy, and its backward meets them in the
reverse order (the grids then hold the walk to the rig's bytes, and ``param_dims`` - read
off the same order - to the rig's parameters)."""

from __future__ import annotations

import re

import pytest

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.shape import BLOCK_LINEARS, GPT, Adapters

OUTPUT = re.compile(rf"^\+\d+ block 2 (?:expert \d+ )?({'|'.join(BLOCK_LINEARS)}|router) "
                    "output = ")
WEIGHT_GRAD = re.compile(OUTPUT.pattern.replace("output", "weight grad"))

SHAPES = {
    "gelu": GPT(2, 32, 4, 50, max_pos=16),
    "swiglu": GPT(2, 32, 4, 50, n_kv_head=2, mlp="swiglu", norm="rmsnorm", bias=False),
    "moe": GPT(2, 32, 4, 50, mlp="swiglu", norm="rmsnorm", bias=False, n_experts=3, top_k=2),
}


@pytest.mark.parametrize("kind", list(SHAPES))
@pytest.mark.parametrize("lora", [False, True])
def test_the_walk_runs_the_linears_in_the_one_listed_order(kind: str, lora: bool) -> None:
    g = SHAPES[kind]
    targets = tuple(name for name, _, _ in g.linears() if name != "router")
    cfg = Config(batch=2, gpt=g, seq=8, lora=Adapters(4, tuple(dict.fromkeys(targets)))
                 if lora else None)
    log: list[str] = []
    estimate(cfg, log=log)
    walked = [m[1] for line in log if (m := OUTPUT.match(line))]
    assert walked == [name for name, _, _ in g.linears()]
    if not lora:  # backward meets every trained Linear in the reverse order
        back = [m[1] for line in log if (m := WEIGHT_GRAD.match(line))]
        assert back == [name for name, _, _ in reversed(g.linears())]
