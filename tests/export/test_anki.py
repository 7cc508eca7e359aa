"""The Anki export, checked by Anki itself: the real `anki` library imports our package into a
fresh collection, and an edited re-export updates the note without losing its history."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from dlprep.bank import load_bank, load_paths
from dlprep.export.anki import INSTANCES, export_anki, notes_for

CARDS = textwrap.dedent('''\
    - id: t-mcq
      topic: activations
      type: mcq
      difficulty: 1
      q:
        en: "Which activation is zero for negative inputs?"
        ko: "음수 입력에서 0이 되는 활성화 함수는?"
      choices: [ReLU, tanh, sigmoid]
      answer: ReLU
      explain: {en: "ReLU(x) = max(0, x).", ko: "ReLU(x) = max(0, x)이다."}
      refs:
        - "Nair & Hinton, Rectified Linear Units Improve Restricted Boltzmann Machines,
          ICML 2010"
      demo: {name: dying-relu}
    - id: t-numeric
      topic: memory
      type: numeric
      difficulty: 2
      q: {en: "Bytes of {n} fp32 weights?", ko: "fp32 가중치 {n}개는 몇 바이트인가?"}
      template: {vars: {n: [10, 20, 30, 40, 50]}, formula: "4 * n"}
      unit: B
      tolerance: {rel: 0.01}
      explain: {en: "Four bytes each.", ko: "하나에 4바이트다."}
      refs: ["IEEE 754-2019"]
    - id: t-myth
      topic: activations
      type: truefalse
      myth: true
      difficulty: 1
      q:
        en: "ReLU cannot be trained because it is not differentiable at 0."
        ko: "ReLU는 0에서 미분할 수 없어서 학습할 수 없다."
      answer: false
      explain:
        en: "A subgradient at one point is enough."
        ko: "한 점에서는 부분 기울기로 충분하다."
      refs: ["Goodfellow, Bengio & Courville, Deep Learning, MIT Press 2016, §6.3.1"]
    ''')


def fresh_collection(tmp_path: Path, name: str = "learner") -> Collection:
    return Collection(str(tmp_path / f"{name}.anki2"))


def import_apkg(col: Collection, path: Path) -> None:
    col.import_anki_package(ImportAnkiPackageRequest(
        package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=True)))


def notes_by_deck(col: Collection) -> Counter[str]:
    counts: Counter[str] = Counter()
    for deck in col.decks.all_names_and_ids():
        counts[deck.name] = len(col.find_notes(f'deck:"{deck.name}" -deck:"{deck.name}::*"'))
    return +counts


def test_whole_bank_imports_with_a_deck_per_topic(tmp_path: Path) -> None:
    bank = load_bank()
    apkg = tmp_path / "dlprep.apkg"
    counts = export_anki(apkg, bank.cards.values(), ("en", "ko"))
    col = fresh_collection(tmp_path)
    try:
        import_apkg(col, apkg)
        assert notes_by_deck(col) == Counter(counts)
        assert set(counts) == {f"dlprep::{t}" for t in bank.topics()}
        expected = sum(len(notes_for(card, ("en",))) for card in bank.cards.values())
        assert col.note_count() == expected > len(bank.cards)  # templates add instances
        models = {col.get_note(n).note_type()["name"] for n in col.find_notes("")}
        assert models == {"dlprep choice", "dlprep truefalse", "dlprep numeric",
                          "dlprep order", "dlprep recall"}
        # both languages on one note, Korean in its own block
        nid = col.find_notes("CardId:grad-vanishing-which-layers")[0]
        question = col.get_note(nid)["Question"]
        assert 'lang="en"' in question and 'lang="ko"' in question
    finally:
        col.close()


def test_fields_and_tags_of_each_note_type(tmp_path: Path) -> None:
    (tmp_path / "cards.yaml").write_text(CARDS, encoding="utf-8")
    cards = load_paths([tmp_path / "cards.yaml"], builtin=None).cards
    apkg = tmp_path / "t.apkg"
    export_anki(apkg, cards.values(), ("en",))
    col = fresh_collection(tmp_path)
    try:
        import_apkg(col, apkg)
        mcq = col.get_note(col.find_notes("CardId:t-mcq")[0])
        assert mcq["Choices"].count("<li>") == 3
        letter = mcq["Key"][0]
        position = "ABC".index(letter)
        assert mcq["Choices"].split("<li>")[position + 1].startswith("ReLU")
        assert "<code>dlprep demo dying-relu</code>" == mcq["Demo"]
        assert sorted(mcq.tags) == ["demo::dying-relu", "difficulty::1", "dlprep",
                                    "topic::activations", "type::mcq"]
        myth = col.get_note(col.find_notes("CardId:t-myth")[0])
        assert myth["Answer"] == "Myth" and "Myth or fact?" in myth["Prompt"]
        numeric = [col.get_note(n) for n in col.find_notes("CardId:t-numeric")]
        assert len(numeric) == INSTANCES
        shown = sorted((n["Question"], n["Answer"]) for n in numeric)
        assert shown == [("Bytes of 10 fp32 weights?", "40 B"),
                         ("Bytes of 30 fp32 weights?", "120 B"),
                         ("Bytes of 50 fp32 weights?", "200 B")]
        assert "± 1 %" in numeric[0]["Tolerance"]
        # the back renders the explanation and refs through the note type's template
        card = col.get_card(col.find_cards("CardId:t-mcq")[0])
        back = card.answer()
        assert "max(0, x)" in back and "ICML 2010" in back and letter in back
    finally:
        col.close()


def review(col: Collection, card_id: int) -> None:
    """Answer a card 'Good' through Anki's scheduler, as a learner would."""
    from anki.scheduler.v3 import CardAnswer

    card = col.get_card(card_id)
    card.start_timer()  # the learner looks at the card, then answers
    states = col._backend.get_scheduling_states(card.id)
    col.sched.answer_card(col.sched.build_answer(card=card, states=states,
                                                 rating=CardAnswer.GOOD))


