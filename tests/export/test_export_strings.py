"""The exporters say everything through the one string table (dlprep/study/strings.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dlprep.export
from dlprep.export.notebook import notebook
from dlprep.study.strings import t

HANGUL = re.compile("[\uac00-\ud7a3]")


def test_no_korean_literal_in_the_exporters() -> None:
    folder = Path(dlprep.export.__file__).parent
    found = {p.name: HANGUL.findall(p.read_text(encoding="utf-8")) for p in folder.glob("*.py")}
    assert not any(found.values()), found


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_notebook_headings_and_control_text_in_the_chosen_language(lang: str) -> None:
    nb = notebook("vanishing-gradient", lang=lang)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    for key in ("nb_params", "nb_helpers", "nb_demo", "nb_run", "nb_plot", "nb_verdict"):
        assert t(key, lang) in text
    assert f"# {t('nb_title', lang)}: vanishing-gradient" in text
    assert bool(HANGUL.search(text.replace(t("claim", "ko"), ""))) == (lang == "ko")
