"""Defects found in the acceptance review of issue 12, each pinned by a test."""

from __future__ import annotations

import json

import pytest

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.gpus import parse_gpu
from dlprep.memcalc.presets import preset
from dlprep.memcalc.report import human
from dlprep.memcalc.zero import block_weights


@pytest.mark.parametrize("name, card", [
    ("H100 80GB", "H100"), ("H100-80GB", "H100"), ("h100 80gb", "H100"),
    ("RTX 4090 24GB", "RTX 4090"), ("T4 16GB", "T4"), ("A100 80GB", "A100-80GB"),
])
def test_a_card_name_followed_by_its_spec_size_is_that_card(name: str, card: str) -> None:
    assert parse_gpu(name)[1] == parse_gpu(card)[1]


@pytest.mark.parametrize("n", [999.6 * 2**20, 1023.6 * 2**20, 1023.9 * 2**30, 10**16, 10**19,
                               10**22])
def test_human_sizes_never_print_an_exponent(n: float) -> None:
    text = human(int(n))
    assert "e+" not in text and len(text) <= 9, text


def _table(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("row "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("PEAK"))
    return lines[start:end + 1]


def test_the_table_stays_aligned_when_the_bytes_are_huge(run) -> None:
    # batch 32 x 4096 tokens of Llama-3-8B: a 17-digit byte count (the default batch).
    code, out, _ = run("--model", "llama-3-8b", "--seq", "4096", "--dtype", "bf16-master")
    assert code == 0
    table = _table(out)
    head = table[0]
    col, right = head.index("formula"), head.index("bytes") + len("bytes")
    for line in table[2:]:
        assert len(line) <= 80, line
        assert line[col - 1] == " " and line[col] != " ", line  # every formula starts there
        assert line[right - 1].isdigit() and line[right] == " ", line  # bytes right-aligned
        assert line[right - 1 - len(line[:right].split()[-1])] == " ", line


@pytest.mark.parametrize("args", [
    ["--model", "gpt2", "--seq", "8", "--dropout", "0.1"],
    ["--model", "gpt2", "--seq", "8", "--loss", "mse"],
    ["--model", "gpt2", "--seq", "8", "--activation", "gelu"],
    ["--model", "gpt2", "--seq", "8", "--norm", "batchnorm"],
    ["--model", "gpt2", "--seq", "8", "--norm", "rmsnorm"],
    ["--model", "gpt2", "--seq", "8", "--mlp", "swiglu"],
    ["--model", "gpt2", "--seq", "8", "--positions", "10"],
    ["--model", "gpt2", "--seq", "8", "--untied"],
    ["--model", "gpt2", "--seq", "8", "--no-bias"],
    ["--model", "gpt2", "--seq", "8", "--encoder"],
    ["--model", "llama-3-8b", "--seq", "8", "--n-kv-head", "4"],
    ["--model", "llama-3-8b", "--seq", "8", "--d-ff", "1000"],
    ["--arch", "gpt", "--n-layer", "2", "--d-model", "64", "--n-head", "4", "--vocab", "100",
     "--dropout", "0.1"],
    ["--layers", "784,10,10", "--seq", "8"],
    ["--layers", "784,10,10", "--mlp", "swiglu"],
    ["--layers", "784,10,10", "--attention", "math"],
    ["--layers", "784,10,10", "--n-kv-head", "2"],
    ["--layers", "784,10,10", "--untied"],
    ["--params", "1e6", "--positions", "8"],
    ["--model", "gpt2", "--seq", "8", "--inference", "--optimizer", "adamw"],
    ["--model", "gpt2", "--seq", "8", "--inference", "--checkpointing"],
    ["--arch", "mlp", "--n-layer", "2", "--layers", "4,5"],
    ["--arch", "mlp", "--model", "gpt2"],
    ["--model", "gpt2", "--seq", "8", "--lora-targets", "q,k"],
    ["--layers", "784,10,10", "--weight-decay", "nan"],
    ["--layers", "784,10,10", "--weight-decay", "inf"],
])
def test_options_that_would_be_ignored_are_refused(run, args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == "", out
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err


def test_options_of_the_right_family_still_work(run) -> None:
    for args in (["--model", "gpt2", "--seq", "8", "--attention", "math", "--dtype", "bf16"],
                 ["--layers", "784,10,10", "--activation", "gelu", "--dropout", "0.1",
                  "--loss", "mse", "--norm", "layernorm"],
                 ["--arch", "gpt", "--n-layer", "2", "--d-model", "64", "--n-head", "4",
                  "--n-kv-head", "2", "--vocab", "100", "--mlp", "swiglu", "--norm",
                  "rmsnorm", "--untied", "--no-bias", "--positions", "32", "--seq", "16"]):
        code, _, err = run(*args)
        assert code == 0, err


def test_zero3_gathers_the_largest_unit_the_head_included() -> None:
    # Llama-3-8B: one block is 218,112,000 weights, the untied head 128,256 x 4,096.
    cfg = Config(batch=1, seq=16, gpt=preset("llama-3-8b").shape, dtype="bf16-master")
    assert block_weights(cfg) == 128_256 * 4096 * 2
    gpt2 = Config(batch=1, seq=16, gpt=preset("gpt2").shape, dtype="bf16")
    assert block_weights(gpt2) == 50_257 * 768 * 2  # the tied embedding, 38.6M > a block


def test_json_with_many_gpus_has_one_peak_the_per_gpu_one(run) -> None:
    code, out, _ = run("--model", "gpt2", "--seq", "256", "--batch", "2", "--dtype",
                       "bf16-master", "--gpus", "8", "--zero", "3", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["peak"] == data["gpus"]["peak"] < data["one_gpu"]["peak"]
    assert data["rows"][-1]["bytes"] == data["peak"]  # the per-GPU table's PEAK row
    assert data["one_gpu"]["rows"][-1]["bytes"] == data["one_gpu"]["peak"]
    assert "peak_phase" not in data and data["one_gpu"]["peak_phase"]


def test_when_nothing_fits_the_table_is_the_verdicts_batch_under_cuda_rules(run) -> None:
    code, out, _ = run("--model", "llama-3-8b", "--seq", "4096", "--dtype", "bf16-master",
                       "--gpu", "T4", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["gpu"]["largest_batch"] is None
    assert data["config"]["batch"] == 1 and data["config"]["device"] == "cuda"
    assert data["config"]["foreach"] is True
    want = estimate(Config(batch=1, seq=4096, gpt=preset("llama-3-8b").shape,
                           dtype="bf16-master", device="cuda", foreach=True,
                           attention="sdpa"))
    assert data["peak"] == want.peak
    code, out, _ = run("--model", "llama-3-8b", "--seq", "4096", "--dtype", "bf16-master",
                       "--gpu", "T4")
    assert "batch 1 x seq 4096" in out and "cuda rules" in out


@pytest.mark.parametrize("args", [
    ["--model", "llama-3-8b", "--seq", "4096", "--batch", "1", "--optimizer", "adamw",
     "--dtype", "bf16-master"],
    ["--model", "llama-3-8b", "--seq", "4096", "--batch", "1", "--optimizer", "adamw",
     "--dtype", "bf16-master", "--device", "cuda", "--checkpointing"],
    ["--model", "llama-3-8b", "--seq", "8192", "--dtype", "bf16", "--inference"],
    ["--model", "llama-3-8b", "--seq", "4096", "--batch", "1", "--dtype", "bf16-master",
     "--gpus", "8", "--fsdp"],
    ["--model", "bert-base", "--seq", "128", "--batch", "8"],
    ["--arch", "gpt", "--n-layer", "2", "--d-model", "64", "--n-head", "4", "--seq", "32",
     "--vocab", "100", "--batch", "4"],
    ["--params", "1e6", "--batch", "32"], ["--params", "7.5e9", "--gpus", "64", "--zero", "3"],
    ["--layers", "784,1024,1024,1024,10", "--norm", "layernorm", "--batch", "4096",
     "--checkpointing"],
    ["--layers", "784,4096,4096,10", "--gpu", "T4"],
    ["--model", "llama-3-8b", "--seq", "4096", "--batch", "1", "--dtype", "bf16",
     "--lora-rank", "16"],
    ["--model", "llama-3-8b", "--seq", "4096", "--batch", "1", "--dtype", "bf16-master",
     "--lora-rank", "16", "--lora-targets", "q,k,v,o,gate,up,down", "--checkpointing"],
    ["--model", "llama-2-7b", "--seq", "512", "--dtype", "bf16", "--lora-rank", "8",
     "--base-dtype", "nf4"],
])
def test_the_usual_tables_have_one_line_per_row(run, args: list[str]) -> None:
    """Item 8: a row whose formula wraps is harder to read than a shorter formula."""
    code, out, _ = run(*args)
    assert code == 0
    lines = out.splitlines()
    heads = [i for i, x in enumerate(lines) if x.startswith("row ")]
    assert heads
    for i in heads:
        body = lines[i + 2:next(j for j in range(i, len(lines)) if lines[j].startswith("PEAK"))]
        assert all(not x.startswith(" ") for x in body), "\n".join(body)
        assert "total of rows" not in out and "(denominator)" not in out


def test_a_count_alone_puts_its_peak_range_in_the_peak_row(run) -> None:
    code, out, _ = run("--params", "1e6", "--batch", "32")
    peak = next(x for x in out.splitlines() if x.startswith("PEAK"))
    assert "18.1 MiB to 23.2 MiB" in peak  # docs/memory.md's range at batch 32
    data = json.loads(run("--params", "1e6", "--batch", "32", "--json")[1])
    assert "to" in data["rows"][-1]["formula"] and data["peak_range"]["low"] > 16_000_004


def test_a_card_sold_in_two_sizes_needs_its_size() -> None:
    from dlprep.memcalc.config import ConfigError

    with pytest.raises(ConfigError, match="A100-40GB or A100-80GB"):
        parse_gpu("A100")


def test_a_count_across_gpus_gets_a_per_gpu_peak_range(run) -> None:
    from dlprep.memcalc.guess import peak_range
    from dlprep.memcalc.zero import shard

    code, out, _ = run("--params", "1e6", "--gpus", "4", "--zero", "2", "--json")
    assert code == 0
    data = json.loads(out)["gpus"]
    r = peak_range(Config(batch=32, params=10**6, foreach=False))
    assert r is not None
    want = sorted(shard(e, 4, 2, block_weights(e.cfg)).peak or 0 for e in (r.low, r.high))
    assert data["peak_range"] == want and data["model_states"] < want[0] < want[1]
    code, out, _ = run("--params", "1e6", "--gpus", "4", "--zero", "2")
    assert "unknown: activations need shapes" not in out


@pytest.mark.parametrize("args", [
    ["--arch", "gpt", "--n-layer", "100000", "--d-model", "8", "--n-head", "2", "--vocab",
     "10", "--seq", "4"],
    ["--layers", ",".join(["8"] * 100_001)],
    ["--layers", "784,10", "--gpu", ""],
    ["--layers", "784,10", "--gpu", "   "],
])
def test_inputs_that_would_hang_or_be_dropped_are_one_line(run, args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("Error: ")


def test_with_many_gpus_the_single_gpu_table_says_what_it_is(run) -> None:
    code, out, _ = run("--model", "gpt2", "--seq", "64", "--gpus", "8", "--zero", "3")
    assert code == 0
    first = out.splitlines()[0]
    assert "One GPU" in first and "8 GPUs" in first


def test_the_fit_verdict_rounds_peak_and_budget_alike(run, flat) -> None:
    code, out, _ = run("--layers", "784,4096,4096,10", "--gpu", "T4")
    assert "13.75 GiB usable" in flat(out) and "peak 13.75 GiB" in flat(out)


def test_the_range_says_the_counts_own_fixed_bytes(run, flat) -> None:
    # 1e6 params with Adam: 4 + 4 + 8 MB + a 4-byte step = 16,000,004 B = 15.3 MiB, the
    # same figure as the floor, not the 15.2 MiB of a 998,335-parameter assumed shape.
    out = flat(run("--params", "1e6", "--batch", "32")[1])
    assert "state are 15.3 MiB of it" in out


@pytest.mark.parametrize("args, says", [
    (["--model", ""], "unknown model ''"),
    (["--params", ""], "--params must be a number"),
    (["--layers", "784,10", "--gpu", "99999999999999999999GB"], "absurd"),
])
def test_empty_and_absurd_values_say_what_is_wrong(run, args: list[str], says: str) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == "" and says in err and len(err.strip().splitlines()) == 1


def test_headings_never_split_a_hyphenated_word(run) -> None:
    code, out, _ = run("--model", "gpt2", "--seq", "8", "--batch", "1e9")
    assert code == 0
    assert not any(x.endswith("-") and x.strip("-") for x in out.splitlines()), out
    assert "batch 1,000,000,000 x seq 8" in " ".join(out.split())


def test_a_batch_at_the_search_limit_says_so(run, flat) -> None:
    code, out, _ = run("--layers", "784,10", "--gpu", "900TB")
    assert code == 0 and "a larger one would fit too" in flat(out)


def test_inference_under_cuda_rules_rounds_and_adds_the_workspace(run) -> None:
    from dlprep.memcalc.estimate import CUBLAS_WORKSPACE
    from dlprep.memcalc.inference import inference

    shape = preset("gpt2").shape
    cpu = inference(Config(batch=3, seq=7, gpt=shape, dtype="bf16", attention="sdpa"))
    cuda = inference(Config(batch=3, seq=7, gpt=shape, dtype="bf16", attention="sdpa",
                            device="cuda"))
    assert cuda.workspace == CUBLAS_WORKSPACE and cpu.workspace == 0
    assert cuda.weights >= cpu.weights and cuda.weights % 512 == 0  # every tensor rounded
    assert cuda.activations > cpu.activations and cuda.kv_cache % 512 == 0
    assert cuda.peak == cuda.weights + cuda.kv_cache + cuda.activations + cuda.workspace
    code, out, _ = run("--model", "gpt2", "--seq", "7", "--batch", "3", "--dtype", "bf16",
                       "--inference", "--device", "cuda")
    assert code == 0 and "cuda rules" in out and "cuBLAS workspace" in out


def test_a_presets_caveat_comes_with_every_answer_about_it(run, flat) -> None:
    args = ["--model", "mistral-7b", "--seq", "32768", "--batch", "1", "--dtype", "bf16"]
    for extra in (["--inference"], []):
        code, out, _ = run(*args, *extra)
        assert code == 0 and "sliding-window attention (4,096) is not modelled" in flat(out)
    data = json.loads(run(*args, "--inference", "--json")[1])
    assert "sliding-window" in data["model_note"]
    code, out, _ = run("--model", "llama-3-8b", "--seq", "16", "--batch", "1")
    assert "Note on" not in out
