"""Korean text lives in the one string table (dlprep/study/strings.py), not in the code."""

from __future__ import annotations

import re
from pathlib import Path

import dlprep

HANGUL = re.compile("[\uac00-\ud7a3]+")
ROOT = Path(dlprep.__file__).parent
ALLOWED = {
    "study/strings.py",  # the table itself
    "bank/topics.py",  # the topic map's titles: a table of its own, per topic
    "study/units.py",  # words a learner may type ("4 바이트"), read, never shown
    "study/grading.py",  # likewise: "참", "아니요" typed as a true/false answer
    "registry.py",  # the META example in the docstring
    "tui/home.py",  # the language key's label, "한국어/English", the same in both languages
}


def test_no_korean_literal_outside_the_string_table() -> None:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        words = HANGUL.findall(path.read_text(encoding="utf-8"))
        if words and name not in ALLOWED:
            found[name] = words
    assert not found, found
