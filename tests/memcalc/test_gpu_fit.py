"""--gpu: reported capacities with sources, spec-sheet sizes, the allocator margin, one
consistent peak; and a GPT measured end to end through the CLI."""

from __future__ import annotations

import json

import pytest

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.gpus import CARDS, CUDA_CONTEXT, GIB, MARGIN, parse_gpu, usable_bytes


def test_cards_report_less_than_the_spec_sheet_and_name_a_source() -> None:
    for card in CARDS:
        assert card.source
        assert card.capacity <= card.spec_gb * GIB
    assert parse_gpu("T4")[1] == 15360 * 2**20 < 16 * GIB  # ECC takes 1/16


def test_spec_sheet_size_and_card_name_give_the_same_answer(run) -> None:
    answers = []
    for gpu in ("24GB", "RTX 4090", "rtx4090"):
        code, out, _ = run("--layers", "784,4096,4096,10", "--gpu", gpu, "--json")
        assert code == 0
        answers.append(json.loads(out)["gpu"]["largest_batch"])
    assert len(set(answers)) == 1


def test_the_found_batch_fits_with_margin_and_the_table_is_that_batch(run) -> None:
    code, out, _ = run("--layers", "784,2048,2048,10", "--gpu", "T4", "--json")
    data = json.loads(out)
    gpu = data["gpu"]
    assert gpu["usable"] == int(gpu["capacity"] * (1 - MARGIN)) - CUDA_CONTEXT
    assert data["config"]["batch"] == gpu["largest_batch"]  # the table's own batch
    assert data["config"]["device"] == "cuda" and data["config"]["foreach"] is True
    assert data["peak"] + gpu["headroom"] == gpu["usable"] and gpu["headroom"] >= 0
    over = estimate(Config(batch=gpu["largest_batch"] + 1, layers=(784, 2048, 2048, 10),
                           device="cuda"))
    assert over.peak is not None and over.peak > gpu["usable"]
    assert usable_bytes(gpu["capacity"]) == gpu["usable"]
    code, out, _ = run("--layers", "784,2048,2048,10", "--gpu", "T4")
    assert "headroom" in out and "5% kept free" in " ".join(out.split())


def test_gpt_presets_search_a_batch(run) -> None:
    code, out, _ = run("--model", "gpt2", "--seq", "1024", "--dtype", "bf16-master",
                       "--gpu", "A100-80GB", "--json")
    assert code == 0
    gpu = json.loads(out)["gpu"]
    assert gpu["largest_batch"] >= 1 and gpu["headroom"] >= 0
    code, out, _ = run("--model", "llama-3-8b", "--seq", "2048", "--dtype", "bf16-master",
                       "--gpu", "H100")
    assert "Even batch 1" in out and "--zero 3" in " ".join(out.split())


def test_gpt_measure_through_the_cli_is_exact(run) -> None:
    pytest.importorskip("torch")
    code, out, _ = run("--arch", "gpt", "--n-layer", "2", "--d-model", "16", "--n-head", "4",
                       "--n-kv-head", "2", "--seq", "8", "--vocab", "37", "--batch", "3",
                       "--norm", "rmsnorm", "--mlp", "swiglu", "--no-bias", "--untied",
                       "--dtype", "amp-bf16", "--checkpointing", "--measure", "--json")
    assert code == 0
    data = json.loads(out)
    assert all(v == 0 for v in data["error_bytes"].values()), data["error_bytes"]
    assert data["measured"]["phase_peaks"] == data["phase_peaks"]
