"""The notebook exporter speaks through the one string table (dlprep/study/strings.py);
tests/test_one_string_table.py keeps Korean literals out of the code."""

from __future__ import annotations

import re

import pytest

from dlprep.export.notebook import notebook
from dlprep.study.strings import t

HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_notebook_headings_and_control_text_in_the_chosen_language(lang: str) -> None:
    nb = notebook("vanishing-gradient", lang=lang)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    for key in ("nb_params", "nb_helpers", "nb_demo", "nb_run", "nb_plot", "nb_verdict"):
        assert t(key, lang) in text
    assert f"# {t('nb_title', lang)}: vanishing-gradient" in text
    assert bool(HANGUL.search(text.replace(t("claim", "ko"), ""))) == (lang == "ko")
