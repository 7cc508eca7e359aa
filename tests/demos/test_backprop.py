"""backprop: hand-written chain rule = autograd = finite differences; a planted bug is found."""

from __future__ import annotations

import re
from functools import partial

import pytest

from dlprep.engine import Result, Step, final_result, stream

run = partial(final_result, "backprop", device="cpu")


def numbers_in(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?", text))


@pytest.fixture(scope="module", params=[0, 1])
def default(request: pytest.FixtureRequest) -> Result:
    return run(seed=request.param)


@pytest.fixture(scope="module", params=[0, 1])
def control(request: pytest.FixtureRequest) -> Result:
    return run(seed=request.param, params={"bug": "relu_grad"})


def test_three_ways_agree_in_float64(default: Result) -> None:
    n = default.numbers
    assert n["effect"] is True and n["first_bad"] is None
    assert n["max_hand_vs_autograd"] < 1e-12  # the same maths, only rounding differs
    assert 1e-13 < n["max_hand_vs_numeric"] < 1e-6  # central differences: ~1e-9
    assert n["worst_during_training"] < 1e-12
    assert n["loss_end"] < n["loss_start"] / 10
    assert "All 7 nodes agree" in default.verdict and "fell" in default.verdict
    assert f"{n['max_hand_vs_numeric']:.1e}" in default.verdict


def test_wrong_relu_derivative_fails_at_the_relu_node(control: Result) -> None:
    n = control.numbers
    assert n["effect"] is False and n["first_bad"] == "dL/dh"
    assert n["bad"] == ["dL/dh", "dL/dW1", "dL/db1"]
    above = [x for x in n["nodes"] if x["node"] in ("dL/dz", "dL/dW2", "dL/db2", "dL/da")]
    assert all(x["hand_vs_autograd"] < 1e-12 for x in above)
    assert "FAILED" in control.verdict and "is dL/dh (a = relu(h))" in control.verdict
    assert n["max_autograd_vs_numeric"] < 1e-6  # the reference methods still agree


def test_other_bugs_are_located() -> None:
    assert run(seed=0, steps=3, params={"bug": "no_mean"}).numbers["first_bad"] == "dL/dz"
    bias = run(seed=0, steps=3, params={"bug": "bias_mean"}).numbers
    assert bias["bad"] == ["dL/db2", "dL/db1"]


def test_a_bias_bug_is_not_said_to_break_everything_below_it() -> None:
    """bug=bias_mean: only dL/db2 and dL/db1 fail; dL/da, dL/dh and dL/dW1 (below dL/db2 in
    backward order) still agree, so "from that node down" was false."""
    result = run(seed=0, steps=3, params={"bug": "bias_mean"})
    assert "dL/db1 fails on its own local step, not through dL/db2" in result.verdict
    assert "no gradient is computed from dL/db2" in result.verdict
    assert "Exactly" not in result.verdict
    relu = run(seed=0, steps=3, params={"bug": "relu_grad"}).verdict
    assert "Exactly dL/dh and the 2 gradients computed from it fail" in relu


def test_step_through_yields_one_record_per_node() -> None:
    events = list(stream("backprop", device="cpu", seed=0, steps=5))
    nodes = [e for e in events if isinstance(e, Step) and e.run == "backward"]
    assert [e.step for e in nodes] == list(range(1, 8))
    assert all("upstream_norm" in e.metrics and "hand_vs_numeric" in e.metrics for e in nodes)
    sgd = [e for e in events if isinstance(e, Step) and e.run == "sgd"]
    assert {"rel_err/1", "rel_err/2"} <= set(sgd[-1].metrics)


def test_zero_lr_says_the_loss_stayed() -> None:
    result = run(seed=0, steps=20, params={"lr": 0})
    assert "left the loss at" in result.verdict and "fell" not in result.verdict
    assert result.numbers["loss_start"] == result.numbers["loss_end"]


def test_bug_without_inactive_units_is_reported_as_harmless() -> None:
    # One hidden unit that is active on every example: forgetting relu' changes nothing.
    for seed in range(30):
        result = run(seed=seed, steps=2, params={"bug": "relu_grad", "num_hiddens": 1})
        if result.numbers["inactive"] == 0:
            assert result.numbers["effect"] is True
            assert "changed nothing here" in result.verdict
            return
    pytest.skip("no seed with an always-active unit")


@pytest.mark.parametrize("params", [{}, {"bug": "relu_grad"}, {"lr": 0}, {"bug": "no_mean"}])
def test_korean_verdict_has_the_same_numbers(params: dict) -> None:
    en = run(seed=0, steps=10, params=params)
    ko = run(seed=0, steps=10, params=params, lang="ko")
    assert numbers_in(en.verdict) == numbers_in(ko.verdict)
    assert not any(word in ko.verdict for word in ("first node", "agree", "loss", "steps"))


def _pages(result: Result, lang: str = "en") -> list[str]:
    from dlprep.engine.loader import load_demo
    from dlprep.registry import registry

    return load_demo(registry()["backprop"].path).step_through(dict(result.numbers), lang)


def test_step_through_pages_show_each_node_and_where_the_bug_is(default: Result,
                                                                 control: Result) -> None:
    pages = _pages(default)
    assert [p.split()[1] for p in pages] == [f"{i}/7:" for i in range(1, 8)]
    assert all(p.rstrip().endswith(": agree") for p in pages)
    assert "chain rule: dL/dh = dL/da * relu'(h)" in pages[4]
    broken = _pages(control)  # relu_grad: wrong from dL/dh down, right above it
    assert [p.rstrip().endswith("MISMATCH") for p in broken] == [False] * 4 + [True] * 3
    for english, korean in zip(pages, _pages(default, "ko"), strict=True):
        assert numbers_in(english) == numbers_in(korean) and "노드" in korean


def test_cli_step_pages_without_a_terminal_and_refuses_demos_without_a_view() -> None:
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dlprep", "demo", *args],
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)

    done = cli("backprop", "--step", "--plain", "--steps", "5")
    assert done.returncode == 0, done.stderr
    assert [line.split()[1] for line in done.stdout.splitlines()
            if line.startswith("node ")] == [f"{i}/7:" for i in range(1, 8)]
    for args, message in [(["linear-collapse", "--step"], "has no step-through view"),
                          (["backprop", "--step", "--json"], "does not go with --json")]:
        done = cli(*args)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_one_step_is_an_update_not_a_loss_left_where_it_was() -> None:
    """--steps 1 makes one SGD update, so the loss changes; the verdict used to say that
    one step 'left the loss at' its start."""
    result = run(seed=0, steps=1)
    n = result.numbers
    assert n["loss_end"] < n["loss_start"]
    assert "1 SGD step on the hand gradients: the loss fell from" in result.verdict
    assert "left the loss at" not in result.verdict


def test_the_bias_bug_sentences_are_the_ones_its_records_support() -> None:
    """bias_mean: dL/db2 fails first with nothing computed from it, dL/db1 fails on its own;
    each sentence is a statement whose predicate the run's node records decide."""
    from dlprep.engine.loader import load_demo
    from dlprep.registry import registry

    module = load_demo(registry()["backprop"].path)
    n = run(seed=0, steps=3, params={"bug": "bias_mean"}).numbers
    said = [s.name for s in module.statements(n) if s.holds]
    assert said[:6] == ["failed", "first-bad", "above-agree", "alone", "no-descendants",
                        "refs-agree"]
    assert "exactly" not in said and "only-first" not in said
