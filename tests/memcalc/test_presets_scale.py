"""Presets, inference (KV cache) and ZeRO/FSDP: published numbers, reproduced."""

from __future__ import annotations

import json

import pytest

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.inference import inference, kv_cache_bytes
from dlprep.memcalc.presets import preset, presets
from dlprep.memcalc.zero import shard

PUBLISHED = {"gpt2": 124_439_808, "llama-2-7b": 6_738_415_616,
             "llama-3-8b": 8_030_261_248, "mistral-7b": 7_241_732_096,
             "gpt2-medium": 354_823_168, "gpt2-xl": 1_557_611_200,
             "llama-2-13b": 13_015_864_320, "llama-3-70b": 70_553_706_496,
             "bert-base": 109_482_240, "mixtral-8x7b": 46_702_792_704}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_counts_equal_the_published_ones(name: str) -> None:
    p = preset(name)
    assert sum(p.shape.param_shapes()) == PUBLISHED[name]
    assert p.source and f"{PUBLISHED[name]:,}" in p.published


def test_every_preset_has_a_source_and_is_listed(run) -> None:
    assert len(presets()) >= 9
    code, out, _ = run("--list-models")
    assert code == 0
    for name, p in presets().items():
        assert name in out and p.source
    assert "8,030,261,248" in out and all(len(x) <= 80 for x in out.splitlines())


def test_kv_cache_bytes_of_llama() -> None:
    assert kv_cache_bytes(preset("llama-2-7b").shape, 4096, 1, 2) == 2_147_483_648
    assert kv_cache_bytes(preset("llama-3-8b").shape, 8192, 1, 2) == 1_073_741_824
    cfg = Config(batch=1, seq=4096, gpt=preset("llama-2-7b").shape, dtype="fp16")
    inf = inference(cfg)
    assert inf.kv_cache == 2_147_483_648 and inf.weights == 6_738_415_616 * 2
    # Config's default math attention keeps each layer's T x T bool causal mask.
    assert inf.buffers == 32 * 4096 * 4096
    assert inf.peak == inf.weights + inf.buffers + inf.kv_cache + inf.activations