def test_reimport_after_an_edit_updates_the_note_and_keeps_its_history(tmp_path: Path) -> None:
    path = tmp_path / "cards.yaml"
    path.write_text(CARDS, encoding="utf-8")
    first = tmp_path / "v1.apkg"
    export_anki(first, load_paths([path], builtin=None).cards.values(), ("en",),
                timestamp=1_700_000_000)
    col = fresh_collection(tmp_path)
    try:
        import_apkg(col, first)
        before = col.note_count()
        cid = col.find_cards("CardId:t-mcq")[0]
        review(col, cid)
        reviewed = col.get_card(cid)
        assert reviewed.reps == 1
        path.write_text(CARDS.replace("Which activation is zero", "Which activation outputs "
                                      "zero"), encoding="utf-8")
        second = tmp_path / "v2.apkg"
        export_anki(second, load_paths([path], builtin=None).cards.values(), ("en",),
                    timestamp=1_700_000_000 + 86_400)
        import_apkg(col, second)
        assert col.note_count() == before  # updated, not duplicated
        note = col.get_note(col.find_notes("CardId:t-mcq")[0])
        assert note["Question"].startswith("Which activation outputs zero")
        after = col.get_card(cid)
        assert (after.reps, after.ivl, after.due) == (reviewed.reps, reviewed.ivl, reviewed.due)
        assert col.db.scalar("select count() from revlog where cid = ?", cid) == 1
    finally:
        col.close()


def test_guids_depend_on_card_id_and_values_only() -> None:
    cards = load_bank().cards
    card = cards["grad-vanishing-which-layers"]
    en, both = notes_for(card, ("en",)), notes_for(card, ("en", "ko"))
    assert [n.guid_parts for n in en] == [n.guid_parts for n in both] == [(card.id,)]
    templated = next(c for c in cards.values()
                     if getattr(c, "template", None) is not None)
    parts = [n.guid_parts for n in notes_for(templated, ("en",))]
    assert len(set(parts)) == len(parts) > 1 and all(p[0] == templated.id for p in parts)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_single_language_notes_have_no_other_language(lang: str) -> None:
    card = load_bank().cards["grad-vanishing-which-layers"]
    (note,) = notes_for(card, (lang,))
    hangul = any("\uac00" <= ch <= "\ud7a3" for ch in note.fields["Question"])
    assert hangul == (lang == "ko")


def test_note_labels_come_from_the_one_string_table(tmp_path: Path) -> None:
    (tmp_path / "cards.yaml").write_text(CARDS, encoding="utf-8")
    cards = load_paths([tmp_path], builtin=None).cards
    (myth,) = notes_for(cards["t-myth"], ("en", "ko"))
    assert myth.fields["Prompt"] == "Myth or fact? / 미신일까요, 사실일까요?"
    assert myth.fields["Answer"] == "Myth / 미신"
    assert myth.fields["Why"] == "Why / 해설"
    numeric = notes_for(cards["t-numeric"], ("ko",))[0]
    assert numeric.fields["Tolerance"].startswith("허용 오차: ")


def test_each_template_variant_runs_its_own_draw_in_its_demo_command() -> None:
    card = load_bank().cards["mem-mlp-relu-saved-bytes"]  # layers 784,{h},{h},10, batch {b}
    notes = notes_for(card, ("en",))
    commands = {note.fields["Demo"] for note in notes}
    assert len(commands) == len(notes) > 1
    for note in notes:
        values = dict(part.split("=") for part in note.guid_parts[1:])
        h, b = values["h"].replace(",", ""), values["b"].replace(",", "")
        assert note.fields["Demo"] == (f"<code>dlprep demo gpu-memory --set layers=784,{h},{h},"
                                       f"10 batch={b}</code>")
        assert f"at batch {values['b']}" in note.fields["Explanation"]  # its own draw too


def test_numeric_cards_have_a_box_to_type_the_number_in(tmp_path: Path) -> None:
    """Anki's own renderer puts its type-in marker on the front and keeps one on the back
    (where the reviewer shows the comparison), and Anki's comparison of a typed answer with
    the Value field says right or wrong."""
    (tmp_path / "cards.yaml").write_text(CARDS, encoding="utf-8")
    cards = load_paths([tmp_path], builtin=None).cards
    apkg = tmp_path / "t.apkg"
    export_anki(apkg, cards.values(), ("en",))
    col = fresh_collection(tmp_path)
    try:
        import_apkg(col, apkg)
        card = next(col.get_card(c) for c in col.find_cards("CardId:t-numeric")
                    if "Bytes of 10 " in col.get_card(c).note()["Question"])
        front, back = card.question(), card.answer()
        assert front.count("[[type:Value]]") == 1 and back.count("[[type:Value]]") == 1
        assert "Type the number (B)" in front  # the unit is not part of what is typed
        assert card.note()["Value"] == "40"
        assert "typeBad" not in col.compare_answer(card.note()["Value"], "40")
        assert "typeBad" in col.compare_answer(card.note()["Value"], "41")
        mcq = col.get_card(col.find_cards("CardId:t-mcq")[0])
        assert "[[type:" not in mcq.question()  # only numeric cards are typed
    finally:
        col.close()
