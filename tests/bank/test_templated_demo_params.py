"""A templated card's demo.params may use its variables: every draw is checked at load."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dlprep.bank import load_paths

CARD = textwrap.dedent('''\
    - id: t-saved
      topic: memory
      type: numeric
      difficulty: 2
      q: {en: "Batch {b}, width {h}: MB saved?", ko: "배치 {b}, 너비 {h}: 저장 MB는?"}
      template: {vars: {h: [256, 512], b: %s}, formula: "2 * b * h * 4 / 1000000"}
      unit: MB
      tolerance: {rel: 0.01}
      explain: {en: "Two tensors.", ko: "텐서 두 개."}
      refs: ["PyTorch docs: Autograd mechanics"]
      demo:
        name: gpu-memory
        params: {layers: "784,{h},{h},10", batch: "%s"}
    ''')


def load(tmp_path: Path, values: str, batch: str = "{b}"):
    path = tmp_path / "cards.yaml"
    path.write_text(CARD % (values, batch), encoding="utf-8")
    return load_paths([path])


def test_every_draw_in_range_loads_and_runs_its_own_values(tmp_path: Path) -> None:
    bank = load(tmp_path, "[64, 1024]")
    assert not bank.problems and bank.cards["t-saved"].demo is not None


def test_a_draw_out_of_the_demos_range_is_reported_with_its_values(tmp_path: Path) -> None:
    bank = load(tmp_path, "[64, 100000]")
    assert [str(p) for p in bank.errors] == [
        f"{tmp_path / 'cards.yaml'}:13: t-saved: demo.params.batch: batch: 100000 is above "
        "the maximum 65536 (at the draw h=256, b=100,000)"]
    assert "t-saved" not in bank.cards


def test_a_variable_the_template_lacks_is_an_error(tmp_path: Path) -> None:
    bank = load(tmp_path, "[64]", batch="{batch}")
    assert any(p.field == "demo" and "['batch']" in p.message for p in bank.errors)


def test_too_many_draws_to_check_is_an_error(tmp_path: Path) -> None:
    bank = load(tmp_path, str(list(range(1, 200))))  # 2 x 199 = 398 draws
    assert any(p.field == "demo.params" and "398 draws, more than the 256" in p.message
               for p in bank.errors)
