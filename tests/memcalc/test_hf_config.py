"""--hf-config FILE (issue 24, item 2): a Hugging Face config.json, read without network,
sizes the same model as the preset it describes; what it cannot size is refused in one
line, what it does not read is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dlprep.memcalc.hf_config import read
from dlprep.memcalc.presets import preset

# The architecture keys of the published config.json files (values as published).
LLAMA3 = {"architectures": ["LlamaForCausalLM"], "attention_bias": False,
          "attention_dropout": 0.0, "bos_token_id": 128000, "eos_token_id": 128001,
          "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
          "intermediate_size": 14336, "max_position_embeddings": 8192, "model_type": "llama",
          "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
          "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": None,
          "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
          "use_cache": True, "vocab_size": 128256}
MISTRAL = {**LLAMA3, "model_type": "mistral", "max_position_embeddings": 32768,
           "vocab_size": 32000, "sliding_window": 4096, "rope_theta": 10000.0}
MIXTRAL = {**MISTRAL, "architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
           "num_local_experts": 8, "num_experts_per_tok": 2, "output_router_logits": False,
           "router_aux_loss_coef": 0.02, "sliding_window": None, "rope_theta": 1e6}
GPT2 = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1, "embd_pdrop": 0.1, "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12,
        "n_positions": 1024, "resid_pdrop": 0.1, "vocab_size": 50257}
BERT = {"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
        "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
        "model_type": "bert", "num_attention_heads": 12, "num_hidden_layers": 12,
        "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": 30522}


def write(tmp_path: Path, raw: Any, name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(raw if isinstance(raw, str) else json.dumps(raw, indent=1),
                    encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("raw", "name"), [(LLAMA3, "llama-3-8b"), (MISTRAL, "mistral-7b"),
                                           (GPT2, "gpt2"), (BERT, "bert-base"),
                                           (MIXTRAL, "mixtral-8x7b")])
def test_a_config_describes_the_same_model_as_its_preset(tmp_path: Path, raw: Any,
                                                         name: str) -> None:
    m = read(write(tmp_path, raw))
    p = preset(name)
    assert m.shape == p.shape and m.context == p.context


def test_the_cli_answers_for_a_config_file(tmp_path: Path, run, flat) -> None:
    path = write(tmp_path, MISTRAL)
    code, out, _ = run("--hf-config", path, "--seq", "1024", "--json")
    data = json.loads(out)
    assert code == 0 and data["config"]["params"] == 7_241_732_096
    assert data["config"]["dtype"] == "bf16"  # torch_dtype is the default
    assert data["config"]["batch"] == 1 and "sliding-window" in data["model_note"]
    want = run("--model", "mistral-7b", "--seq", "1024", "--dtype", "bf16", "--json")[1]
    assert data["peak"] == json.loads(want)["peak"]
    code, out, _ = run("--hf-config", path, "--seq", "1024", "--dtype", "fp32", "--json")
    assert json.loads(out)["config"]["dtype"] == "fp32"
    code, out, _ = run("--hf-config", path, "--seq", "64", "--inference", "--batch", "1")
    assert code == 0 and "KV cache" in out and "Note on" in out


def test_what_is_not_read_is_named(tmp_path: Path) -> None:
    m = read(write(tmp_path, {**LLAMA3, "num_nextn_predict_layers": 1}))
    assert "not read" in m.note and "num_nextn_predict_layers" in m.note
    assert read(write(tmp_path, LLAMA3)).note == ""
    assert "dropout (attn_pdrop 0.1" in read(write(tmp_path, GPT2)).note
    qwen = {**LLAMA3, "model_type": "qwen2", "use_sliding_window": False,
            "sliding_window": 4096}
    note = read(write(tmp_path, qwen)).note
    assert "q/k/v biases are not counted (196,608 parameters" in note  # 32 x (4096 + 2048)
    assert "sliding" not in note  # Qwen2 only slides with use_sliding_window


@pytest.mark.parametrize(("raw", "says"), [
    ("{not json", ":1: not JSON"),
    ([1, 2], "one JSON object"),
    ({**LLAMA3, "model_type": "mamba"}, "model_type 'mamba'"),
    ({**MISTRAL, "model_type": "qwen2", "num_local_experts": 8}, "for model_type mixtral"),
    ({**MIXTRAL, "num_experts_per_tok": 9}, "num_experts_per_tok 9 must be between 1"),
    ({**LLAMA3, "head_dim": 256}, "head_dim 256"),
    ({**LLAMA3, "hidden_act": "relu"}, "hidden_act 'relu'"),
    ({**LLAMA3, "num_hidden_layers": "32"}, "num_hidden_layers must be a whole number"),
    ({**LLAMA3, "attention_bias": True}, "attention_bias and mlp_bias differ"),
])
def test_what_cannot_be_sized_is_one_line(tmp_path: Path, run, raw: Any, says: str) -> None:
    code, out, err = run("--hf-config", write(tmp_path, raw))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "config.json" in lines[0]


@pytest.mark.parametrize("extra", [["--model", "gpt2"], ["--n-layer", "2"],
                                   ["--arch", "mlp"], ["--untied"]])
def test_a_config_file_sets_the_shape(tmp_path: Path, run, extra: list[str]) -> None:
    code, out, err = run("--hf-config", write(tmp_path, LLAMA3), "--seq", "16", *extra)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_a_missing_file_is_one_line(run, tmp_path: Path) -> None:
    code, _, err = run("--hf-config", str(tmp_path / "nope.json"))
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_the_model_is_named_after_its_folder_or_file(tmp_path: Path) -> None:
    folder = tmp_path / "Meta-Llama-3-8B"
    folder.mkdir()
    assert read(write(folder, LLAMA3)).name == "Meta-Llama-3-8B"
    assert read(write(tmp_path, LLAMA3, "llama3.json")).name == "llama3"


def test_mixtral_counts_total_and_active_parameters(tmp_path: Path, run) -> None:
    code, out, _ = run("--hf-config", write(tmp_path, MIXTRAL), "--seq", "512", "--json")
    data = json.loads(out)
    assert code == 0 and data["config"]["params"] == 46_702_792_704
    assert preset("mixtral-8x7b").shape.active_params() == 12_879_925_248
    note = read(write(tmp_path, {**MIXTRAL, "output_router_logits": True})).note
    assert "auxiliary loss" in note


def test_every_preset_is_a_config_json_that_hf_config_reads(tmp_path: Path) -> None:
    from dlprep.paths import memcalc_presets_path

    raw = json.loads(memcalc_presets_path().read_text(encoding="utf-8"))
    names = [n for n in raw if not n.startswith("_")]
    assert len(names) >= 10
    for name in names:
        config = {k: v for k, v in raw[name].items() if k != "memcalc"}
        folder = tmp_path / name  # .../gpt2/config.json is read as the model "gpt2"
        folder.mkdir()
        m = read(write(folder, config))
        p = preset(name)
        assert (m.name, m.shape, m.context) == (name, p.shape, p.context)
