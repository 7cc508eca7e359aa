"""Memory and parameter-count cards agree with `dlprep memcalc`'s estimator (issue 6),
KV cache and ZeRO cards with its inference and sharding arithmetic (issue 12).

Each templated card is checked for every combination of its listed values, so a card can
never teach a number the calculator would contradict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache

import pytest

from dlprep.bank import Bank, load_bank
from dlprep.bank.cards import Numeric
from dlprep.bank.template import assignments, compile_formula, evaluate
from dlprep.memcalc.config import GPT, Adapters, Config
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.inference import inference, kv_cache_bytes
from dlprep.memcalc.lora import TARGETS, lora
from dlprep.memcalc.nf4 import nf4_bytes
from dlprep.memcalc.presets import preset
from dlprep.memcalc.zero import shard


def params_of(layers: tuple[int, ...]) -> float:
    return estimate(Config(batch=1, layers=layers)).weights / 4  # fp32: 4 bytes a weight


def relu_saves(h: float, b: float) -> float:
    """MB the two hidden ReLU layers add to what is saved for backward (784-h-h-10)."""
    with_hidden = estimate(Config(batch=int(b), layers=(784, int(h), int(h), 10)))
    without = estimate(Config(batch=int(b), layers=(784, 10)))
    assert with_hidden.saved_activations is not None and without.saved_activations is not None
    return (with_hidden.saved_activations - without.saved_activations) / 1e6


def adam_states(params: float) -> float:
    e = estimate(Config(batch=1, params=int(params), optimizer="adam"))
    return (e.weights + e.gradients + e.optimizer_state) / 1e6


def master_states(billions: float) -> float:
    """GB of ZeRO's model states (half weights and grads, fp32 masters and moments); memcalc
    also counts the fp32 gradient copies made for the step, which ZeRO's 16 B leave out."""
    e = estimate(Config(batch=1, params=int(billions * 1e9), optimizer="adam",
                        dtype="fp16-master"))
    return (e.weights + e.master_weights + e.gradients - e.master_grads + e.optimizer_state) / 1e9


def zero_states(billions: float, gpus: float, stage: int) -> float:
    """GB of model states per GPU under ZeRO stage 1, 2 or 3, as `dlprep memcalc --gpus N
    --zero S` computes them (dlprep/memcalc/zero.py): half weights and gradients, fp32
    masters and Adam moments (the paper's K = 12), each replicated or split N ways."""
    e = estimate(Config(batch=1, params=int(billions * 1e9), optimizer="adam",
                        dtype="fp16-master"))
    return shard(e, int(gpus), stage, 0).model_states / 1e9


def kv_cache(model: str, seq: float, batch: float, unit: int) -> float:
    """`dlprep memcalc --model M --inference --dtype fp16`'s KV cache row, in `unit` bytes."""
    return kv_cache_bytes(preset(model).shape, int(seq), int(batch), 2) / unit


def gqa_shrink(h: float, g: float) -> float:
    """How many times smaller memcalc's KV cache gets with g K/V heads instead of h."""
    def cache(kv: int) -> int:
        shape = GPT(n_layer=1, d_model=int(h) * 128, n_head=int(h), n_kv_head=kv, vocab=8)
        return kv_cache_bytes(shape, 1024, 1, 2)

    return cache(int(h)) / cache(int(g))


def lora_params(r: float, dout: float) -> float:
    """Adapter parameters memcalc's LoRA (dlprep/memcalc/lora.py) counts for one targeted
    Linear 4096 -> dout: a one-block model whose up projection has that shape."""
    shape = GPT(n_layer=1, d_model=4096, n_head=32, d_ff=int(dout), vocab=8, mlp="gelu")
    cfg = Config(batch=1, seq=8, gpt=shape, lora=Adapters(int(r), ("up",)))
    return lora(cfg).adapter_params


def lora_llama(rank: int, targets: tuple[str, ...]) -> float:
    cfg = Config(batch=1, seq=8, gpt=preset("llama-2-7b").shape, lora=Adapters(rank, targets))
    return lora(cfg).adapter_params


def qlora_base_gb() -> float:
    """GB of LLaMA-2-7B's frozen QLoRA base: NF4 block Linears, the rest in bf16."""
    cfg = Config(batch=1, seq=8, gpt=preset("llama-2-7b").shape, dtype="bf16",
                 lora=Adapters(8, ("q", "v"), nf4=True))
    return lora(cfg).base_bytes / 1e9


def kv_per_token_kib(L: float, kv: float) -> float:
    """KiB of fp16 cache per token for L layers and kv K/V heads of dimension 128."""
    shape = GPT(n_layer=int(L), d_model=4096, n_head=32, n_kv_head=int(kv), vocab=8)
    return kv_cache_bytes(shape, 1, 1, 2) / 2**10


