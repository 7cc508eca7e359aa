"""The demo panel's drawing helpers: compact labels, log scale, visible divergence."""

from __future__ import annotations

import io
import math

import pytest
from rich.console import Console

from dlprep.tui.charts import (
    compact,
    layer_bars,
    legend,
    step_ticks,
    style_of,
    ticks,
    wants_log,
)


def _plain(renderable) -> str:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(renderable)
    return out.getvalue()


def test_compact_labels() -> None:
    assert compact(15461467136.0) == "1.5e10"
    assert compact(3e-05) == "3e-5" and compact(1e-4) == "1e-4"
    assert compact(0.25) == "0.25" and compact(120) == "120" and compact(0) == "0"
    assert compact(math.inf) == "inf" and compact(math.nan) == "nan"
    # one style across the axis: 1e6, 1e3, 1, not 1e6, 1e+03, 1
    assert compact(1000) == "1e3" and compact(9999) == "1e4" and compact(1e6) == "1e6"
    assert compact(999) == "999" and compact(-1000) == "-1e3"


def test_step_ticks_are_whole_round_steps() -> None:
    assert step_ticks(1, 200) == [1, 50, 100, 150, 200]
    assert step_ticks(1, 100) == [1, 50, 100] and step_ticks(0, 12) == [0, 5, 10]
    assert step_ticks(3, 3) == [3] and step_ticks(1, 3) == [1, 2, 3]
    for first, last in ((1, 7), (1, 195), (0, 1000), (5, 37), (1, 2)):
        marks = step_ticks(first, last)
        assert marks[0] == first and marks[-1] <= last and marks == sorted(set(marks))
        assert all(isinstance(m, int) for m in marks) and 2 <= len(marks) <= 7


def test_log_scale_only_when_positive_values_span_more_than_10x() -> None:
    assert wants_log([1e-5, 1e-1]) and not wants_log([0.2, 1.0])
    assert not wants_log([0.0, 100.0]) and not wants_log([math.nan])
    assert ticks(1e-5, 1e-1, log=True)[0] == 1e-5
    assert ticks(0.0, 1.0, log=False) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_row_ticks_land_on_rows_evenly_spaced_in_value() -> None:
    from dlprep.tui.charts import row_ticks

    # four rows: three intervals, so three steps of a linear axis (not four)
    assert row_ticks(0.0, 0.9, False, 4) == pytest.approx([0.0, 0.3, 0.6, 0.9])
    assert row_ticks(0.0, 1.0, False, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert row_ticks(0.0, 1.0, False, 1) == [0.0, 0.25, 0.5, 0.75, 1.0]  # rows unknown
    # two decades on three intervals: the axis is stretched to three whole decades
    assert row_ticks(0.018, 0.91, True, 4) == [0.01, 0.1, 1.0, 10.0]
    # nine decades on three intervals: one tick every three decades
    assert row_ticks(2e-9, 0.5, True, 4) == pytest.approx([1e-9, 1e-6, 1e-3, 1.0])


def test_layer_bars_mark_non_finite_values_and_use_log_scale() -> None:
    text = _plain(layer_bars({"sigmoid": [1e-6, 1e-3, 1.0], "relu": [0.5, 0.6, math.inf]},
                             "gradient norm per layer", "at step 40", 6, "en"))
    lines = text.splitlines()
    assert lines[0] == "at step 40: gradient norm per layer (log)"
    assert lines[1].startswith("   1 ┤") and lines[6].startswith("1e-6 ┤")
    assert "✗" in lines[1]  # the diverged layer is marked at the top, not left empty
    assert lines[-1].split() == ["1", "2", "3"]
    # demos' labels say "per layer" themselves, so the heading does not say it twice
    korean = _plain(layer_bars({"a": [1.0, 2.0]}, "층별 기울기 노름", "40스텝 시점", 4,
                               "ko")).splitlines()
    assert korean[0] == "40스텝 시점의 층별 기울기 노름"  # 2x apart: a linear scale


def test_legend_keeps_many_series_apart_and_says_which_diverged() -> None:
    styles = {style_of(i)[:2] for i in range(16)}
    assert len(styles) == 16  # colour and marker together stay distinct
    text = _plain(legend(["a", "b"], {"b": 12}, "en"))
    assert "a" in text and "b ✗ not finite @12" in text


def test_deep_layer_bars_fit_their_width_with_every_layer_shown() -> None:
    values = {"unclipped": [float(i + 1) for i in range(12)], "clipped": [2.0] * 12}
    roomy = _plain(layer_bars(values, "norm", "at step 1", 4, "en", width=60)).splitlines()
    assert roomy[-1].split()[-1] == "12" and "█ " in roomy[-2]  # a gap between layers
    narrow = _plain(layer_bars(values, "norm", "at step 1", 4, "en", width=30)).splitlines()
    assert all(len(line.rstrip()) <= 30 for line in narrow[1:])
    assert narrow[-2].rstrip().endswith("▁" + "█" * 23)  # 12 layers x 2 runs, no gaps
    numbers = narrow[-1].split()
    assert numbers[0] == "1" and numbers[-1] == "12" and "1011" not in narrow[-1]


def test_parameter_ranges_read_as_typed() -> None:
    from dlprep.registry import ParamSpec
    from dlprep.tui.charts import param_range

    assert param_range(ParamSpec("batch", 32, min=1, max=65536)) == "1–65536"
    assert param_range(ParamSpec("lr", 0.1, min=1e-4, max=10)) == "1e-4–10"
    assert param_range(ParamSpec("bug", "none", choices=("none", "sign"))) == "none, sign"
    assert param_range(ParamSpec("layers", "784,10")) == ""
    assert param_range(ParamSpec("depth", 4, min=2)) == "2–"