def test_inference_cli_and_json(run, flat) -> None:
    code, out, _ = run("--model", "llama-3-8b", "--seq", "8192", "--batch", "1",
                       "--dtype", "bf16", "--inference", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["kv_cache"] == 1_073_741_824
    code, out, _ = run("--model", "llama-3-8b", "--seq", "8192", "--batch", "1",
                       "--dtype", "bf16", "--inference")
    assert "1,073,741,824" in out and "4x less cache" in flat(out)
    assert all(len(x) <= 80 for x in out.splitlines())


def test_zero_paper_example_7_5b_on_64_gpus(run) -> None:
    """Rajbhandari et al. 2020, figure 1: 120, 31.4, 16.6 and 1.88 GB per GPU (K = 12)."""
    est = estimate(Config(batch=1, params=7_500_000_000, dtype="bf16-master",
                          optimizer="adam", device="cuda"))
    got = [f"{shard(est, 64, stage, 0).model_states / 1e9:.3g}" for stage in range(4)]
    assert got == ["120", "31.4", "16.6", "1.88"]
    code, out, _ = run("--params", "7.5e9", "--dtype", "bf16-master", "--device", "cuda",
                       "--gpus", "64", "--fsdp", "--json")
    assert code == 0
    assert json.loads(out)["gpus"]["model_states"] == 1_875_000_000


def test_zero_peak_per_gpu_falls_with_the_stage(run) -> None:
    peaks = []
    for stage in range(4):
        code, out, _ = run("--model", "gpt2", "--seq", "256", "--batch", "2", "--dtype",
                           "bf16-master", "--gpus", "8", "--zero", str(stage), "--json")
        assert code == 0
        data = json.loads(out)
        peaks.append(data["gpus"]["peak"])
        assert data["gpus"]["not_modelled"]
    assert peaks[0] == data["one_gpu"]["peak"]  # stage 0 on 8 GPUs is one GPU's step
    assert data["peak"] == peaks[3]  # the answer at the top is the per-GPU peak
    assert peaks == sorted(peaks, reverse=True) and peaks[3] < peaks[0]


@pytest.mark.parametrize("args", [
    ["--model", "gpt-5"], ["--model", "gpt2", "--n-layer", "3"],
    ["--arch", "gpt", "--n-layer", "2"], ["--model", "gpt2", "--seq", "2048"],
    ["--params", "1e6", "--inference"], ["--model", "gpt2", "--zero", "2"],
    ["--model", "gpt2", "--gpus", "0"], ["--model", "gpt2", "--gpus", "2", "--fsdp",
                                         "--zero", "1"],
    ["--model", "gpt2", "--dtype", "bf16-master", "--inference"],
    ["--arch", "gpt", "--n-layer", "2", "--d-model", "10", "--n-head", "3", "--vocab", "5"],
    ["--model", "gpt2", "--layers", "4,5"], ["--layers", "4,5", "--norm", "rmsnorm"],
])
def test_bad_transformer_input_is_one_line(run, args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")


def test_unknown_model_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="llama-3-8b"):
        preset("llama-9")


def test_lora_adapters_and_frozen_base() -> None:
    from dlprep.memcalc.config import Adapters
    from dlprep.memcalc.lora import lora

    cfg = Config(batch=1, seq=1024, gpt=preset("llama-2-7b").shape, dtype="bf16",
                 optimizer="adamw", lora=Adapters(8, ("q", "v")))
    lo = lora(cfg)
    assert lo.adapter_params == 4_194_304  # 32 layers x 2 x 8 x (4096 + 4096)
    assert lo.base_bytes == 6_738_415_616 * 2
    assert lo.gradients == 4_194_304 * 2  # the frozen base has none
    # AdamW moments, adapters only, plus one fp32 step counter per adapter tensor (CPU)
    assert lo.optimizer_state == 2 * 4_194_304 * 2 + 4 * 32 * 2 * 2
    every = Adapters(16, ("q", "k", "v", "o", "gate", "up", "down"))
    full = lora(Config(batch=1, seq=1024, gpt=preset("llama-3-8b").shape, lora=every))
    assert full.adapter_params == 41_943_040


def test_qlora_nf4_costs_4_127_bits_per_quantised_weight() -> None:
    from dlprep.memcalc.config import Adapters
    from dlprep.memcalc.lora import lora
    from dlprep.memcalc.nf4 import nf4_bytes

    assert nf4_bytes(64 * 256) == 64 * 256 // 2 + 256 + 4  # codes, 8-bit absmax, one fp32
    cfg = Config(batch=1, seq=1024, gpt=preset("llama-2-7b").shape, dtype="bf16",
                 lora=Adapters(8, ("q", "v"), nf4=True))
    lo = lora(cfg)
    rest = (6_738_415_616 - lo.quantised_params) * 2
    bits = (lo.base_bytes - rest) * 8 / lo.quantised_params
    assert abs(bits - 4.127) < 0.001
    assert lo.quantised_params == 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008)


def test_lora_cli_gives_one_exact_peak(run, flat) -> None:
    code, out, _ = run("--model", "llama-2-7b", "--seq", "512", "--batch", "1", "--dtype",
                       "bf16", "--lora-rank", "8", "--base-dtype", "nf4")
    text = flat(out)
    assert code == 0 and "QLoRA rank 8" in out and "4,194,304" in out
    assert "Dettmers et al., NeurIPS 2023" in text and "not modelled" in text
    assert "at most" not in text and "not replayed" not in text
    assert all(len(x) <= 80 for x in out.splitlines())
    code, out, _ = run("--model", "llama-2-7b", "--seq", "512", "--lora-rank", "8", "--json")
    data = json.loads(out)
    lo = data["lora"]
    assert data["rows"][-1] == {"name": "PEAK", "bytes": data["peak"],
                                "formula": f"in {data['peak_phase']}: what must fit"}
    assert lo["model_states"] < data["peak"] < lo["full_finetune_peak"] and lo["exact"]
    for bad in (["--lora-rank", "8", "--lora-targets", "q,x"], ["--base-dtype", "nf4"],
                ["--lora-rank", "0", "--base-dtype", "nf4"], ["--lora-rank", "-3"],
                ["--lora-rank", "4", "--dtype", "amp-bf16", "--base-dtype", "nf4"],
                ["--lora-rank", "4", "--base-dtype", "nf4", "--measure"],
                ["--lora-rank", "4", "--gpus", "8"]):
        code, out, err = run("--model", "gpt2", "--seq", "64", *bad)
        assert code == 2 and err.startswith("Error: ") and len(err.strip().splitlines()) == 1
    code, out, err = run("--model", "gpt2", "--seq", "64", "--lora-rank", "4",
                         "--lora-targets", "gate")
    assert code == 2 and "no gate projection" in err


