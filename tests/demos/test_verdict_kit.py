"""The verdict kit (demos/_verdict.py): each comparison word has one definition, checked at
its edges; statements print only when their predicate holds; causes need their arm."""

from __future__ import annotations

import math

from dlprep.engine.loader import load_helper
from dlprep.paths import demos_dir

V = load_helper("_verdict", demos_dir())


def test_about_level_is_over_the_whole_stack_not_the_ends() -> None:
    assert V.about_level([1.0, 1.5, 2.0])
    assert not V.about_level([1.0, 5.0, 1.0])  # ends equal, middle 5x: not level
    assert not V.about_level([1.0, 0.0]) and not V.about_level([1.0, math.nan])
    assert not V.about_level([])


def test_grew_shrank_and_level_exclude_each_other() -> None:
    for stack in ([1.0, 3.0], [3.0, 1.0], [1.0, 1.9], [1.0, 9.0, 1.0], [0.0, 1.0]):
        kinds = [V.about_level(stack), V.grew(stack[0], stack[-1]),
                 V.shrank(stack[0], stack[-1])]
        assert sum(kinds) <= 1, stack
    assert V.trend([1.0, 3.0]) == "grew" and V.trend([3.0, 1.0]) == "shrank"
    assert V.trend([1.0, 1.9]) == "level" and V.trend([1.0, 9.0, 1.0]) == "uneven"
    assert V.grew(1.0, math.inf) and not V.grew(1.0, math.nan)


def test_spiked_looks_at_the_whole_run() -> None:
    assert V.spiked([1.0, 0.9, 0.8] + [0.5] * 30 + [1.3])  # late, outside any early window
    assert not V.spiked([1.0, 1.2, 0.5])
    assert V.spiked([1.0, math.inf])


def test_same_outputs_is_relative_to_their_magnitude() -> None:
    assert V.same_outputs(1e15, 1e21)  # float32 rounding of outputs near 1e21
    assert not V.same_outputs(0.01, 1.0)
    assert V.same_outputs(0.0, 0.0) and not V.same_outputs(1e-9, 0.0)
    assert not V.same_outputs(math.nan, 1.0)


def test_learned_killed_and_close_have_their_margins() -> None:
    assert V.learned(0.61, 0.5) and not V.learned(0.59, 0.5)
    assert V.learned_loss(0.5, 1.0) and not V.learned_loss(0.95, 1.0)
    assert not V.learned_loss(math.nan, 1.0)
    assert V.killed(0.1, 0.3) and not V.killed(0.1, 0.29)
    assert V.about_equal(0.5, 0.54) and not V.about_equal(0.5, 0.56)
    assert V.nearly_uniform([0.2, 0.25, 0.3]) and not V.nearly_uniform([0.0, 0.5])


def test_render_prints_only_statements_that_hold_in_either_language() -> None:
    said = [V.Statement("a", "A is.", "A다.", True), V.Statement("b", "B is.", "B다.", False),
            V.Statement("c", "C is.", "C다.")]
    assert V.render(said) == "A is. C is." and V.render(said, "ko") == "A다. C다."
    assert [s.name for s in V.printed(said)] == ["a", "c"]


def test_a_cause_is_named_only_when_the_run_varies_it() -> None:
    assert not V.causal("lr", ["clip"], "blame-lr", "lr did it.", "학습률 탓.").holds
    assert V.causal("lr", ["lr", "clip"], "blame-lr", "lr did it.", "학습률 탓.").holds
    assert not V.causal("lr", ["lr"], "blame-lr", "x", "y", holds=False).holds


def test_the_worst_layer_is_named_when_it_differs_in_kind() -> None:
    dead = V.worst_layer("dead", [0.2, 1.0, 0.1], "dead", "죽음")
    assert dead.holds and dead.en.startswith("Layer 2 is 100% dead") and "2번째 층" in dead.ko
    assert not V.worst_layer("dead", [0.2, 0.99], "dead", "죽음").holds
    assert V.dead_layers([1.0, 0.5, 1.0]) == [1, 3]
    odd = V.worst_gradient("grad", [1.0, 0.0, math.inf, math.nan], "|dL/dW|", "|dL/dW|")
    assert odd.holds and V.broken_layers([1.0, 0.0, math.inf, math.nan]) == [
        (2, "0"), (3, "inf"), (4, "NaN")]
    assert "layer 3: |dL/dW| = inf" in odd.en
    assert not V.worst_gradient("grad", [1.0, 2.0], "g", "g").holds


def test_lowest_never_names_an_inf_or_nan_value() -> None:
    assert V.lowest({"a": math.nan, "b": 2.0, "c": 1.0, "d": math.inf}) == (["c"], 1.0)
    assert V.lowest({"a": 1.0, "b": 1.004, "c": 1.2}, 0.005) == (["a", "b"], 1.0)
    names, low = V.lowest({"a": math.inf, "b": math.nan})
    assert names == [] and math.isnan(low)
