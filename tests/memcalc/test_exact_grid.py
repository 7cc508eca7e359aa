"""The pure estimate equals a measured training step to the byte, over a 240-config grid.

fp32 cross-entropy configs are measured on ``meta`` and autocast ones without a norm on
FakeTensor (both checked against real CPU runs in ``test_meta_and_fake_match_cpu``);
the rest run for real on CPU, where the widths keep them cheap.
"""

from __future__ import annotations

import itertools

import pytest

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import estimate

torch = pytest.importorskip("torch")
from dlprep.memcalc.measure import measure  # noqa: E402

ARCHS = [(32, 64, 10), (40, 32, 32, 32, 10), (784, 512, 512, 10)]
BATCHES = [1, 3, 64, 512, 4096]
OPTIMIZERS = [("sgd", True), ("momentum", True), ("adam", True), ("adam", False)]
DTYPES = ["fp32", "amp-bf16"]
# (activation, dropout, norm, loss): cycled so every mix meets every optimiser and dtype.
MIXES = [
    ("relu", 0.0, "none", "cross_entropy"),
    ("gelu", 0.5, "layernorm", "cross_entropy"),
    ("sigmoid", 0.1, "batchnorm", "mse"),
    ("tanh", 0.0, "layernorm", "mse"),
    ("silu", 0.2, "none", "cross_entropy"),
    ("leaky_relu", 0.3, "batchnorm", "cross_entropy"),
]


pytestmark = pytest.mark.usefixtures("one_thread")


ROWS = ("weights", "gradients", "optimizer_state", "saved_activations", "peak")


def grid() -> list[tuple[Config, str]]:
    out = []
    combos = itertools.product(range(len(ARCHS)), BATCHES, OPTIMIZERS, DTYPES)
    for n, (a, batch, (opt, foreach), dtype) in enumerate(combos):
        for k in range(2):
            act, p, norm, loss = MIXES[(n + 3 * k) % len(MIXES)]
            if a == 2:  # the wide MLP is measured without running it: see device()
                loss = "cross_entropy"
                norm = "none" if dtype != "fp32" else norm
            if norm == "batchnorm" and batch == 1:
                norm = "layernorm"
            cfg = Config(batch=batch, layers=ARCHS[a], activation=act, dropout=p, norm=norm,
                         loss=loss, optimizer=opt, foreach=foreach, dtype=dtype)
            out.append((cfg, device(cfg)))
    return out


def device(cfg: Config) -> str:
    if cfg.loss == "cross_entropy" and cfg.dtype == "fp32":
        return "meta"
    if cfg.loss == "cross_entropy" and cfg.amp and cfg.norm == "none":
        return "fake"
    return "cpu"


def describe(cfg: Config) -> str:
    return (f"{cfg.layers} b={cfg.batch} {cfg.activation} p={cfg.dropout} {cfg.norm} "
            f"{cfg.loss} {cfg.optimizer}{'' if cfg.foreach else '/per-tensor'} {cfg.dtype}")


def test_grid_is_exact_to_the_byte() -> None:
    configs = grid()
    assert len(configs) >= 200
    misses = []
    for cfg, dev in configs:
        got, want = estimate(cfg), measure(cfg, dev)
        for row in ROWS:
            if getattr(got, row) != getattr(want, row):
                misses.append(f"{describe(cfg)} on {dev}: {row} estimated "
                              f"{getattr(got, row)} measured {getattr(want, row)}")
        if got.phase_peaks != want.phase_peaks:
            misses.append(f"{describe(cfg)} on {dev}: phase peaks {got.phase_peaks} "
                          f"vs {want.phase_peaks}")
    assert not misses, "\n".join(misses[:20])


@pytest.mark.parametrize("kw", [
    {"layers": (20, 30, 7), "norm": "layernorm", "dropout": 0.2, "optimizer": "adam"},
    {"layers": (9, 16, 16, 3), "norm": "batchnorm", "activation": "gelu", "optimizer": "momentum"},
    {"layers": (9, 16, 16, 3), "dtype": "amp-bf16", "activation": "silu", "dropout": 0.1},
    {"layers": (12, 8, 5), "dtype": "amp-bf16", "optimizer": "adam", "foreach": False},
])
def test_meta_and_fake_match_cpu(kw: dict) -> None:
    cfg = Config(batch=6, **kw)
    cpu = measure(cfg, "cpu")
    other = measure(cfg, device(cfg))
    assert device(cfg) != "cpu"
    for row in (*ROWS, "inputs", "buffers", "phase_peaks"):
        assert getattr(cpu, row) == getattr(other, row), row


def extras() -> list[Config]:
    """The options outside the main grid: other optimisers, decay, pure half, amp-fp16."""
    out = []
    opts = ["adamw", "rmsprop", "adagrad", "momentum", "sgd", "adam"]
    for n, (opt, foreach, dtype) in enumerate(itertools.product(
            opts, (True, False), ("fp16", "bf16", "amp-fp16"))):
        act, p, norm, loss = MIXES[n % len(MIXES)]
        out.append(Config(batch=(n % 5) + 2, layers=(7, 6, 5, 3), activation=act, dropout=p,
                          norm=norm, loss=loss, optimizer=opt, foreach=foreach, dtype=dtype,
                          weight_decay=0.1 if n % 2 else 0.0))
    return out


def test_other_optimisers_decay_and_half_precision_are_exact_on_cpu() -> None:
    misses = []
    for cfg in extras():
        got, want = estimate(cfg), measure(cfg, "cpu")
        for row in (*ROWS, "inputs", "buffers", "phase_peaks"):
            if getattr(got, row) != getattr(want, row):
                misses.append(f"{describe(cfg)} wd={cfg.weight_decay}: {row} "
                              f"{getattr(got, row)} vs {getattr(want, row)}")
    assert not misses, "\n".join(misses[:20])
