"""`dlprep memcalc --checkpointing` and `--dtype *-master` end to end."""

from __future__ import annotations

import json

import pytest

WIDE = ["--layers", "784,512,512,512,10", "--activation", "gelu", "--norm", "layernorm",
        "--dropout", "0.1"]




def test_checkpointing_table_shows_the_trade(run, flat) -> None:
    code, out, _ = run(*WIDE, "--batch", "2048", "--checkpointing", "--optimizer",
                       "sgd")
    assert code == 0
    assert all(len(x) <= 80 for x in out.splitlines())
    assert "checkpointed blocks" in flat(out)
    assert any(x.startswith("recomputed saves") for x in out.splitlines())
    text = flat(out)
    assert "Checkpointing: saved activations" in text and "B lower" in text
    assert "one more forward of the hidden blocks" in text


def test_checkpointing_json_keeps_only_block_inputs(run) -> None:
    code, out, _ = run(*WIDE, "--batch", "64", "--checkpointing", "--json")
    data = json.loads(out)
    rows = {r["name"]: r["bytes"] for r in data["rows"]}
    # Inputs of blocks 2 and 3, the last Linear's input (64 x 512 x 4 B each), then
    # log_softmax (64 x 10 x 4 B) and nll_loss's 4-byte total_weight.
    assert rows["saved activations"] == 3 * 64 * 512 * 4 + 64 * 10 * 4 + 4
    ck = data["checkpointing"]
    assert data["config"]["checkpointing"] is True
    assert ck["saved_without"] > 3 * rows["saved activations"]
    assert list(ck["recomputed_per_block"]) == ["1", "2", "3"]
    assert rows["recomputed saves"] == max(ck["recomputed_per_block"].values())
    # One more forward of the three hidden Linears: 2 x B x (784*512 + 2 * 512*512).
    assert ck["extra_forward_flops"] == 2 * 64 * (784 * 512 + 2 * 512 * 512)


def test_master_weights_rows(run, flat) -> None:
    code, out, _ = run("--params", "1e6", "--dtype", "bf16-master", "--optimizer",
                       "adam", "--foreach", "--json")
    assert code == 0
    data = json.loads(out)
    rows = {r["name"]: r["bytes"] for r in data["rows"]}
    assert rows["weights"] == 2_000_000 and rows["master weights"] == 4_000_000
    assert rows["gradients"] == 2_000_000 + 4_000_000
    assert rows["optimizer state"] == 8_000_004
    # + Adam's foreach sqrt list over the fp32 masters.
    assert data["peak_at_least"] == 2_000_000 + 4_000_000 + 6_000_000 + 8_000_004 + 4_000_000
    code, out, _ = run("--params", "1e6", "--dtype", "fp16-master")
    assert "master weights" in out and "fp32 copy" in flat(out)
    assert all(len(x) <= 80 for x in out.splitlines())


@pytest.mark.parametrize("args", [
    ["--layers", "5,3", "--checkpointing"],
    ["--params", "1e6", "--checkpointing"],
    ["--layers", "5,4,3", "--checkpointing", "--batch", "0"],
    ["--layers", "5,4,3", "--dtype", "fp8-master"],
])
def test_bad_combinations_are_one_line_and_exit_2(run, args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")


def test_gpu_search_with_checkpointing_fits_a_larger_batch(run) -> None:
    batches = []
    for extra in ([], ["--checkpointing"]):
        code, out, _ = run(*WIDE, "--gpu", "T4", "--dtype", "bf16-master", *extra,
                           "--json")
        assert code == 0
        batches.append(json.loads(out)["gpu"]["largest_batch"])
    assert batches[1] > batches[0] > 0


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_measure_matches_to_the_byte(run, device: str) -> None:
    pytest.importorskip("torch")
    for dtype in ("fp32", "fp16-master"):
        code, out, _ = run("--layers", "20,16,16,4", "--batch", "5", "--dropout", "0.2",
                           "--activation", "silu", "--checkpointing", "--dtype", dtype,
                           "--measure", "--device", device, "--json")
        assert code == 0
        data = json.loads(out)
        assert data["measured"]["device"] == device
        if dtype != "fp32":
            assert data["measured"]["master_weights"] == 4 * data["config"]["params"]
        assert all(v == 0 for v in data["error_bytes"].values()), data["error_bytes"]
    code, out, _ = run("--layers", "20,16,4", "--batch", "5", "--dtype", "bf16-master",
                       "--measure")
    assert "master weights" in out and "+0.000%" in out