def sequences_that_fit(gpu_bytes: float, seq: int) -> int:
    """Whole fp16 KV caches of `seq` tokens that fit beside LLaMA-2-7B's fp16 weights."""
    weights = inference(Config(batch=1, seq=8, gpt=preset("llama-2-7b").shape,
                               dtype="fp16", device="cpu")).weights
    return int((gpu_bytes - weights) // kv_cache("llama-2-7b", seq, 1, 1))


def int4_weights_and_cache(b: float, seq: float) -> float:
    """GB of Llama-3-70B's weights at 4.125 bits plus memcalc's fp16 KV cache."""
    params = inference(Config(batch=1, seq=8, gpt=preset("llama-3-70b").shape,
                              dtype="fp16", device="cpu")).weights / 2
    return params * 4.125 / 8 / 1e9 + kv_cache("llama-3-70b", seq, b, 10**9)


# card id -> what memcalc says for the card's variables (in the card's unit)
MEMCALC: dict[str, Callable[..., float]] = {
    "mlp-param-count-784-512-10": lambda: params_of((784, 512, 10)),
    "mlp-param-count-two-hidden": lambda n_in, h: params_of((int(n_in), int(h), int(h), 10)),
    "mlp-param-count-deep-uniform": lambda h, L: params_of((784, *[int(h)] * int(L), 10)),
    "mem-weights-one-million-fp32": lambda: estimate(Config(batch=1, params=10**6)).weights / 1e6,
    "mem-bf16-weights-mib": lambda params: estimate(
        Config(batch=1, params=int(params), dtype="bf16")).weights / 2**20,
    "mem-adam-fp32-model-states": adam_states,
    "mem-mlp-relu-saved-bytes": relu_saves,
    "mem-mixed-precision-adam-gb": master_states,
    "sc-zero-stage1-memory": lambda: zero_states(7.5, 64, 1),
    "sc-zero-stage2-memory": lambda: zero_states(7.5, 64, 2),
    "sc-zero-stage3-memory": lambda billions, gpus: zero_states(billions, gpus, 3),
    "attn-kv-cache-llama2-7b": lambda seq, batch: kv_cache("llama-2-7b", seq, batch, 2**30),
    "attn-kv-cache-llama3-gqa": lambda: kv_cache("llama-3-8b", 8192, 1, 2**20),
    "attn-gqa-cache-reduction": gqa_shrink,
    "sc-kv-cache-token-capacity": lambda: 40 * 2**30 / kv_cache("llama-2-7b", 1, 1, 1),
    "tr-lora-adapter-params": lora_params,
    "tr-lora-llama-total": lambda: lora_llama(8, ("q", "v")),
    "inf-kv-cache-bytes-per-token": kv_per_token_kib,
    "inf-kv-cache-llama3-70b": lambda b, seq: kv_cache("llama-3-70b", seq, b, 10**9),
    "inf-max-batch-from-cache": lambda: sequences_that_fit(80e9, 4096),
    "inf-int4-with-fp16-cache": int4_weights_and_cache,
    "pt-lora-all-linear-params": lambda r: lora_llama(int(r), TARGETS),
    "pt-qlora-bits-per-weight": lambda: nf4_bytes(4096 * 4096) * 8 / 4096**2,
    "pt-qlora-llama2-base-memory": qlora_base_gb,
}


@cache
def bank() -> Bank:
    return load_bank()  # once for the module: each parametrised case reads one card


@pytest.mark.parametrize("card_id", sorted(MEMCALC))
def test_card_matches_memcalc(card_id: str) -> None:
    card = bank().cards[card_id]
    assert isinstance(card, Numeric)
    if card.template is None:
        assert card.answer is not None
        cases = [({}, card.answer)]
    else:
        tree = compile_formula(card.template.formula, frozenset(card.template.vars))
        cases = [(values, evaluate(tree, values)) for values in assignments(card.template.vars)]
    for values, expected in cases:
        computed = MEMCALC[card_id](**values)
        assert card.tolerance.accepts(computed, expected), (card_id, values, computed, expected)


@pytest.mark.parametrize("seq", [512, 4096])
@pytest.mark.parametrize("dtype", ["bf16", "bf16-master", "amp-bf16"])
def test_lora_saves_in_model_states_not_activations(seq: int, dtype: str) -> None:
    """tr-lora-activation-memory-myth: LoRA's saving is mostly gradients and optimiser
    state; its saved activations stay most of full fine-tuning's (the frozen Linears keep
    no input, a smaller part), as memcalc's replay of both steps on Llama-2-7B says."""
    card = load_bank().cards["tr-lora-activation-memory-myth"]
    assert card.myth and "70" in card.explain.en and "70" in card.explain.ko
    full = Config(batch=1, seq=seq, gpt=preset("llama-2-7b").shape, dtype=dtype,
                  optimizer="adamw")
    adapted = replace(full, lora=Adapters(8, ("q", "v")))
    f, a = estimate(full), estimate(adapted)
    assert f.saved_activations and a.saved_activations
    states = [e.weights + e.master_weights + e.gradients + e.optimizer_state for e in (f, a)]
    assert 0.65 <= a.saved_activations / f.saved_activations < 1
    assert states[0] - states[1] > 3 * (f.saved_activations - a.saved_activations)
