"""User banks merge with the built-in bank; built-in ids need `override: true`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlprep.bank import BankPathError, load_bank, load_paths

FIXTURE = Path(__file__).parent / "builtin-fixture"


def card(card_id: str, *, override: bool = False, question: str = "Is it?") -> str:
    extra = "  override: true\n" if override else ""
    return f"""- id: {card_id}
  topic: memory
  type: truefalse
  difficulty: 1
  q: {{en: "{question}", ko: "그런가?"}}
  explain: {{en: "Yes.", ko: "그렇다."}}
  refs: ["Deep Learning, MIT Press 2016"]
  answer: true
{extra}"""


def test_user_bank_merges_with_builtin(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(card("my-own-card"), encoding="utf-8")
    bank = load_paths([tmp_path], builtin=FIXTURE)
    assert "my-own-card" in bank.cards and "good-mcq" in bank.cards
    assert not bank.origins["my-own-card"].builtin and bank.origins["good-mcq"].builtin


def test_builtin_id_needs_override(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(card("good-mcq"), encoding="utf-8")
    bank = load_paths([tmp_path], builtin=FIXTURE)
    [problem] = bank.errors
    assert problem.field == "id" and "add override: true" in problem.message
    assert problem.file.endswith("a.yaml") and problem.line == 1
    assert bank.cards["good-mcq"].type == "mcq"  # the built-in card stays


def test_override_replaces_builtin(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(card("good-mcq", override=True), encoding="utf-8")
    bank = load_paths([tmp_path], builtin=FIXTURE)
    assert bank.errors == []
    assert bank.cards["good-mcq"].type == "truefalse"


def test_override_without_target_warns(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(card("lonely", override=True), encoding="utf-8")
    bank = load_paths([tmp_path])
    assert [(p.field, p.severity) for p in bank.problems] == [("override", "warning")]


def test_duplicate_ids_across_user_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(card("twin"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(card("twin", question="Again?"), encoding="utf-8")
    bank = load_paths([tmp_path])
    [problem] = bank.errors
    assert problem.file.endswith("b.yaml")
    assert "duplicate id, first defined at" in problem.message and "a.yaml:1" in problem.message


def test_env_and_option_banks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "x.yaml").write_text(card("from-option"), encoding="utf-8")
    (two / "y.yml").write_text(card("from-env"), encoding="utf-8")
    monkeypatch.setenv("DLPREP_BANK", str(two))
    bank = load_bank([str(one)])
    assert {"from-option", "from-env"} <= set(bank.cards)
    assert list(bank.cards)[-2:] == ["from-option", "from-env"]


def test_missing_bank_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(BankPathError, match="no such file or directory"):
        load_bank([str(tmp_path / "nowhere")])


def test_unknown_topic_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(card("odd").replace("memory", "cooking"), encoding="utf-8")
    bank = load_paths([tmp_path])
    assert "odd" in bank.cards
    assert [(p.field, p.severity) for p in bank.problems] == [("topic", "warning")]


@pytest.mark.parametrize("kind", ["empty", "fifo", "loop"])
def test_a_path_that_yields_nothing_says_so(tmp_path: Path, kind: str) -> None:
    import os

    target = tmp_path / "target.yaml"
    if kind == "empty":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(target)
    with pytest.raises(BankPathError, match="nothing was read") as caught:
        load_bank([str(target)])
    assert str(target) in str(caught.value)


def test_file_size_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dlprep.bank import files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.yaml").write_text(card("big") + "# " + "x" * 1000 + "\n")
    bank = load_paths([tmp_path])
    [problem] = bank.errors
    assert problem.field == "file" and "over the 0 MB limit" in problem.message
    assert bank.cards == {}


def test_card_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dlprep.bank import loader

    monkeypatch.setattr(loader, "MAX_CARDS", 5)
    for f in range(3):
        (tmp_path / f"part-{f}.yaml").write_text("".join(card(f"c{f}-{i}") for i in range(3)))
    bank = load_paths([tmp_path])
    assert list(bank.cards) == ["c0-0", "c0-1", "c0-2", "c1-0", "c1-1"]
    [problem] = bank.errors
    assert problem.file.endswith("part-1.yaml") and problem.line == 17  # its third card
    assert problem.message.startswith("more than 5 cards in the bank") and "1 later" in (
        problem.message)


def test_a_fifo_inside_a_folder_is_skipped_by_the_loader_and_the_cache(tmp_path: Path) -> None:
    import os

    from dlprep.bank.cache import load_bank as cached

    (tmp_path / "mine.yaml").write_text(card("mine"), encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.yaml")  # reading it would block for ever
    bank = cached([str(tmp_path)])
    assert "mine" in bank.cards
    assert [(p.file.endswith("pipe.yaml"), p.field) for p in bank.errors] == [(True, "file")]
