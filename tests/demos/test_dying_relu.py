"""dying-relu: a too-large learning rate kills ReLU units; Leaky ReLU keeps them alive."""

from __future__ import annotations

import pytest

from dlprep.engine import Step, stream


@pytest.fixture(scope="module")
def events() -> list:
    return list(stream("dying-relu", device="cpu", seed=0))


def test_relu_units_die_leaky_units_live(events: list) -> None:
    result = events[-1]
    r, k = result.numbers["relu"], result.numbers["leaky_relu"]
    assert r["dead"] > 0.4 and r["dead"] > r["dead_at_init"] + 0.3
    assert k["dead"] < 0.05
    assert f"{r['dead']:.0%} of the ReLU hidden units are dead" in result.verdict
    alive = round(result.numbers["units"] * (1 - r["dead"]))
    assert f"leaving {alive} of 256 alive" in result.verdict
    # The verdict says whether the dead units cost accuracy, from the accuracies themselves.
    lower = k["val_accuracy"] - r["val_accuracy"] > 0.02
    assert ("accuracy is" in result.verdict) == lower


def test_dead_fraction_is_streamed_over_training(events: list) -> None:
    relu = [e.metrics["dead"] for e in events if isinstance(e, Step) and e.run == "relu"]
    assert len(relu) >= 15 and relu[-1] > 0.4 and min(relu) < relu[-1]


def test_same_seed_same_numbers() -> None:
    def numbers() -> dict:
        *_, result = stream("dying-relu", device="cpu", seed=1, steps=5)
        return result.numbers  # type: ignore[union-attr]

    assert numbers() == numbers()
