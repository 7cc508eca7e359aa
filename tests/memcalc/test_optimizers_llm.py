"""Issue 24, item 4: Adafactor replayed exactly; bitsandbytes' 8-bit and paged AdamW
counted from its source; SGD without state; all from the one optimiser table."""

from __future__ import annotations

import json

import pytest

from dlprep.memcalc.config import GPT, Adapters, Config, ConfigError
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.optimizers import OPTIMIZERS

pytest.importorskip("torch")

G = GPT(n_layer=2, d_model=16, n_head=4, vocab=11, max_pos=8)
ADAFACTOR = [
    Config(batch=3, layers=(10, 20, 5), optimizer="adafactor", foreach=False),
    Config(batch=3, layers=(10, 20, 20, 5), optimizer="adafactor", norm="layernorm",
           weight_decay=0.1),
    Config(batch=3, layers=(10, 20, 20, 5), optimizer="adafactor", foreach=False,
           norm="layernorm", dtype="bf16"),
    Config(batch=2, layers=(12, 24, 6), optimizer="adafactor", dtype="amp-bf16"),
    Config(batch=2, seq=8, gpt=G, optimizer="adafactor", foreach=False),
    Config(batch=2, seq=8, gpt=G, optimizer="adafactor", dtype="bf16-master"),
    Config(batch=2, seq=8, gpt=G, optimizer="adafactor", lora=Adapters(2, ("q", "v"))),
    Config(batch=1, layers=(300, 200, 5), optimizer="adafactor", foreach=False),
]


def test_adafactor_step_is_exact_on_cpu(misses) -> None:
    assert not misses(ADAFACTOR)


def test_adafactor_factors_matrices_and_keeps_vectors_whole() -> None:
    est = estimate(Config(batch=1, layers=(300, 200, 5), optimizer="adafactor"))
    # W1 200x300: 200 + 300; b1 200; W2 5x200: 5 + 200; b2 5; fp32 and a step each.
    assert est.optimizer_state == 4 * (200 + 300 + 200 + 5 + 200 + 5) + 4 * 4
    with pytest.raises(ConfigError, match="--layers or a GPT shape"):
        Config(batch=1, params=10**6, optimizer="adafactor")


def test_adamw8bit_state_is_blockwise_with_fp32_absmax() -> None:
    est = estimate(Config(batch=32, layers=(784, 512, 10), optimizer="adamw8bit"))
    w1, w2 = 784 * 512, 512 * 10  # both >= 4,096 elements: 8-bit
    eight = sum(2 * n + 2 * 4 * -(-n // 256) for n in (w1, w2))
    small = 2 * 4 * (512 + 10)  # the biases keep fp32 moments
    assert est.optimizer_state == eight + small + 2 * 256 * 4  # + the two quantile maps
    assert est.step_temporaries == 0  # one fused kernel per tensor, in place


def test_paged_adamw_counts_the_same_state_as_unpaged() -> None:
    base = Config(batch=2, seq=8, gpt=G, dtype="bf16", optimizer="paged_adamw")
    n = sum(base.trained_shapes)
    assert estimate(base).optimizer_state == 2 * 4 * n  # fp32 moments, even for bf16
    from dataclasses import replace

    wide = replace(base, gpt=GPT(n_layer=1, d_model=128, n_head=4, vocab=100))
    m = sum(wide.trained_shapes)
    pair = [estimate(replace(wide, optimizer=o)).optimizer_state
            for o in ("adamw8bit", "paged_adamw8bit")]
    assert pair[0] == pair[1] < 2 * 4 * m // 3
    # Every tensor of the tiny model is under 4,096 elements: all fp32, no quantile maps.
    assert estimate(replace(base, optimizer="adamw8bit")).optimizer_state == 2 * 4 * n


def test_sgd_keeps_no_state_and_every_optimiser_is_an_option(run) -> None:
    assert estimate(Config(batch=4, layers=(8, 4), optimizer="sgd")).optimizer_state == 0
    for name, opt in OPTIMIZERS.items():
        code, out, _ = run("--layers", "64,32,10", "--optimizer", name, "--json")
        data = json.loads(out)
        assert code == 0 and data["config"]["optimizer"] == name
        assert (data["optimizer_note"] is not None) == bool(opt.note)


def test_bitsandbytes_cannot_be_measured_and_says_so(run, flat) -> None:
    code, out, err = run("--layers", "64,32,10", "--optimizer", "adamw8bit", "--measure")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "bitsandbytes" in err
    code, out, _ = run("--layers", "64,32,10", "--optimizer", "paged_adamw8bit")
    assert code == 0 and "(per-tensor)" not in out and "unified memory" in flat(out)
    assert all(len(x) <= 80 for x in out.splitlines())
