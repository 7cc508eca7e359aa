"""Code shapes of real models (issue 24 item 5): ``--code-style hf`` is how Hugging Face's
GPT-2 and nanoGPT write a step: positions looked up as ``wpe(torch.arange(T))`` (the
embedding's backward keeps the int64 index: +8·T bytes saved) and the loss computed
inside ``forward()`` (under autocast the fp32 final-norm output lives through the loss).
Each is held to a measured step to the byte, and each difference to the rig's style is
the one the docs state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from dlprep.memcalc.config import GPT, Adapters, Config, ConfigError
from dlprep.memcalc.estimate import estimate

torch = pytest.importorskip("torch")

DTYPES = ["fp32", "bf16", "amp-bf16", "amp-fp16", "bf16-master", "fp16-master"]


def grid() -> list[Config]:
    out = []
    for n, dtype in enumerate(DTYPES * 2):
        g = GPT(n_layer=1 + n % 2, d_model=12, n_head=3, vocab=17, d_ff=10, max_pos=9,
                norm=("layernorm", "rmsnorm")[n % 2], mlp=("gelu", "swiglu")[n // 3 % 2],
                tied=n % 3 == 0, bias=n % 4 < 2, causal=n != 5)
        lora = Adapters(2, ("q", "v")) if n in (3, 8) else None
        out.append(Config(batch=1 + n % 3, seq=4 + n % 5, gpt=g, code="hf", dtype=dtype,
                          attention=("sdpa", "math")[n // 2 % 2], lora=lora,
                          optimizer=("sgd", "adamw")[n % 2], checkpointing=n in (4, 9, 10)))
    return out


def test_hf_code_style_is_exact_to_the_byte(
        misses: Callable[[list[Config]], list[str]]) -> None:
    wrong = misses(grid())
    assert not wrong, "\n".join(wrong[:10])


@pytest.mark.parametrize("dtype", ["fp32", "amp-bf16"])
def test_what_each_shape_of_code_costs(dtype: str) -> None:
    cfg = grid()[0] if dtype == "fp32" else grid()[2]
    ours, theirs = estimate(replace(cfg, code="memcalc")), estimate(cfg)
    assert theirs.saved_activations - ours.saved_activations == 8 * cfg.seq
    # Under autocast the head saves a half cast; the fp32 final-norm output (4 B per
    # element of B x T x d) is alive during the loss only when forward() computes it.
    g = cfg.gpt
    assert g is not None
    grew = theirs.phase_peaks["forward"] - ours.phase_peaks["forward"]
    assert grew >= 8 * cfg.seq + (cfg.batch * cfg.seq * g.d_model * 4 if cfg.amp else 0)


def test_an_mlp_has_no_code_style() -> None:
    with pytest.raises(ConfigError, match="--code-style is for transformers"):
        Config(batch=2, layers=(4, 3), code="hf")
