"""``--hf-config FILE``: a Hugging Face ``config.json`` -> the GPT shape memcalc sizes
(pure Python, no network: the file is read as JSON and nothing is downloaded).

Each supported ``model_type`` names the keys of its architecture; a key memcalc does not
read and does not know to be harmless (tokens, initialisation, dropout at 0, RoPE's
frequencies) is named in the answer, never silently dropped. What memcalc cannot size
(experts outside Mixtral's block, a head_dim other than hidden_size / heads) is refused in one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlprep.memcalc.config import ConfigError
from dlprep.memcalc.shape import GPT

DTYPES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
# Keys that change no byte of a training step as memcalc sizes it.
HARMLESS = frozenset((
    "architectures", "model_type", "transformers_version", "_name_or_path", "torch_dtype",
    "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id", "initializer_range",
    "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "rope_theta", "rope_scaling",
    "use_cache", "pretraining_tp", "id2label", "label2id", "position_embedding_type",
    "gradient_checkpointing", "n_ctx",
    "scale_attn_weights", "reorder_and_upcast_attn", "scale_attn_by_inverse_layer_idx",
    "summary_activation", "summary_first_dropout", "summary_proj_to_labels", "summary_type",
    "summary_use_proj", "task_specific_params", "tokenizer_class", "max_window_layers",
    "use_sliding_window", "finetuning_task", "problem_type", "is_decoder",
))


@dataclass(frozen=True)
class Family:
    """Where one ``model_type`` keeps each shape number, and its defaults."""

    keys: dict[str, str]  # GPT field -> config key
    fixed: dict[str, Any]  # GPT fields the architecture fixes
    tied: bool  # tie_word_embeddings when the file does not say
    activations: tuple[str, ...]  # hidden_act values it is sized for
    context: str  # the key of the trained context


_LLAMA_KEYS = {"n_layer": "num_hidden_layers", "d_model": "hidden_size",
               "n_head": "num_attention_heads", "n_kv_head": "num_key_value_heads",
               "d_ff": "intermediate_size", "vocab": "vocab_size"}
_ROPE = {"norm": "rmsnorm", "mlp": "swiglu", "bias": False, "max_pos": 0}
FAMILIES = {
    "llama": Family(_LLAMA_KEYS, _ROPE, False, ("silu",), "max_position_embeddings"),
    "mistral": Family(_LLAMA_KEYS, _ROPE, False, ("silu",), "max_position_embeddings"),
    "qwen2": Family(_LLAMA_KEYS, _ROPE, False, ("silu",), "max_position_embeddings"),
    "gemma": Family(_LLAMA_KEYS, _ROPE, True, ("gelu", "gelu_pytorch_tanh"),
                    "max_position_embeddings"),
    "gpt2": Family({"n_layer": "n_layer", "d_model": "n_embd", "n_head": "n_head",
                    "d_ff": "n_inner", "vocab": "vocab_size", "max_pos": "n_positions"},
                   {"norm": "layernorm", "mlp": "gelu", "bias": True}, True,
                   ("gelu_new", "gelu"), "n_positions"),
    "bert": Family({"n_layer": "num_hidden_layers", "d_model": "hidden_size",
                    "n_head": "num_attention_heads", "d_ff": "intermediate_size",
                    "vocab": "vocab_size", "max_pos": "max_position_embeddings",
                    "token_types": "type_vocab_size"},
                   {"norm": "layernorm", "mlp": "gelu", "bias": True, "causal": False,
                    "embed_norm": True, "pooler": True, "final_norm": False}, True,
                   ("gelu",), "max_position_embeddings"),
}
FAMILIES["mixtral"] = Family({**_LLAMA_KEYS, "n_experts": "num_local_experts",
                               "top_k": "num_experts_per_tok"}, _ROPE, False, ("silu",),
                              "max_position_embeddings")
# Dropout probabilities: 0 changes nothing; above 0 each keeps a mask memcalc does not size.
DROPOUT = frozenset(("attention_dropout", "hidden_dropout_prob", "attention_probs_dropout_prob",
                     "resid_pdrop", "embd_pdrop", "attn_pdrop", "classifier_dropout"))
READ = DROPOUT | {"tie_word_embeddings", "hidden_act", "activation_function", "hidden_activation",
        "head_dim", "attention_bias", "mlp_bias", "sliding_window", "num_local_experts",
        "num_experts_per_tok", "output_router_logits", "router_aux_loss_coef",
        "router_jitter_noise"}


@dataclass(frozen=True)
class HfModel:
    name: str
    shape: GPT
    context: int
    dtype: str | None  # torch_dtype, as a --dtype
    note: str  # what the answer must say about this file (empty: nothing)


def read(path: str) -> HfModel:
    where = path
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--hf-config {where}: cannot read it "
                          f"({getattr(exc, 'strerror', None) or exc})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a config.json is one JSON object")
    file = Path(path)  # .../Meta-Llama-3-8B/config.json is "Meta-Llama-3-8B"
    name = file.parent.name if file.name == "config.json" and file.parent.name else file.stem
    return parse(raw, where, name)


def parse(raw: dict[str, Any], where: str, name: str) -> HfModel:
    """A config.json's object (a file's, or a preset's in ``presets.json``) -> the model;
    ``where`` starts every error and note's place."""
    kind = raw.get("model_type")
    if kind not in FAMILIES:
        raise ConfigError(f"{where}: model_type {kind!r} is not one memcalc sizes; it reads "
                          f"{', '.join(sorted(FAMILIES))}")
    fam = FAMILIES[kind]
    experts = raw.get("num_local_experts")
    if experts and kind != "mixtral":
        raise ConfigError(f"{where}: num_local_experts {experts}: memcalc sizes a mixture of "
                          "experts for model_type mixtral (Mixtral's sparse MoE block)")
    fields: dict[str, Any] = dict(fam.fixed)
    for field, key in fam.keys.items():
        value = raw.get(key)
        if value is None and field in ("n_kv_head", "d_ff"):
            continue  # absent: the defaults below
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where}: {key} must be a whole number, got {value!r}")
        fields[field] = value
    # Absent: as many K/V heads as heads, a 4 x d MLP (GPT-2's n_inner null), spelled out.
    fields.setdefault("n_kv_head", fields["n_head"])
    fields.setdefault("d_ff", 4 * fields["d_model"])
    fields["tied"] = bool(raw.get("tie_word_embeddings", fam.tied))
    notes = _checks(raw, fam, fields, where, kind)
    context = raw.get(fam.context)
    if not isinstance(context, int) or isinstance(context, bool) or context <= 0:
        raise ConfigError(f"{where}: {fam.context} must be a positive whole number, "
                          f"got {context!r}")
    try:
        shape = GPT(**fields)
    except TypeError as exc:  # a field of the wrong kind
        raise ConfigError(f"{where}: {exc}") from None
    unread = sorted(k for k in raw if k not in HARMLESS and k not in READ
                    and k not in fam.keys.values() and k != fam.context)
    if unread:
        notes.append(f"not read (memcalc does not know what they do to memory): "
                     f"{', '.join(unread)}")
    dtype = DTYPES.get(str(raw.get("torch_dtype")))
    return HfModel(name, shape, context, dtype, "; ".join(notes))


