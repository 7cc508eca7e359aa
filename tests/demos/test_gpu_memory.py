"""gpu-memory: live bytes by component through real training steps, beside memcalc's estimate."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from dlprep.commands.demo import main
from dlprep.engine import DemoError, Result, Step, final_result, stream
from dlprep.engine.script import save_script
from dlprep.memcalc.config import Config
from dlprep.memcalc.measure import measure

run = partial(final_result, "gpu-memory", device="cpu", seed=0)
SMALL = {"layers": "784,256,256,10", "batch": 64}  # same phenomenon, a quarter of the time
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


@pytest.fixture(scope="module")
def events() -> list:
    return list(stream("gpu-memory", device="cpu", seed=0))


@pytest.fixture(scope="module")
def result(events: list) -> Result:
    assert isinstance(events[-1], Result)
    return events[-1]


def test_gradients_appear_in_backward_and_adams_state_at_the_first_step(result: Result) -> None:
    n = result.numbers
    weights = n["measured"]["weights"]
    assert weights == 669_706 * 4
    first = n["first_step"]
    assert first["forward"]["gradients"] == 0 and first["backward"]["gradients"] == weights
    assert first["forward"]["state"] == first["backward"]["state"] == 0
    # exp_avg and exp_avg_sq (2 x 4 B per weight) plus a 4-byte step counter per tensor
    assert first["step"]["state"] == 2 * weights + 6 * 4 == n["state_created_at_step_1"]
    assert first["forward"]["saved"] == 512 * (512 + 512 + 10) * 4 + 4
    assert first["backward"]["saved"] == 0  # backward releases every saved tensor
    assert n["effect"] is True and n["state_at_construction"] == 0
    assert "made 5.36 MB of state (exp_avg, exp_avg_sq: 2.00x the weights)" in result.verdict


def test_memcalc_estimate_equals_the_measurement_to_the_byte(result: Result) -> None:
    n = result.numbers
    assert n["max_abs_error"] == 0
    assert set(n["error"].values()) == {0} and set(n["phase_peak_errors"].values()) == {0}
    assert all(set(s["error"].values()) == {0} for s in n["sweep"])
    assert n["measured"]["peak"] == 15_003_876 and n["measured"]["peak_phase"] == "step"
    assert "error 0 B on every row and phase peak" in result.verdict
    # The demo's own tracker agrees with memcalc's measuring rig.
    ground = measure(Config(batch=512, layers=(784, 512, 512, 10)), "cpu")
    m = n["measured"]
    assert (m["weights"], m["gradients"], m["state"], m["saved"], m["peak"]) == (
        ground.weights, ground.gradients, ground.optimizer_state, ground.saved_activations,
        ground.peak)
    assert m["phase_peaks"] == ground.phase_peaks


def test_only_activations_and_inputs_grow_with_the_batch(result: Result) -> None:
    n = result.numbers
    assert [s["batch"] for s in n["sweep"]] == [512, 1024, 2048]
    assert n["grows_with_batch"] == ["inputs", "saved"] and n["linear"]
    assert n["fixed"] == ["weights", "gradients", "state"] and n["only_batch_parts_grow"]
    assert n["per_example"] == {"saved": (512 + 512 + 10) * 4, "inputs": 784 * 4 + 8}
    peaks = [s["measured"]["peak_phase"] for s in n["sweep"]]
    assert peaks == ["step", "backward", "backward"]  # the peak moves to backward
    # Saved activations are affine in the batch (4 B at batch 0), not proportional to it.
    assert n["offset"] == {"inputs": 0, "saved": 4}
    assert "grow in exact proportion" not in result.verdict
    assert "grow affinely: by the same bytes per added example, on top of a fixed 4 B of " \
        "saved activations there at any batch (so not in exact proportion)." in result.verdict
    assert "4,136 B per example" in result.verdict and "3,144 B per example" in result.verdict


def test_the_stream_shows_each_phase(events: list) -> None:
    steps = [e for e in events if isinstance(e, Step)]
    runs = list(dict.fromkeys(e.run for e in steps))
    assert runs[:5] == ["setup", "forward", "backward", "optimizer step", "memcalc estimate"]
    assert {"step 2", "step 3: batch 1024", "step 4: batch 2048"} <= set(runs)
    by_run = {run: [e for e in steps if e.run == run] for run in runs}
    forward = [e.metrics["live_MB"] for e in by_run["forward"]]
    assert max(forward) > forward[0] and forward[-1] > forward[0]  # memory rises
    assert all(e.metrics["grads_MB"] == 0 for e in by_run["forward"])
    assert by_run["backward"][-1].metrics["grads_MB"] > 0
    assert all(e.metrics["state_MB"] == 0 for e in by_run["backward"])
    assert by_run["optimizer step"][-1].metrics["state_MB"] == pytest.approx(5.357672)
    # Each estimate point sits on the measured curve at the same x (exact on CPU).
    measured = {e.step: e.metrics["live_MB"] for e in steps if e.run != "memcalc estimate"}
    estimates = by_run["memcalc estimate"]
    assert len(estimates) == 12
    assert all(measured[e.step] == e.metrics["live_MB"] for e in estimates)
    curve = [e for e in steps if e.run != "memcalc estimate"]
    assert [e.step for e in curve] == sorted(e.step for e in curve)
    assert all(e.metrics["temp_MB"] >= 0 for e in curve)


@pytest.mark.parametrize("seed", [0, 3])
def test_control_sgd_keeps_no_state_and_says_the_effect_is_gone(seed: int) -> None:
    for lang, gone in (("en", "so the effect Adam shows is gone"),
                       ("ko", "Adam에서 보이는 효과는 사라졌다")):
        result = run(seed=seed, params={**SMALL, "optimizer": "sgd"}, lang=lang)
        n = result.numbers
        assert n["effect"] is False and n["measured"]["state"] == 0
        assert all(part["state"] == 0 for part in n["first_step"].values())
        assert n["fixed"] == ["weights", "gradients"] and n["max_abs_error"] == 0
        assert gone in result.verdict and "created 0" not in result.verdict


def test_batch_one_makes_activations_vanish_next_to_the_weights() -> None:
    n = run(params={"batch": 1}).numbers
    assert n["measured"]["saved"] == (512 + 512 + 10) * 4 + 4
    assert n["measured"]["saved"] < n["measured"]["weights"] / 500
    assert n["max_abs_error"] == 0 and n["only_batch_parts_grow"]


def test_same_bytes_for_every_seed_and_for_more_steps() -> None:
    a, b = run(params=SMALL).numbers, run(seed=3, params=SMALL).numbers
    assert a == b
    longer = run(params=SMALL, steps=4).numbers
    assert longer["measured"] == a["measured"] and longer["max_abs_error"] == 0
    assert set(longer["phase_peak_errors"]) >= {"3/forward", "4/step"}


@pytest.mark.parametrize("params", [
    {},
    {"optimizer": "sgd"},
    {"optimizer": "adagrad", "batch": 8},
    {"dtype": "bf16-master", "batch": 3},
    {"checkpointing": True, "activation": "gelu", "batch": 16},
])
def test_korean_verdict_states_every_number_of_the_english(params: dict) -> None:
    en = run(params={**SMALL, **params}).verdict
    ko = run(params={**SMALL, **params}, lang="ko").verdict
    assert sorted(NUMBER.findall(en)) == sorted(NUMBER.findall(ko))
    assert re.search("[가-힣]", ko) and not re.search("[가-힣]", en)


def test_adagrad_state_exists_before_the_first_step() -> None:
    result = run(params={**SMALL, "optimizer": "adagrad"})
    n = result.numbers
    weights = n["measured"]["weights"]
    assert n["state_at_construction"] == n["measured"]["state"] == weights + 6 * 4  # sum, step
    assert n["state_created_at_step_1"] == 0 and n["effect"] and n["max_abs_error"] == 0
    assert "made when it is constructed" in result.verdict


def test_master_weights_row_is_measured_and_named() -> None:
    result = run(params={**SMALL, "dtype": "bf16-master"})
    m = result.numbers["measured"]
    assert m["masters"] == 2 * m["weights"] and result.numbers["max_abs_error"] == 0
    assert "fp32 master weights" in result.verdict


def test_an_estimate_error_is_reported_not_hidden() -> None:
    from dlprep.engine.loader import load_demo
    from dlprep.registry import registry

    module = load_demo(registry()["gpu-memory"].path)
    numbers = run(params=SMALL).numbers
    numbers["sweep"][1]["error"]["peak"] = -1536
    text = module.verdict(numbers)
    assert "off by at most 1,536 B" in text and "peak at batch 128" in text
    assert "최대 오차 1,536 B" in module.verdict(numbers, "ko")


@pytest.mark.parametrize(("params", "steps", "message"), [
    ({"layers": "784,,10"}, None, "layers must be positive widths like 784,512,10"),
    ({"layers": "784,-5,10"}, None, "got .784,-5,10."),
    ({"layers": "784,100000,100000,10"}, None, "the demo stops at 2 GB"),
    ({"layers": "784,10", "checkpointing": True}, None, "checkpointing recomputes hidden"),
    ({}, 1, "needs --steps 2 or more"),
])
def test_bad_settings_are_one_clear_error(params: dict, steps: int | None, message: str) -> None:
    with pytest.raises(DemoError, match=message):
        list(stream("gpu-memory", device="cpu", params=params, steps=steps))


def test_cli_bad_layers_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gpu-memory", "--plain", "--device", "cpu", "--set", "layers=784,x,10"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("Error: gpu-memory: layers must be positive widths")


def test_cli_one_step_is_refused_in_one_line_before_torch_is_imported() -> None:
    """The second step is the warmed-up one memcalc sizes: --steps 1 is refused by the
    request check (META min_steps), not inside run() after torch is loaded."""
    probe = ("import sys\nfrom dlprep.commands.demo import main\n"
             "code = main(['gpu-memory', '--plain', '--device', 'cpu', '--steps', '1'])\n"
             "print(code, 'torch' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=False)
    assert ran.stdout.split() == ["2", "False"], ran.stdout + ran.stderr
    assert ran.stderr.count("\n") == 1 and "Traceback" not in ran.stderr, ran.stderr
    assert ran.stderr.startswith("Error: gpu-memory needs --steps 2 or more"), ran.stderr


def test_saved_script_says_it_needs_dlprep_and_runs(tmp_path: Path) -> None:
    path = save_script(tmp_path / "saved.py", "gpu-memory", {"batch": 8}, device="cpu")
    text = path.read_text(encoding="utf-8")
    assert "needs torch and dlprep" in text.splitlines()[1]
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert "error 0 B on every row and phase peak" in done.stdout
    other = save_script(tmp_path / "other.py", "linear-collapse", device="cpu")
    assert "needs only torch" in other.read_text(encoding="utf-8").splitlines()[1]


def test_cuda_sentence_names_what_lies_outside_the_allocator_in_both_languages() -> None:
    """The CUDA path itself is unverified (no GPU here); its verdict sentence is checked."""
    from dlprep.engine.loader import load_demo
    from dlprep.registry import registry

    module = load_demo(registry()["gpu-memory"].path)
    numbers = dict(run(params=SMALL).numbers)
    numbers["cuda"] = {"reserved": 20_971_520, "outside_allocator": 523_239_424}
    en, ko = module.verdict(numbers), module.verdict(numbers, "ko")
    assert "torch.cuda.max_memory_allocated" in en and "523.24 MB in use outside" in en
    assert "CUDA 컨텍스트" in ko and "523.24 MB" in ko
    assert sorted(NUMBER.findall(en)) == sorted(NUMBER.findall(ko))
