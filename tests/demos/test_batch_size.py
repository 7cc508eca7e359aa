"""batch-size: batch 1 is the noisiest and slowest per epoch; lr follows the linear rule."""

from __future__ import annotations

from functools import partial

import pytest

from dlprep.engine import Result, final_result

# Each test may override the request, e.g. run(seed=1) or run(steps=3).
run = partial(final_result, "batch-size", device="cpu", seed=0)


@pytest.fixture(scope="module")
def result() -> Result:
    return run()  # 5 epochs of 512 examples


def test_smaller_batches_give_noisier_loss_curves(result: Result) -> None:
    runs = result.numbers["runs"]
    noise = [runs[k]["noise"] for k in ("batch 1", "batch 8", "batch 64", "full")]
    assert noise == sorted(noise, reverse=True)
    assert noise[0] > 10 * noise[-1]


def test_batch_one_epochs_take_far_longer(result: Result) -> None:
    runs = result.numbers["runs"]
    assert [runs[k]["updates_per_epoch"] for k in runs] == [512, 64, 8, 1]
    # ~200-400x measured; the CPU is shared, so only a generous ratio is asserted.
    assert runs["batch 1"]["ms_per_epoch"] > 5 * runs["full"]["ms_per_epoch"]


def test_linear_scaling_rule_and_accuracy(result: Result) -> None:
    runs = result.numbers["runs"]
    for r in runs.values():
        assert r["lr"] == pytest.approx(0.1 * r["batch_size"] / 64)
    assert runs["batch 1"]["test_accuracy"] >= 0.9
    assert runs["full"]["test_accuracy"] < runs["batch 1"]["test_accuracy"]
    assert "linear scaling rule lr = 0.1 * B / 64" in result.verdict
    assert "512 -> 0.8" in result.verdict and "broke down" not in result.verdict


def test_same_seed_same_curves() -> None:
    def curves(r: Result) -> list:
        return [(k, v["noise"], v["train_loss"]) for k, v in r.numbers["runs"].items()]

    assert curves(run(steps=1, params={"num_train": 64})) == curves(
        run(steps=1, params={"num_train": 64}))


def test_too_large_scaled_rate_is_flagged_in_korean() -> None:
    result = run(steps=3, params={"num_train": 64, "base_lr": 5.0}, lang="ko")
    full = result.numbers["runs"]["full"]
    assert full["lr"] == 5.0 and not full["train_loss"] <= full["start_loss"]
    assert "선형 스케일링 규칙이 깨졌습니다" in result.verdict
