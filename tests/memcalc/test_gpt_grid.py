"""The GPT replay equals a measured training step to the byte, over a 180-config grid.

Tiny odd sizes keep it cheap (one thread, CPU): every row and every phase peak must
match for both attention forms, grouped-query heads, both norms, both MLPs, tied and
untied heads, biases or none, learned positions or none, an encoder (no causal mask),
fp32, pure bf16, autocast (bf16 and fp16) and half models with fp32 master weights,
under four optimisers, half of them with every block checkpointed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from dlprep.memcalc.config import GPT, Config, ConfigError

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("one_thread")

# (n_layer, d_model, n_head, n_kv_head, d_ff, vocab, seq)
SHAPES = [(1, 12, 3, 0, 13, 17, 5), (2, 8, 2, 0, 0, 29, 3), (1, 16, 4, 2, 24, 11, 7),
          (2, 12, 6, 3, 10, 19, 4), (3, 10, 2, 0, 7, 23, 6)]
BLOCKS = [  # (norm, mlp, tied, bias, max_pos, causal)
    ("layernorm", "gelu", True, True, 9, True),
    ("rmsnorm", "swiglu", False, False, 0, True),
    ("layernorm", "swiglu", True, False, 0, True),
    ("rmsnorm", "gelu", False, True, 8, False),
]
DTYPES = ["fp32", "bf16", "amp-bf16", "amp-fp16", "bf16-master", "fp16-master"]
OPTIMIZERS = [("sgd", True), ("adam", True), ("adam", False), ("adamw", True)]


def grid() -> list[Config]:
    out = []
    combos = itertools.product(range(len(SHAPES)), range(3), DTYPES, ("math", "sdpa"))
    for n, (s, b, dtype, attention) in enumerate(combos):
        L, d, H, KV, ff, V, T = SHAPES[s]
        norm, mlp, tied, bias, pos, causal = BLOCKS[(b + n) % len(BLOCKS)]
        opt, foreach = OPTIMIZERS[n % len(OPTIMIZERS)]
        g = GPT(n_layer=L, d_model=d, n_head=H, n_kv_head=KV, d_ff=ff, vocab=V,
                max_pos=pos, norm=norm, mlp=mlp, tied=tied, bias=bias, causal=causal)
        out.append(Config(batch=1 + n % 3, seq=T, gpt=g, attention=attention, dtype=dtype,
                          optimizer=opt, foreach=foreach, checkpointing=n // 2 % 2 == 1,
                          weight_decay=0.01 if n % 5 == 0 else 0.0))
    return out


def test_gpt_grid_is_exact_to_the_byte(misses: Callable[[list[Config]], list[str]]) -> None:
    configs = grid()
    assert len(configs) >= 150
    wrong = misses(configs)
    assert not wrong, "\n".join(wrong[:10])


def test_parameter_count_matches_the_torch_model() -> None:
    cfg = grid()[5]
    from dlprep.memcalc.rig import build

    rig = build(cfg, "cpu")
    assert sum(p.numel() for p in rig.net.parameters()) == cfg.n_params


@pytest.mark.parametrize("kw", [
    {"n_head": 3, "d_model": 8}, {"n_head": 4, "n_kv_head": 3}, {"n_head": 4, "n_kv_head": 1},
    {"n_layer": 0}, {"vocab": -1},
])
def test_bad_shapes_are_refused(kw: dict) -> None:
    base = {"n_layer": 1, "d_model": 8, "n_head": 2, "vocab": 11}
    with pytest.raises(ConfigError):
        Config(batch=2, seq=4, gpt=GPT(**{**base, **kw}))
