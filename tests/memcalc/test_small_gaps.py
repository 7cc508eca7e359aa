"""Issue 24, item 6: the small gaps an independent check found, each closed and kept so."""

from __future__ import annotations

import json

import pytest

from dlprep.memcalc.config import Config
from dlprep.memcalc.gpus import MIB, parse_gpu
from dlprep.memcalc.inference import inference
from dlprep.memcalc.presets import preset


@pytest.mark.parametrize(("args", "says"), [
    (["--model", "gpt2", "--seq", "64", "--lora-rank", "0"], "full fine-tuning"),
    (["--n-layer", "2", "--d-model", "8", "--n-head", "2", "--vocab", "9", "--d-ff", "0"],
     "4 x --d-model"),
])
def test_a_typed_zero_is_refused_not_read_as_unset(run, args: list[str], says: str) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0]


def test_an_encoder_keeps_no_kv_cache(run) -> None:
    code, out, _ = run("--model", "bert-base", "--seq", "128", "--inference", "--json")
    data = json.loads(out)
    assert code == 0 and data["kv_cache"] == 0
    assert data["peak"] == data["weights"] + data["activations"]  # sdpa: no mask either
    code, out, _ = run("--model", "bert-base", "--seq", "128", "--inference")
    assert "keeps no KV cache" in " ".join(out.split())
    causal = inference(Config(batch=1, seq=16, gpt=preset("gpt2").shape))
    assert causal.kv_cache == 2 * 12 * 768 * 16 * 4


def test_inference_peak_holds_the_causal_masks_training_counts(run) -> None:
    args = ("--model", "llama-3-8b", "--seq", "8192", "--dtype", "bf16", "--inference",
            "--batch", "1", "--json")
    code, out, _ = run(*args, "--attention", "math")
    math = json.loads(out)
    assert math["buffers"] == 32 * 8192 * 8192 == 2_147_483_648  # one bool T x T per layer
    assert math["peak"] == (math["weights"] + math["buffers"] + math["kv_cache"]
                            + math["activations"])
    sdpa = json.loads(run(*args)[1])
    assert sdpa["buffers"] == 0
    # The training step's buffers row holds the same masks.
    from dlprep.memcalc.estimate import estimate

    g = preset("gpt2").shape
    train = estimate(Config(batch=1, seq=64, gpt=g, attention="math"))
    assert inference(Config(batch=1, seq=64, gpt=g, attention="math")).buffers == train.buffers


def test_a_sequence_past_the_presets_context_is_named(run, flat) -> None:
    code, out, _ = run("--model", "llama-3-8b", "--seq", "100000", "--dtype", "bf16",
                       "--inference", "--batch", "1")
    assert code == 0 and "past the 8,192-token context llama-3-8b" in flat(out)
    code, out, _ = run("--model", "llama-3-8b", "--seq", "8192", "--dtype", "bf16",
                       "--inference", "--batch", "1")
    assert code == 0 and "past the" not in flat(out)
    code, _, err = run("--model", "gpt2", "--seq", "2048")  # learned positions run out
    assert code == 2 and "1024 learned positions" in err


def test_a_bare_model_answers_for_one_sequence_and_says_so(run, flat) -> None:
    code, out, _ = run("--model", "gpt2", "--json")
    data = json.loads(out)
    assert code == 0 and data["config"]["batch"] == 1 and "batch 1" in data["model_note"]
    code, out, _ = run("--model", "gpt2", "--seq", "64")
    assert "batch 1, the default with --model" in flat(out)
    code, out, _ = run("--model", "gpt2", "--seq", "64", "--batch", "4", "--json")
    assert json.loads(out)["config"]["batch"] == 4 and json.loads(out)["model_note"] is None
    code, out, _ = run("--n-layer", "2", "--d-model", "8", "--n-head", "2", "--vocab", "9",
                       "--json")  # a shape of one's own keeps the batch of 32
    assert json.loads(out)["config"]["batch"] == 32


@pytest.mark.parametrize(("name", "mib"), [
    ("RTX A6000", 49140), ("rtx a6000 48gb", 49140), ("RTX 6000 Ada", 49140),
    ("A40", 46068), ("RTX A5000", 24564), ("RTX 3090 Ti", 24564), ("RTX 3090", 24576),
])
def test_common_48_and_24_gb_cards_are_known(name: str, mib: int) -> None:
    assert parse_gpu(name)[1] == mib * MIB


def test_qlora_paper_card_answers(run) -> None:
    code, out, _ = run("--model", "llama-2-13b", "--seq", "512", "--dtype", "bf16",
                       "--lora-rank", "16", "--base-dtype", "nf4", "--gpu", "RTX A6000",
                       "--json")
    data = json.loads(out)
    assert code == 0 and data["gpu"]["capacity"] == 49140 * MIB
    assert data["gpu"]["largest_batch"] >= 1


def test_help_gives_every_default(run, flat) -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "GPT: layernorm|rmsnorm (default layernorm" in flat(out)
    assert "default 32, or 1 with --model" in flat(out)


def test_shape_options_are_listed_once_and_name_real_fields() -> None:
    from dataclasses import fields

    from dlprep.commands.memcalc import memcalc
    from dlprep.memcalc.options import GPT_ONLY, PRESET_SETS
    from dlprep.memcalc.shape import GPT, REQUIRED_SHAPE, SHAPE_OPTIONS, shape_from

    params = {p.name for p in memcalc.params}
    assert set(SHAPE_OPTIONS) <= params
    assert set(SHAPE_OPTIONS.values()) <= {f.name for f in fields(GPT)}
    assert set(PRESET_SETS) == set(SHAPE_OPTIONS) and set(GPT_ONLY) <= params
    assert REQUIRED_SHAPE == ("n_layer", "d_model", "n_head", "vocab")
    # Every option lands on its field (flags turn theirs off); unset ones keep defaults.
    o = {"n_layer": 3, "d_model": 64, "n_head": 8, "vocab": 50, "n_kv_head": 2, "d_ff": 96,
         "positions": 40, "norm": "rmsnorm", "mlp": "swiglu", "untied": True, "no_bias": True,
         "encoder": True, "experts": 4, "top_k": 2}
    assert set(o) == set(SHAPE_OPTIONS)
    assert shape_from(o) == GPT(3, 64, 8, 50, n_kv_head=2, d_ff=96, max_pos=40,
                                norm="rmsnorm", mlp="swiglu", tied=False, bias=False,
                                causal=False, n_experts=4, top_k=2)
    assert shape_from({**o, "norm": None, "untied": False, "experts": 0, "top_k": 0}) == GPT(
        3, 64, 8, 50, n_kv_head=2, d_ff=96, max_pos=40, mlp="swiglu", bias=False,
        causal=False)
