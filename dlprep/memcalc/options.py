"""Command-line options -> a Config (pure Python; the click command lives in
``dlprep/commands/memcalc.py``)."""

from __future__ import annotations

from typing import Any

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.parse import parse_chw, parse_count, parse_layers
from dlprep.memcalc.shape import REQUIRED_SHAPE, SHAPE_OPTIONS, shape_from


def one_question(o: dict[str, Any]) -> None:
    """Combinations memcalc cannot answer together are refused, not half-answered."""
    modes = [name for name, on in (("--inference", o["inference"]),
                                   ("--gpus", o["gpus"] > 1), ("--gpu", o["gpu"] is not None),
                                   ("--measure", o["measure"])) if on]
    # A LoRA step can be measured or fitted to a GPU; inference and ZeRO size other things.
    if o["lora_rank"] and o["inference"] or o["lora_rank"] and o["gpus"] > 1:
        modes.insert(0, "--lora-rank")
    if len(modes) > 1:
        raise ConfigError(f"{' and '.join(modes)} cannot be combined (one question at a "
                          "time: each sizes a different setting)")


# Options only one family reads; given to the other, they would be silently ignored.
# (The shape options are read off the GPT dataclass's fields, shape.SHAPE_OPTIONS;
# --norm is also an MLP's.)
PRESET_SETS = tuple(SHAPE_OPTIONS)
GPT_ONLY = ("model", "hf_config", *(k for k in SHAPE_OPTIONS if k != "norm"), "attention",
            "seq", "code_style")
MLP_ONLY = ("activation", "input_chw", "channels")
NOT_AT_INFERENCE = ("optimizer", "foreach", "weight_decay", "checkpointing")


def _flag(name: str) -> str:
    return "--" + name.removesuffix("_chw").replace("_", "-")


def refuse_ignored(o: dict[str, Any], arch: str) -> None:
    """An option the question does not read is an error, never silently dropped."""
    given = o.get("_given", set())
    if "lora_targets" in given and not o["lora_rank"]:
        raise ConfigError("--lora-targets chooses where LoRA adapters go: give --lora-rank R")
    if arch == "mlp":
        wrong = [k for k in GPT_ONLY if k in given]
        if wrong and wrong[0] == "model":
            raise ConfigError("--model names a transformer: drop --arch mlp")
        if wrong:
            raise ConfigError(f"{_flag(wrong[0])} is for transformers (--model or --arch gpt); "
                              "an MLP is sized from --layers")
        return
    wrong = [k for k in MLP_ONLY if k in given]
    if wrong:
        raise ConfigError(f"{_flag(wrong[0])} is for MLPs; a GPT's MLP is --mlp gelu|swiglu")
    if o["model"] is not None:
        wrong = [k for k in PRESET_SETS if k in given]
        if wrong:
            raise ConfigError(f"--model {o['model']} sets the shape: drop {_flag(wrong[0])} "
                              "(or describe the model with --arch gpt and its shape options)")
    if o["inference"]:
        wrong = [k for k in NOT_AT_INFERENCE if k in given]
        if wrong:
            raise ConfigError(f"{_flag(wrong[0])} is about training; --inference runs no "
                              "backward and no optimiser")


# --- issue 24: a given 0 that would silently mean something else ---------------------
ZERO_MEANS = {"lora_rank": "full fine-tuning, not LoRA: drop --lora-rank",
              "d_ff": "4 x --d-model, the default: give a width or drop --d-ff"}


def refuse_zero(o: dict[str, Any]) -> None:
    """``--lora-rank 0`` and ``--d-ff 0`` are the options' internal "unset": typed by
    the user they would run another question than the one asked."""
    given = o.get("_given", set())
    for key, means in ZERO_MEANS.items():
        if key in given and o[key] == 0:
            raise ConfigError(f"{_flag(key)} 0 would mean {means}")


def hf_model(o: dict[str, Any]) -> Any:
    """``--hf-config FILE`` read like a ``--model`` preset (None without it)."""
    if o.get("hf_config") is None:
        return None
    if o["model"] is not None:
        raise ConfigError("give --model or --hf-config, not both")
    wrong = [k for k in PRESET_SETS if k in o.get("_given", set())]
    if wrong:
        raise ConfigError(f"--hf-config {o['hf_config']} sets the shape: drop "
                          f"{_flag(wrong[0])}")
    from dlprep.memcalc.hf_config import read

    return read(o["hf_config"])
