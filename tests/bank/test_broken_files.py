"""Each file in broken/ states on its first line the one problem it must produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlprep.bank import load_paths
from dlprep.bank.loader import display_path

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))


def _expectation(path: Path) -> tuple[int, str, str, str]:
    header = path.read_text(encoding="utf-8").splitlines()[0]
    line, card_id, rest = header.removeprefix("# expect: ").split(" ", 2)
    field, message = rest.split(": ", 1)
    return int(line), card_id, field, message


def test_there_are_enough_broken_files() -> None:
    assert len(BROKEN) >= 20


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_reports_exact_location(path: Path) -> None:
    line, card_id, field, message = _expectation(path)
    bank = load_paths([path])
    assert bank.cards == {}, "a broken card must not load"
    errors = bank.errors
    assert errors, "expected a problem"
    first = errors[0]
    assert (first.file, first.line, first.card_id, first.field) == (
        display_path(path),
        line,
        card_id,
        field,
    ), str(first)
    assert first.message.startswith(message), str(first)
    assert str(first).startswith(f"{display_path(path)}:{line}: {card_id}: {field}: ")


def test_every_problem_is_reported_and_valid_cards_still_load(tmp_path: Path) -> None:
    good = (Path(__file__).parent / "builtin-fixture" / "cards.yaml").read_text(encoding="utf-8")
    bad = "".join(
        p.read_text(encoding="utf-8").split("\n", 1)[1]
        for p in BROKEN
        if p.stem.startswith(("missing-", "template-", "mcq-", "bad-"))
    )
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(good + bad, encoding="utf-8")
    bank = load_paths([mixed])
    assert set(bank.cards) == {"good-mcq", "good-template", "good-order"}
    wanted = {
        "no-korean", "no-korean-explain", "no-refs", "attr-formula", "call-formula",
        "pow-formula", "undefined-var", "div-zero", "mcq-card", "hard-card", "Bad_ID",
    }
    assert wanted <= {p.card_id for p in bank.errors}
    assert [p.line for p in bank.problems] == sorted(p.line for p in bank.problems)
