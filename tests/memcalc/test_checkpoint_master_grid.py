"""Checkpointing and fp32 master weights: the estimate equals a measured step to the byte.

Same rules as test_exact_grid.py: cross-entropy configs whose norms are fp32 (or absent)
are measured on ``meta``, autocast ones without a norm on FakeTensor (both checked
against real CPU runs below); the rest run on CPU.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.estimate import estimate

torch = pytest.importorskip("torch")
from dlprep.memcalc.measure import measure  # noqa: E402

ARCHS = [(32, 64, 10), (40, 32, 32, 32, 10), (784, 512, 512, 10)]
MIXES = [
    ("relu", 0.0, "none", "cross_entropy"),
    ("gelu", 0.5, "layernorm", "cross_entropy"),
    ("sigmoid", 0.1, "batchnorm", "mse"),
    ("silu", 0.0, "layernorm", "mse"),
    ("tanh", 0.2, "none", "cross_entropy"),
    ("leaky_relu", 0.0, "batchnorm", "cross_entropy"),
]
ROWS = ("weights", "master_weights", "gradients", "optimizer_state", "saved_activations",
        "peak", "phase_peaks")


pytestmark = pytest.mark.usefixtures("one_thread")


def device(cfg: Config) -> str:
    if cfg.amp:
        return "fake" if cfg.loss == "cross_entropy" and cfg.norm == "none" else "cpu"
    if cfg.loss == "cross_entropy" and (cfg.dtype == "fp32" or cfg.norm == "none"):
        return "meta"
    return "cpu"


def config(n: int, arch: int, batch: int, **kw: object) -> Config:
    act, p, norm, loss = MIXES[n % len(MIXES)]
    if arch == 2:  # the wide MLP is only measured on meta: see device()
        loss, norm = "cross_entropy", norm if kw.get("dtype", "fp32") == "fp32" else "none"
    if norm == "batchnorm" and batch == 1:
        norm = "layernorm"
    return Config(batch=batch, layers=ARCHS[arch], activation=act, dropout=p, norm=norm,
                  loss=loss, **kw)  # type: ignore[arg-type]


def checkpoint_grid() -> list[Config]:
    out = []
    combos = itertools.product(range(3), (1, 3, 64, 512, 2048),
                               (("sgd", True), ("adam", True), ("adam", False)),
                               ("fp32", "bf16", "amp-bf16"))
    for n, (arch, batch, (opt, foreach), dtype) in enumerate(combos):
        for ckpt in (False, True):
            out.append(config(n, arch, batch, optimizer=opt, foreach=foreach, dtype=dtype,
                              checkpointing=ckpt))
    return out


def master_grid() -> list[Config]:
    out = []
    opts = (("sgd", True), ("momentum", True), ("adam", True), ("adam", False))
    combos = itertools.product(range(3), (1, 8, 256, 2048), ("fp16-master", "bf16-master"), opts)
    for n, (arch, batch, dtype, (opt, foreach)) in enumerate(combos):
        out.append(config(n, arch, batch, optimizer=opt, foreach=foreach, dtype=dtype,
                          checkpointing=n // 2 % 2 == 0, weight_decay=0.01 if n % 4 == 1 else 0.0))
    return out


def misses(configs: list[Config]) -> list[str]:
    out = []
    for cfg in configs:
        got, want = estimate(cfg), measure(cfg, device(cfg))
        for row in ROWS:
            if getattr(got, row) != getattr(want, row):
                out.append(f"{cfg} on {device(cfg)}: {row} estimated {getattr(got, row)} "
                           f"measured {getattr(want, row)}")
    return out


def test_checkpointing_grid_is_exact_to_the_byte() -> None:
    configs = checkpoint_grid()
    assert len(configs) == 270
    bad = misses(configs)
    assert not bad, "\n".join(bad[:10])


def test_master_weight_grid_is_exact_to_the_byte() -> None:
    configs = master_grid()
    assert len(configs) == 96
    bad = misses(configs)
    assert not bad, "\n".join(bad[:10])


def test_checkpointing_trades_saved_memory_for_a_recompute() -> None:
    cfg = Config(batch=512, layers=(784, 512, 512, 512, 10), norm="layernorm", dropout=0.1,
                 activation="gelu", optimizer="sgd")
    plain, ckpt = estimate(cfg), estimate(replace(cfg, checkpointing=True))
    assert plain.saved_activations is not None and ckpt.saved_activations is not None
    # Kept: the inputs of blocks 2 and 3, the last Linear's input and the loss's tensors.
    e = 4
    assert ckpt.saved_activations == 3 * 512 * 512 * e + 512 * 10 * e + 4
    assert plain.saved_activations > 3 * ckpt.saved_activations
    assert plain.peak is not None and ckpt.peak is not None and ckpt.peak < plain.peak
    assert set(ckpt.recomputed) == {0, 1, 2} and not plain.recomputed


def test_master_weights_keep_fp32_copies_and_state() -> None:
    cfg = Config(batch=4, layers=(10, 20, 3), dtype="bf16-master", optimizer="adam")
    n = cfg.n_params
    est = estimate(cfg)
    assert est.weights == 2 * n and est.master_weights == 4 * n
    assert est.gradients == 2 * n + 4 * n == est.master_grads + 2 * n
    assert est.optimizer_state == 2 * 4 * n + 4 * 4  # fp32 moments + 4 step counters


@pytest.mark.parametrize("kw", [
    {"layers": (9, 16, 16, 3), "checkpointing": True, "norm": "layernorm", "dropout": 0.2},
    {"layers": (9, 16, 16, 3), "checkpointing": True, "activation": "silu"},
    {"layers": (9, 16, 16, 3), "dtype": "fp16-master", "checkpointing": True},
    {"layers": (12, 8, 5), "dtype": "bf16-master", "optimizer": "adam", "foreach": False},
    {"layers": (9, 16, 16, 3), "dtype": "amp-bf16", "checkpointing": True, "dropout": 0.3,
     "activation": "gelu"},
])
def test_meta_and_fake_match_cpu(kw: dict) -> None:
    cfg = Config(batch=6, **kw)
    assert device(cfg) != "cpu"
    cpu, other = measure(cfg, "cpu"), measure(cfg, device(cfg))
    for row in (*ROWS, "inputs", "buffers"):
        assert getattr(cpu, row) == getattr(other, row), row


@pytest.mark.parametrize("kw", [
    {"layers": (5, 3), "checkpointing": True},
    {"params": 1000, "checkpointing": True},
])
def test_bad_checkpointing_combinations_are_refused(kw: dict) -> None:
    with pytest.raises(ConfigError, match="--checkpointing"):
        Config(batch=2, **kw)
