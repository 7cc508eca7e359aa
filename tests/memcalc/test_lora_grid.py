"""The LoRA replay equals a measured training step to the byte, over a 180-config grid.

The base GPT is frozen and rank-r adapters train on a subset of its Linears. What a
block saves then depends on which tensors require grad (block 1's input requires none),
so the grid crosses five tiny shapes (one with 1-wide heads, where more reshapes are
views) and target subsets (PEFT's default q,v; attention only; MLP only; one
projection; all seven) with the GPT grid's axes: both attentions, grouped-query heads,
both norms, both MLPs, tied and untied heads, biases or none, fp32, pure bf16 and half
models with fp32 master weights (of the adapters), autocast (bf16 and fp16: frozen
weights are cast at every use, adapters' casts are cached), four optimisers, half of
them with every block checkpointed, batch 1 (matmul's reshapes are views) and larger.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from dlprep.memcalc.config import GPT, Adapters, Config, ConfigError
from dlprep.memcalc.estimate import estimate

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("one_thread")

# (n_layer, d_model, n_head, n_kv_head, d_ff, vocab, seq)
SHAPES = [(1, 12, 3, 0, 13, 17, 5), (2, 8, 2, 0, 0, 29, 3), (2, 16, 4, 2, 24, 11, 7),
          (3, 10, 2, 0, 7, 23, 6), (2, 4, 4, 2, 5, 8, 3)]  # the last: 1-wide heads
BLOCKS = [  # (norm, mlp, tied, bias, max_pos, causal)
    ("layernorm", "gelu", True, True, 9, True),
    ("rmsnorm", "swiglu", False, False, 0, True),
    ("layernorm", "swiglu", True, False, 0, True),
    ("rmsnorm", "gelu", False, True, 8, False),
]
TARGETS = [("q", "v"), ("q", "k", "v", "o"), ("up", "down"), ("k",), ("o",), ("down",),
           ("q", "k", "v", "o", "gate", "up", "down"), ("gate",), ("v", "up")]
DTYPES = ["fp32", "bf16", "amp-bf16", "amp-fp16", "bf16-master", "fp16-master"]
OPTIMIZERS = [("adamw", True), ("sgd", True), ("adam", False), ("momentum", True)]


def grid() -> list[Config]:
    out = []
    combos = itertools.product(range(len(SHAPES)), range(3), DTYPES, ("math", "sdpa"))
    for n, (s, b, dtype, attention) in enumerate(combos):
        L, d, H, KV, ff, V, T = SHAPES[s]
        norm, mlp, tied, bias, pos, causal = BLOCKS[(b + n) % len(BLOCKS)]
        targets = TARGETS[n % len(TARGETS)]
        if mlp == "gelu":  # a GELU MLP has no gate projection
            targets = tuple(x for x in targets if x != "gate") or ("up",)
        opt, foreach = OPTIMIZERS[n % len(OPTIMIZERS)]
        g = GPT(n_layer=L, d_model=d, n_head=H, n_kv_head=KV, d_ff=ff, vocab=V,
                max_pos=pos, norm=norm, mlp=mlp, tied=tied, bias=bias, causal=causal)
        out.append(Config(batch=1 + n % 3, seq=T, gpt=g, attention=attention, dtype=dtype,
                          optimizer=opt, foreach=foreach, checkpointing=(n // 2 + b + s) % 2 == 1,
                          weight_decay=0.01 if n % 5 == 0 else 0.0,
                          lora=Adapters(rank=1 + n % 4, targets=targets)))
    return out


def test_lora_grid_is_exact_to_the_byte(misses: Callable[[list[Config]], list[str]]) -> None:
    configs = grid()
    assert len(configs) >= 60
    assert {c.lora.targets for c in configs if c.lora} >= {("q", "v"), TARGETS[6]}
    wrong = misses(configs)
    assert not wrong, "\n".join(wrong[:10])


def test_the_rig_freezes_the_base_and_zeroes_b() -> None:
    cfg = grid()[6]
    from dlprep.memcalc.rig import build

    rig = build(cfg, "cpu")
    trained = [p for p in rig.net.parameters() if p.requires_grad]
    assert [p.numel() for p in trained] == cfg.trained_shapes
    assert sum(p.numel() for p in rig.net.parameters()) == cfg.n_params + sum(
        cfg.trained_shapes)
    assert all(float(p.detach().abs().sum()) == 0 for p in trained[1::2])  # B starts at 0


@pytest.mark.parametrize("kw", [{"rank": 0}, {"rank": 9}, {"targets": ("gate",)},
                                {"targets": ("x",)}, {"targets": ()}])
def test_bad_adapters_are_refused(kw: dict) -> None:
    g = GPT(n_layer=1, d_model=8, n_head=2, vocab=11)
    with pytest.raises(ConfigError):
        Config(batch=2, seq=4, gpt=g, lora=Adapters(**{"rank": 2, **kw}))
    with pytest.raises(ConfigError, match="autocast"):
        Config(batch=2, seq=4, gpt=g, dtype="amp-bf16", lora=Adapters(rank=2, nf4=True))


ALLOCATOR = [
    Config(batch=2, seq=16, gpt=GPT(n_layer=2, d_model=32, n_head=4, vocab=50),
           attention="math", lora=Adapters(rank=4)),
    Config(batch=3, seq=12, gpt=GPT(n_layer=2, d_model=24, n_head=4, n_kv_head=2, vocab=40,
                                    norm="rmsnorm", mlp="swiglu", tied=False, bias=False),
           optimizer="adamw", foreach=True, checkpointing=True, attention="sdpa",
           lora=Adapters(rank=8, targets=("q", "k", "v", "o", "gate", "up", "down"))),
]


@pytest.mark.parametrize("cfg", ALLOCATOR, ids=["qv-math", "all7-sdpa-ckpt"])
def test_lora_phase_peaks_match_the_allocator(cfg: Config) -> None:
    """Against the CPU allocator's own events (profiler), not only the op tracker. Each
    multiply by a Python float (the adapter's alpha/r, math attention's 1/sqrt(d_h))
    wraps it in an 8-byte tensor that autograd keeps until backward; no dispatched op
    makes it, so neither the tracker nor the replay counts it; nor the CPU RNG state
    (5,056 B) that checkpoint() keeps per block to replay dropout. fp32 only: bf16
    matmuls on CPU allocate internal buffers the replay does not model."""
    import importlib.util
    from pathlib import Path

    # The profiler-based replay of the allocator lives beside, in test_allocator.py.
    spec = importlib.util.spec_from_file_location(
        "memcalc_allocator", Path(__file__).with_name("test_allocator.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    got = estimate(cfg).phase_peaks
    seen = module.allocator_peaks(cfg)
    assert cfg.gpt is not None and cfg.lora is not None
    scalars = cfg.gpt.n_layer * (len(cfg.lora.targets) + (cfg.attention == "math"))
    rng = 5056 * cfg.gpt.n_layer if cfg.checkpointing else 0
    assert set(seen) == set(got)
    for phase, peak in got.items():
        assert 0 <= seen[phase] - peak <= 8 * scalars + rng + 16, (phase, seen[phase], peak)


@pytest.mark.parametrize("cfg", [c for c in grid() if c.dtype in ("bf16", "bf16-master")][::3],
                         ids=lambda c: f"{c.lora.targets if c.lora else ''}-{c.checkpointing}")
def test_qlora_adds_only_transient_dequantised_weights(cfg: Config) -> None:
    """QLoRA cannot be measured here (bitsandbytes' kernels): its replay must equal the
    measured bf16-base step's but for the 4-bit weights and transient temporaries (the
    dequantised weight, PEFT's clone), which nothing keeps into the optimiser step."""
    from dataclasses import replace

    assert cfg.lora is not None and cfg.gpt is not None
    plain = estimate(cfg)
    four = estimate(replace(cfg, lora=replace(cfg.lora, nf4=True)))
    assert four.saved_activations == plain.saved_activations
    assert four.weights < plain.weights
    assert four.phase_peaks["step"] - four.weights == plain.phase_peaks["step"] - plain.weights
    bt = cfg.batch * cfg.seq
    widest = max(a * b + bt * b for _, a, b in cfg.gpt.linears()) * 2
    for phase in ("forward", "backward"):
        extra = (four.phase_peaks[phase] - four.weights) - (
            plain.phase_peaks[phase] - plain.weights)
        assert 0 <= extra <= widest, (phase, extra, widest)