# --- end issue 24 ---------------------------------------------------------------------


def config_from(o: dict[str, Any]) -> Config:
    refuse_zero(o)
    device, foreach = o["device"], o["foreach"]
    given = [k for k in REQUIRED_SHAPE if o[k] is not None]
    named = o["model"] is not None or o.get("hf_config") is not None  # issue 24
    arch = o["arch"] or ("gpt" if named or given else "mlp")
    refuse_ignored(o, arch)
    hf = hf_model(o) if arch == "gpt" else None
    dtype = o["dtype"]
    if hf is not None and hf.dtype and "dtype" not in o.get("_given", set()):
        dtype = hf.dtype  # the checkpoint's torch_dtype, unless --dtype says otherwise
    common: dict[str, Any] = dict(
        # issue 24: a bare --model answers for one sequence (the note says so), not 32.
        batch=parse_count(o["batch"] or ("1" if named else "32"), "--batch"),
        optimizer=o["optimizer"],
        foreach=device == "cuda" if foreach is None else foreach, dtype=dtype,
        weight_decay=o["weight_decay"], device="cuda" if device == "cuda" else "cpu",
        checkpointing=o["checkpointing"])
    if arch == "mlp":
        if o["lora_rank"] or o["base_dtype"] != "same":
            raise ConfigError("--lora-rank adapts a transformer's Linears: give --model or "
                              "--arch gpt")
        if o["params"] is not None and o["layers"] is not None:
            raise ConfigError("give --params or --layers, not both (--layers sets the count)")
        if o["norm"] == "rmsnorm":
            raise ConfigError("--norm rmsnorm is for GPT blocks; an MLP takes none, "
                              "batchnorm or layernorm")
        return Config(
            layers=parse_layers(o["layers"]) if o["layers"] is not None else None,
            params=parse_count(o["params"], "--params") if o["params"] is not None else None,
            activation=o["activation"], dropout=o["dropout"], norm=o["norm"] or "none",
            loss=o["loss"], input_chw=parse_chw(o["input_chw"]) if o["input_chw"] else None,
            channels=o["channels"], **common)
    for flag in ("params", "layers", "input_chw", "channels"):
        if o[flag]:
            raise ConfigError(f"--{flag.replace('_chw', '')} is for MLPs; a GPT is sized "
                              "from its shape")
    if hf is not None:
        shape, default_seq = hf.shape, hf.context
    elif o["model"] is not None:
        if given:
            raise ConfigError(f"--model sets the shape: drop {_flag(given[0])}")
        from dlprep.memcalc.presets import preset

        p = preset(o["model"])
        shape, default_seq = p.shape, p.context
    else:
        missing = [_flag(k) for k in REQUIRED_SHAPE if o[k] is None]
        if missing:
            raise ConfigError(f"--arch gpt needs {', '.join(missing)}")
        if o["norm"] not in (None, "layernorm", "rmsnorm"):
            raise ConfigError("a GPT's --norm is layernorm or rmsnorm")
        shape = shape_from(o)
        default_seq = min(o["positions"] or 128, 128)
    seq = parse_count(o["seq"], "--seq") if o["seq"] else default_seq
    # dropout and loss go in so that Config refuses them with its reasons.
    return Config(gpt=shape, seq=seq, attention=o["attention"], dropout=o["dropout"],
                  loss=o["loss"], lora=adapters(o), code=o.get("code_style", "memcalc"),
                  **common)


def adapters(o: dict[str, Any]) -> Any:
    """``--lora-rank/--lora-targets/--base-dtype`` -> Adapters, or None without a rank."""
    from dlprep.memcalc.lora import parse_targets
    from dlprep.memcalc.shape import Adapters

    nf4 = o["base_dtype"] == "nf4"
    if not o["lora_rank"]:
        if nf4:
            raise ConfigError("--base-dtype nf4 is QLoRA: give --lora-rank R too")
        return None
    return Adapters(o["lora_rank"], parse_targets(o["lora_targets"]), nf4)
