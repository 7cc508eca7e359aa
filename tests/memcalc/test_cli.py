"""`dlprep memcalc` end to end: tables, JSON, errors, --gpu, --input, --measure, imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def test_params_only_gives_exact_state_and_refuses_to_invent_activations(run) -> None:
    code, out, _ = run("--params", "1e6", "--batch", "32")
    assert code == 0
    assert "4,000,000" in out  # weights and gradients
    assert "8,000,004" in out  # Adam: two fp32 moments + a 4-byte step counter
    line = next(x for x in out.splitlines() if x.startswith("saved activations"))
    assert "unknown" in line
    assert "--layers" in out and "Peak range, assuming an MLP" in " ".join(out.split())
    assert all(len(x) <= 80 for x in out.splitlines())


def test_params_only_gives_a_batch_dependent_range(run) -> None:
    ranges = []
    for batch in ("32", "4096"):
        code, out, _ = run("--params", "1e6", "--batch", batch, "--json")
        r = json.loads(out)["peak_range"]
        assert json.loads(out)["peak_at_least"] <= r["low"] <= r["high"]
        ranges.append(r)
    # Measured on real 1M-parameter MLPs at batch 32 with Adam: 18-27 MB.
    assert 18e6 <= ranges[0]["low"] <= ranges[0]["high"] <= 27e6
    assert ranges[1]["low"] > ranges[0]["high"]  # the batch matters
    code, out, _ = run("--params", "1e6", "--batch", "4096")
    assert "activations dominate" in " ".join(out.split())


def test_classic_question_floor_counts_foreach_temporaries(run) -> None:
    code, out, _ = run("--params", "1e6", "--batch", "32", "--foreach", "--json")
    data = json.loads(out)
    assert data["peak"] is None
    assert data["peak_at_least"] == 4_000_000 * 5 + 4  # W + G + 2 moments + sqrt list + step
    code, out, _ = run("--params", "1e6", "--batch", "32", "--no-foreach", "--json")
    assert json.loads(out)["peak_at_least"] == 4_000_000 * 4 + 4


def test_table_fits_80_columns_and_names_the_peak_phase(run, flat) -> None:
    code, out, _ = run("--layers", "784,512,512,10", "--batch", "4096", "--norm",
                       "layernorm", "--dropout", "0.1", "--activation", "gelu")
    assert code == 0
    assert all(len(x) <= 80 for x in out.splitlines())
    assert "in backward, is" in flat(out)  # large batches peak in backward
    code, out, _ = run("--layers", "784,512,512,10", "--batch", "1")
    assert "in step, is" in flat(out)  # small batches: the optimiser step


def test_json_rows_add_up(run) -> None:
    code, out, _ = run("--layers", "100,50,10", "--batch", "8", "--json")
    assert code == 0
    data = json.loads(out)
    rows = {r["name"]: r["bytes"] for r in data["rows"]}
    n = 100 * 50 + 50 + 50 * 10 + 10
    assert rows["weights"] == rows["gradients"] == 4 * n
    assert rows["optimizer state"] == 2 * 4 * n + 4 * 4
    assert "total of rows" not in rows and rows["PEAK"] == data["peak"]
    parts = [v for k, v in rows.items() if k != "PEAK"]
    assert data["peak"] <= sum(parts)
    assert data["peak_phase"] in ("forward", "backward", "step")


@pytest.mark.parametrize("args", [
    ["--params", "-5"], ["--params", "0"], ["--params", "abc"], ["--params", "1e30"],
    ["--layers", "784,,x"], ["--layers", "784"], ["--layers", "0,10"], ["--layers", "784,x,10"],
    ["--layers", "784,,10"],
    ["--layers", "4,5", "--batch", "0"], ["--layers", "4,5", "--batch", "2.5"],
    ["--layers", "4,5", "--dtype", "fp8"], ["--layers", "4,5", "--optimizer", "lion"],
    ["--layers", "4,5", "--dropout", "1.5"], ["--layers", "4,5", "--dropout", "x"],
    ["--params", "1e6", "--gpu", "12XB"], ["--params", "1e6", "--input", "3x32"],
    ["--params", "1e6", "--measure"], ["--no-such-option"], [],
])
def test_bad_input_is_one_line_and_exit_2(run, args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "Traceback" not in err


def test_input_channels_map_is_batch_c_h_w_bytes(run) -> None:
    code, out, _ = run("--params", "1e6", "--batch", "32", "--input", "1x28x28",
                       "--channels", "32", "--json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)["rows"]}
    assert rows["activation map"]["bytes"] == 32 * 32 * 28 * 28 * 4 == 3_211_264
    code, out, _ = run("--params", "1e6", "--batch", "8", "--input", "3x32x32",
                       "--channels", "16", "--dtype", "amp-bf16", "--json")
    rows = {r["name"]: r for r in json.loads(out)["rows"]}
    assert rows["activation map"]["bytes"] == 8 * 16 * 32 * 32 * 2


def test_gpu_search_finds_the_edge(run, flat) -> None:
    from dlprep.memcalc.config import Config
    from dlprep.memcalc.estimate import estimate
    from dlprep.memcalc.gpus import CUDA_CONTEXT, GIB, MARGIN

    code, out, _ = run("--layers", "784,4096,4096,10", "--gpu", "24GiB", "--json")
    assert code == 0
    gpu = json.loads(out)["gpu"]
    best = gpu["largest_batch"]
    usable = int(24 * GIB * (1 - MARGIN)) - CUDA_CONTEXT
    assert gpu["usable"] == usable
    for batch, fits in ((best, True), (best + 1, False)):
        peak = estimate(Config(batch=batch, layers=(784, 4096, 4096, 10), device="cuda")).peak
        assert peak is not None and (peak <= usable) is fits
    code, out, _ = run("--layers", "784,4096,4096,10", "--gpu", "A100-80GB")
    assert "Largest batch" in flat(out) and "dominate" in out and "headroom" in out


def test_gpu_too_small_says_so(run) -> None:
    code, out, _ = run("--layers", "50000,50000,10", "--gpu", "1GB")
    assert code == 0
    assert "Even batch 1" in out


def test_cuda_rules_round_to_512_and_use_a_bool_mask(run, flat) -> None:
    from dlprep.memcalc.config import Config
    from dlprep.memcalc.estimate import estimate

    cpu = estimate(Config(batch=3, layers=(5, 7, 2), dropout=0.5))
    cuda = estimate(Config(batch=3, layers=(5, 7, 2), dropout=0.5, device="cuda"))
    assert cpu.weights == 4 * (5 * 7 + 7 + 7 * 2 + 2)
    assert cuda.weights == 4 * 512  # four tensors, each rounded up to 512 bytes
    assert cuda.optimizer_state == 8 * 512  # no CPU step counters on the device
    assert cuda.peak is not None and cuda.peak % 512 == 0
    code, out, _ = run("--layers", "5,7,2", "--dropout", "0.5", "--device", "cuda")
    assert "not calibrated" in flat(out)
    assert "bool" in out


def test_estimate_mode_imports_no_torch() -> None:
    probe = ("import sys, json; from dlprep.cli import main; "
             "main(['memcalc', '--layers', '784,512,10', '--gpu', 'T4', '--json']); "
             "print('@@' + json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = {m.split(".")[0] for m in json.loads(result.stdout.rsplit("@@", 1)[1])}
    assert not modules & {"torch", "numpy", "textual"}


def test_measure_on_cpu_matches_to_the_byte(run) -> None:
    pytest.importorskip("torch")
    code, out, _ = run("--layers", "20,16,4", "--batch", "5", "--dropout", "0.2",
                       "--norm", "layernorm", "--measure", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["measured"]["device"] == "cpu"
    assert data["measured"]["peak"] > data["measured"]["weights"] > 0
    assert all(v == 0 for v in data["error_bytes"].values()), data["error_bytes"]
    code, out, _ = run("--layers", "20,16,4", "--batch", "5", "--measure")
    assert "Estimate vs measured (cpu" in out
    assert "+0.000%" in out


def test_measure_on_meta_runs_a_model_too_big_for_ram(run) -> None:
    pytest.importorskip("torch")
    code, out, _ = run("--layers", "65536,65536,10", "--batch", "64", "--measure",
                       "--device", "meta", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["measured"]["device"] == "meta"
    assert data["measured"]["weights"] > 16 * 1024**3
    assert all(v == 0 for v in data["error_bytes"].values())


def test_input_channels_hint_promises_no_exactness(run, flat) -> None:
    code, out, _ = run("--params", "1e6", "--batch", "32", "--input", "1x28x28",
                       "--channels", "32")
    assert code == 0
    assert "exact with --layers" not in flat(out) and "Peak range" not in out
    assert "not replayed" in flat(out) and "3.06 MiB" in out


def test_help_fits_80_columns() -> None:
    import os

    env = {**os.environ, "COLUMNS": "80"}
    probe = "from dlprep.cli import main; main(['memcalc', '--help'])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=env)
    assert "--lora-rank" in result.stdout and "--list-models" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
