"""The CLI live view: per-layer bars, log scales with compact labels, divergence marks,
and the claim and whole verdict on an 80x24 screen (fake streams, no torch)."""

from __future__ import annotations

import math

import pytest
from rich.console import Console

from dlprep.engine.live import LiveView, bars, compact
from dlprep.engine.records import Result, Step

CLAIM = ("In a deep sigmoid MLP the first layer's gradient is orders of magnitude smaller "
         "than the last layer's, so it learns far less than a ReLU MLP with He init.")
LAYERS = {"prefix": "grad_norm/", "label": "weight-gradient norm per layer",
          "label_ko": "층별 가중치 기울기 노름", "verdict": "init"}  # as vanishing-gradient
VERDICT = " ".join(f"Sentence {i} of a long verdict with the number {i}.{i}e-0{i}."
                   for i in range(1, 12)) + " The last sentence of the verdict."


@pytest.mark.parametrize(("value", "text"), [
    (15461467136.0, "1.5e10"), (0.00064, "0.00064"), (2.8e-9, "2.8e-9"), (42.0, "42"),
    (math.inf, "inf"), (math.nan, "nan"), (-1.5e-12, "-1.5e-12"),
])
def test_compact_labels(value: float, text: str) -> None:
    assert compact(value) == text


def step(run: str, number: int, norms: list[float], loss: float = 0.5) -> Step:
    metrics = {"loss": loss, **{f"grad_norm/{i + 1}": v for i, v in enumerate(norms)}}
    return Step(number, 300, run, metrics, 0.5)


def screen(view: LiveView) -> list[str]:
    out = Console(width=80, height=24, record=True, color_system=None, force_terminal=True)
    out.print(view.render())
    return out.export_text().rstrip("\n").split("\n")


def view_at_80x24(lang: str = "en") -> LiveView:
    console = Console(width=80, height=24, color_system=None, force_terminal=True)
    return LiveView("vanishing-gradient", CLAIM, "loss", console=console, lang=lang,
                    layers=LAYERS)


def test_bars_use_a_log_scale_when_layers_span_decades_and_mark_nan() -> None:
    text = bars([("deep", step("deep", 40, [1e-8, 1e-5, 1e-2]), [1e-8, 1e-5, 1e-2]),
                 ("blown", step("blown", 2, [math.nan, 3.0, 1.0]), [math.nan, 3.0, 1.0])],
                "norms", 80, 7).plain
    title, *rows, names = text.split("\n")
    assert "log scale, 1e-8..3" in title and "at steps 2-40, each run's own" in title
    assert rows[0].count("!") == 2 and all("│" in row for row in rows[1:])  # NaN: red column
    assert names.startswith("deep@40") and "blown@2" in names
    first = [("a", step("a", 1, [1.0, 2.0]), [1.0, 2.0])]
    # step 1 is "at init" only for a demo that says its first record is the nets at init
    assert "norms · at step 1 · linear scale, 0..2" in bars(first, "norms", 80, 6).plain
    assert "at init (step 1) · linear" in bars(first, "norms", 80, 6, at_init=True).plain
    last = [("a", step("a", 300, [1.0, 2.0]), [1.0, 2.0])]
    assert "norms · at the end (step 300) ·" in bars(last, "norms", 80, 6, at_init=True).plain


def test_claim_and_whole_verdict_stay_on_an_80x24_screen() -> None:
    view = view_at_80x24()
    for number in (1, 150, 300):
        for run in ("sigmoid-2L", "sigmoid-10L", "relu+he-10L"):
            view(step(run, number, [10.0 ** -k for k in range(11)], loss=1 / number))
    running = screen(view)
    assert len(running) <= 23 and running[0].startswith("vanishing-gradient  In a deep")
    assert any("log scale" in line for line in running)  # bars while it runs
    assert any("sigmoid-10L" in line and "300/300" in line for line in running)  # table
    view(Result("vanishing-gradient", VERDICT, {}, "cpu", 0, 3.2))
    done = screen(view)
    assert len(done) <= 23, "\n".join(done)
    assert done[0].startswith("vanishing-gradient  In a deep")
    text = " ".join(line.strip("│ ") for line in done)
    assert "Sentence 1 of" in text and "The last sentence of the verdict." in text
    assert any("at init (step 1)" in line for line in done)  # bars of the moment verdicts cite


def test_divergence_is_marked_in_the_table_and_chart() -> None:
    view = view_at_80x24()
    view(step("unclipped", 1, [5.0, 2.0, 1.0], loss=3e4))
    view(step("unclipped", 2, [math.inf, math.nan, 1.0], loss=math.inf))
    for number in (1, 100, 200):
        view(step("clipped", number, [5.0, 2.0, 1.0], loss=3e4 / number ** 2))
    lines = screen(view)
    assert any("✗ diverged at step 2" in line for line in lines)
    assert any("unclipped ✗2" in line for line in lines)  # chart legend
    assert any("(log scale)" in line for line in lines)  # the loss spans 4 decades
    assert not any("30000.0" in line for line in lines)


def test_korean_bar_title() -> None:
    view = view_at_80x24("ko")
    view(step("a", 1, [1.0, 100.0]))
    assert any("층별 가중치 기울기 노름 · 초기화 시점(1스텝) · 로그 척도" in line
               for line in screen(view))


@pytest.mark.parametrize(("layers", "when", "top"), [
    ({"prefix": "stuck/", "label": "stuck per layer"}, "at the end (step 300)", "0.9"),
    ({"prefix": "stuck/", "label": "stuck per layer", "verdict": "init"}, "at init (step 1)",
     "0.3"),
])
def test_a_finished_run_shows_the_bars_its_verdict_speaks_of(layers: dict[str, str], when: str,
                                                             top: str) -> None:
    """dying-relu's verdict is about the nets at the end, vanishing-gradient's at init: the
    finished view shows that record's bars, titled with its step."""
    console = Console(width=80, height=24, color_system=None, force_terminal=True)
    view = LiveView("dying-relu", CLAIM, "loss", console=console, layers=layers)
    for number, share in ((1, 0.1), (150, 0.5), (300, 0.3)):
        metrics = {"loss": 1 / number, "stuck/1": share, "stuck/2": share * 3}
        view(Step(number, 300, "relu", metrics, number / 300))
        if number == 150:  # while it runs: the latest record
            assert any("stuck per layer · at step 150 ·" in line for line in screen(view))
    view(Result("dying-relu", VERDICT, {}, "cpu", 0, 3.2))
    title = next(line for line in screen(view) if "stuck per layer ·" in line)
    assert f"· {when} · linear scale, 0..{top}" in title, title
    ko = LiveView("dying-relu", CLAIM, "loss", console=console, lang="ko", layers=layers)
    for event in (Step(1, 300, "relu", {"loss": 1.0, "stuck/1": 0.1}, 0.0),
                  Step(300, 300, "relu", {"loss": 0.5, "stuck/1": 0.3}, 1.0),
                  Result("dying-relu", VERDICT, {}, "cpu", 0, 3.2)):
        ko(event)
    moment = "초기화 시점(1스텝)" if "verdict" in layers else "실행 끝(300스텝)"
    assert any(moment in line for line in screen(ko))