def _checks(raw: dict[str, Any], fam: Family, fields: dict[str, Any], where: str,
            kind: str) -> list[str]:
    """Refuse what cannot be sized; return what must be said about the rest."""
    notes: list[str] = []
    act = raw.get("hidden_act", raw.get("activation_function", raw.get("hidden_activation")))
    if act is not None and act not in fam.activations:
        raise ConfigError(f"{where}: hidden_act {act!r}: a {kind} MLP is sized for "
                          f"{' or '.join(fam.activations)}")
    d, heads = fields.get("d_model", 0), fields.get("n_head", 0)
    head_dim = raw.get("head_dim")
    if head_dim is not None and heads and head_dim * heads != d:
        raise ConfigError(f"{where}: head_dim {head_dim} x {heads} heads is not hidden_size "
                          f"{d}: memcalc sizes heads of hidden_size / heads")
    experts, k = fields.get("n_experts", 0), fields.get("top_k", 0)
    if kind == "mixtral" and not 0 < k <= experts:
        raise ConfigError(f"{where}: num_experts_per_tok {k} must be between 1 and "
                          f"num_local_experts {experts}")
    if raw.get("output_router_logits") or raw.get("router_jitter_noise"):
        notes.append("the router's auxiliary loss (output_router_logits) and jitter noise "
                     "are not sized: routing is assumed balanced")
    if kind == "gemma":
        notes.append("GeGLU (gelu(gate) * up) is sized as SwiGLU: the same tensors")
    if raw.get("attention_bias") or raw.get("mlp_bias"):
        if raw.get("attention_bias") and raw.get("mlp_bias"):
            fields["bias"] = True
        else:
            raise ConfigError(f"{where}: attention_bias and mlp_bias differ: memcalc sizes "
                              "biases in every Linear or in none")
    if kind == "qwen2":
        kv = fields.get("n_kv_head") or heads
        extra = fields.get("n_layer", 0) * (d + 2 * kv * (d // heads if heads else 0))
        notes.append(f"Qwen2's q/k/v biases are not counted ({extra:,} parameters, each "
                     "layer's 3 bias vectors)")
    drops = [f"{k} {raw[k]}" for k in sorted(DROPOUT) if raw.get(k)]
    if drops:
        notes.append(f"dropout ({', '.join(drops)}) is not modelled: sized as trained "
                     "without it (fine-tuning recipes usually set it to 0)")
    window = raw.get("sliding_window")
    if window and raw.get("use_sliding_window", kind != "qwen2"):
        notes.append(f"sliding-window attention ({window:,}) is not modelled: the KV cache "
                     "and attention are sized for the full sequence")
    return notes
