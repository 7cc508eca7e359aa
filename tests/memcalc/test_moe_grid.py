"""Mixtral-style MoE blocks: the replay equals a measured training step to the byte.

The rig (``gpt_rig.moe``) is Hugging Face's ``MixtralSparseMoeBlock`` with the router's
top-k forced to a fixed balanced choice, so the routed tokens per expert are the ones
the replay assumes; every row and every phase peak must match, over odd shapes, uneven
splits (B·T·k not a multiple of E), both attentions and norms, biases or none, every
precision, and checkpointed blocks (the recompute reruns the router and every expert).
LoRA on the same blocks (adapters on the attention and on every expert's gate, up and
down, the router frozen) is held to the byte over target subsets that leave the
routing with or without a gradient.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from dlprep.memcalc.config import GPT, Adapters, Config, ConfigError

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("one_thread")

# (n_layer, d_model, n_head, n_kv_head, d_ff, vocab, seq, experts, top_k)
SHAPES = [(1, 8, 2, 0, 6, 11, 3, 3, 2), (2, 12, 4, 2, 10, 13, 5, 4, 1),
          (1, 10, 2, 0, 7, 9, 5, 4, 3)]
DTYPES = ["fp32", "bf16", "amp-bf16", "amp-fp16", "bf16-master", "fp16-master"]
OPTIMIZERS = [("sgd", True), ("adam", True), ("adam", False), ("adamw", True)]


def grid() -> list[Config]:
    out = []
    for n, (s, dtype) in enumerate(itertools.product(range(len(SHAPES)), DTYPES)):
        L, d, H, KV, ff, V, T, E, k = SHAPES[s]
        opt, foreach = OPTIMIZERS[n % len(OPTIMIZERS)]
        g = GPT(n_layer=L, d_model=d, n_head=H, n_kv_head=KV, d_ff=ff, vocab=V,
                norm=("rmsnorm", "layernorm")[n % 2], mlp="swiglu", tied=n % 3 == 0,
                bias=n % 4 == 1, n_experts=E, top_k=k)
        out.append(Config(batch=1 + n % 3, seq=T, gpt=g,
                          attention=("sdpa", "math")[n // 2 % 2], dtype=dtype,
                          optimizer=opt, foreach=foreach, checkpointing=n % 3 != 1))
    return out


def test_moe_grid_is_exact_to_the_byte(misses: Callable[[list[Config]], list[str]]) -> None:
    configs = grid()
    assert any(c.batch * c.seq * c.gpt.top_k % c.gpt.n_experts for c in configs if c.gpt)
    wrong = misses(configs)
    assert not wrong, "\n".join(wrong[:10])


def test_every_expert_is_counted_and_trained() -> None:
    cfg = grid()[0]
    from dlprep.memcalc.rig import build

    net = build(cfg, "cpu").net
    assert sum(p.numel() for p in net.parameters()) == cfg.n_params
    g = cfg.gpt
    assert g is not None
    expert = 3 * g.d_model * g.ff
    assert g.active_params() == cfg.n_params - g.n_layer * (g.n_experts - g.top_k) * expert


# PEFT's default (the routing requires grad from block 1's v on), experts only (block 1's
# routing requires none: its frozen router saves nothing), all seven, one expert Linear.
LORA_TARGETS = [("q", "v"), ("gate", "up", "down"), ("q", "k", "v", "o", "gate", "up", "down"),
                ("down",), ("gate",), ("v", "up"), ("k",), ("o",), ("up",)]
LORA_SHAPES = [*SHAPES, (2, 4, 4, 2, 5, 8, 3, 2, 1)]  # the last: 1-wide heads


def lora_grid() -> list[Config]:
    out = []
    combos = itertools.product(range(len(LORA_SHAPES)), DTYPES)
    for n, (s, dtype) in enumerate(combos):
        L, d, H, KV, ff, V, T, E, k = LORA_SHAPES[s]
        opt, foreach = OPTIMIZERS[n % len(OPTIMIZERS)]
        g = GPT(n_layer=L, d_model=d, n_head=H, n_kv_head=KV, d_ff=ff, vocab=V,
                norm=("rmsnorm", "layernorm")[n % 2], mlp="swiglu", tied=n % 3 == 0,
                bias=n % 4 == 1, n_experts=E, top_k=k)
        out.append(Config(batch=1 + n % 3, seq=T, gpt=g, attention=("sdpa", "math")[n // 2 % 2],
                          dtype=dtype,
                          optimizer=opt, foreach=foreach, checkpointing=n % 3 != 1,
                          lora=Adapters(1 + n % 4, LORA_TARGETS[n % len(LORA_TARGETS)])))
    return out


def test_lora_on_experts_is_exact_to_the_byte(
        misses: Callable[[list[Config]], list[str]]) -> None:
    configs = lora_grid()
    assert {c.lora.targets for c in configs if c.lora} >= {("q", "v"), ("gate", "up", "down")}
    assert {c.checkpointing for c in configs} == {False, True}
    wrong = misses(configs)
    assert not wrong, "\n".join(wrong[:10])


def test_lora_adapts_every_expert_and_freezes_the_router() -> None:
    cfg = lora_grid()[2]
    assert cfg.lora is not None and cfg.gpt is not None
    assert "gate" in cfg.lora.targets
    from dlprep.memcalc.rig import build

    net = build(cfg, "cpu").net
    trained = [(name, p) for name, p in net.named_parameters() if p.requires_grad]
    assert [p.numel() for _, p in trained] == cfg.trained_shapes
    for e in range(cfg.gpt.n_experts):
        assert any(f"experts.{e}.gate.A" in name for name, _ in trained)
    assert not any("router" in name for name, _ in trained)


@pytest.mark.parametrize("kw", [{"top_k": 0}, {"top_k": 4}, {"mlp": "gelu"},
                                {"n_experts": 0, "top_k": 2}])
def test_bad_experts_are_refused(kw: dict) -> None:
    base = {"n_layer": 1, "d_model": 8, "n_head": 2, "vocab": 11, "mlp": "swiglu",
            "n_experts": 3, "top_k": 2}
    with pytest.raises(ConfigError):
        Config(batch=2, seq=4, gpt=GPT(**{**base, **kw}))


@pytest.mark.parametrize(("extra", "says"), [
    ([], "add --mlp swiglu"),
    (["--mlp", "swiglu", "--lora-rank", "4", "--base-dtype", "nf4"],
     "4-bit base on a mixture of experts"),
])
def test_the_cli_refuses_what_moe_cannot_size(run, extra: list[str], says: str) -> None:
    code, out, err = run("--arch", "gpt", "--n-layer", "1", "--d-model", "8", "--n-head",
                         "2", "--vocab", "11", "--experts", "4", "--top-k", "2", *extra)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and says in err


def test_the_cli_sizes_a_small_moe(run) -> None:
    code, out, _ = run("--arch", "gpt", "--n-layer", "1", "--d-model", "8", "--n-head", "2",
                       "--vocab", "11", "--mlp", "swiglu", "--experts", "4", "--top-k", "2",
                       "--seq", "5", "--batch", "2")
    assert code == 0 and "4 experts, top 2" in " ".join(out.split())
    assert all(len(line) <= 80 for line in out.splitlines())