def test_lora_measure_and_gpu(run, flat) -> None:
    """--measure trains the LoRA rig and matches to the byte; --gpu fits a LoRA batch."""
    pytest.importorskip("torch")
    code, out, _ = run("--arch", "gpt", "--n-layer", "2", "--d-model", "16", "--n-head", "2",
                       "--seq", "8", "--vocab", "30", "--batch", "2", "--lora-rank", "4",
                       "--lora-targets", "q,k,v,o,up,down", "--checkpointing", "--measure")
    assert code == 0 and "Estimate vs measured" in out
    errors = [line.split()[-2] for line in out.splitlines()[-10:] if "%" in line]
    assert errors and set(errors) == {"+0"}
    code, out, _ = run("--model", "llama-3-8b", "--seq", "2048", "--dtype", "bf16",
                       "--lora-rank", "16", "--checkpointing", "--gpu", "24GB", "--json")
    data = json.loads(out)
    assert data["gpu"]["largest_batch"] >= 1 and data["rows"][-1]["bytes"] == data["peak"]
    assert data["peak"] <= data["gpu"]["usable"] < data["lora"]["full_finetune_peak"]
    # math attention: at batch 1 its reshapes are views, so the search's lines start at 2
    code, out, _ = run("--model", "gpt2", "--seq", "1024", "--lora-rank", "8", "--attention",
                       "math", "--gpu", "24GB", "--json")
    data = json.loads(out)
    found = data["gpu"]["largest_batch"]
    assert code == 0 and found > 1 and data["peak"] <= data["gpu"]["usable"]
    code, out, _ = run("--model", "gpt2", "--seq", "1024", "--lora-rank", "8", "--attention",
                       "math", "--batch", str(found + 1), "--device", "cuda", "--foreach",
                       "--json")
    assert json.loads(out)["peak"] > data["gpu"]["usable"]


@pytest.mark.parametrize("args", [
    ["--model", "llama-3-70b", "--seq", "4096", "--batch", "1", "--dtype", "bf16-master",
     "--gpus", "64", "--zero", "3", "--checkpointing"],
    ["--model", "llama-3-8b", "--seq", "8192", "--dtype", "bf16", "--inference"],
    ["--model", "llama-2-7b", "--seq", "512", "--lora-rank", "8", "--base-dtype", "nf4"],
    ["--model", "llama-3-8b", "--seq", "2048", "--dtype", "bf16", "--lora-rank", "16",
     "--lora-targets", "q,k,v,o,gate,up,down", "--checkpointing", "--gpu", "24GB"],
    ["--model", "gpt2", "--seq", "512", "--gpu", "RTX 4090", "--json"],
    ["--params", "1e6", "--batch", "32"], ["--list-models"],
])
def test_transformer_estimates_import_no_torch(args: list[str]) -> None:
    import subprocess
    import sys

    probe = ("import sys, json; from dlprep.cli import main; "
             f"code = main(['memcalc', *{args!r}]); "
             "print('@@' + json.dumps([code, sorted(sys.modules)]))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    code, modules = json.loads(result.stdout.rsplit("@@", 1)[1])
    assert code == 0
    assert not {m.split(".")[0] for m in modules} & {"torch", "numpy", "textual"}


@pytest.mark.parametrize("args", [
    ["--layers", "784,512,512,10", "--norm", "layernorm", "--dropout", "0.1", "--activation",
     "gelu", "--dtype", "amp-bf16", "--device", "cuda"],
    ["--layers", "784,512,512,10", "--checkpointing", "--dtype", "bf16-master"],
    ["--model", "llama-3-8b", "--seq", "4096", "--batch", "1", "--dtype", "bf16-master",
     "--checkpointing"],
    ["--params", "1e6", "--input", "1x28x28", "--channels", "32"],
    ["--model", "mistral-7b", "--seq", "8192", "--batch", "1", "--dtype", "bf16",
     "--inference"],
    ["--model", "gpt2", "--seq", "512", "--gpus", "8", "--zero", "2"],
    ["--model", "llama-2-7b", "--seq", "512", "--lora-rank", "8", "--base-dtype", "nf4"],
])
def test_tables_read_at_80_columns(run, args: list[str]) -> None:
    """Item 8: no row wraps past two lines, no internal labels, PEAK is the last row."""
    code, out, _ = run(*args)
    assert code == 0
    lines = out.splitlines()
    assert all(len(x) <= 80 for x in lines)
    heads = [x for x in lines if x.startswith("row ") and x.endswith(" formula")]
    assert heads
    for head in heads:
        pad = " " * head.index("formula")
        for above, line in zip(lines, lines[1:], strict=False):
            assert not (above.startswith(pad) and line.startswith(pad)), line
    assert "total of rows" not in out and "(denominator)" not in out
    assert "(act " not in out and "PEAK" in out
