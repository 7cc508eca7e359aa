"""One Korean term per concept: card text avoids the variants quizbank/glossary.yaml lists."""

from __future__ import annotations

import re

import pytest

from dlprep.bank import Bank, load_bank
from dlprep.bank.cards import DemoLink, Order, PredictYesNo, Recall, Text
from dlprep.bank.glossary import (
    Glossary,
    GlossaryError,
    check_card,
    load_glossary,
    parse_glossary,
)

SETTLED = ["gain", "noisy", "pre-activation", "slope", "gradient", "activation", "checkpointing",
           "shape"]


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary()


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank()


def test_the_glossary_settles_the_terms_the_issue_names(glossary: Glossary) -> None:
    names = [t.en for t in glossary.terms]
    for word in SETTLED:
        assert any(re.search(rf"\b{re.escape(word)}\b", n) for n in names), word
    assert len(glossary.rules) >= 25
    assert all(t.why and t.ko for t in glossary.terms)


def test_no_card_uses_an_avoided_variant(bank: Bank, glossary: Glossary) -> None:
    hits = [str(h) for card in bank.cards.values() for h in check_card(card, glossary)]
    assert not hits, "\n".join(hits)


def card(en: str, ko: str, *, predict: PredictYesNo | None = None) -> Recall:
    demo = None if predict is None else DemoLink(name="x", predict=predict)
    return Recall(
        id="c", topic="gradients", difficulty=1, q=Text("q?", "질문?"), explain=Text(en, ko),
        refs=("ref",), demo=demo, type="recall", answer=Text("a", "답"),
    )


@pytest.mark.parametrize(
    ("en", "ko", "found"),
    [
        ("Even a modest gain is brutal.", "깊이가 있으면 작은 이득도 치명적이다.", "작은 이득"),
        ("He init with gain g.", "He 초기화보다 이득 g만큼 크면", "이득 g"),
        ("The per-minibatch loss is noisy.", "배치 손실이 더 시끄럽다.", "시끄럽"),
        ("z is the pre-activation.", "z는 사전 활성화다.", "사전 활성화"),
        ("tanh has slope 1 at the origin.", "tanh는 원점 기울기가 1이다.", "원점 기울기"),
        ("Leaky ReLU, slope 0.01.", "음수 쪽 기울기가 0.01이다.", "음수 쪽 기울기"),
        ("nn.LeakyReLU (negative slope 0.01)", "기본 음수 기울기 0.01", "음수 기울기 0.0"),
        ("Activation values shrink.", "활성화 값이 줄어든다.", "활성화 값"),
        ("Gradient checkpointing.", "그래디언트 체크포인팅을 쓴다.", "그래디언트 체크포인팅"),
        ("The weight's shape.", "가중치의 형상은?", "형상"),
        ("Vanishing gradients starve the early layers.", "앞쪽 층을 굶긴다.", "굶"),
        ("It took S steps.", "옵티마이저 스텝을 100번 밟았다.", "스텝을 100번 밟"),
        ("Not the first knob to turn.", "첫 번째로 돌릴 손잡이가 아니다.", "손잡이"),
        ("Bandwidth to feed it.", "그것을 먹여 살릴 대역폭", "먹여 살"),
        ("Data-hungry networks.", "데이터를 많이 먹는 신경망", "데이터를 많이 먹"),
    ],
)
def test_each_avoided_variant_is_caught(glossary: Glossary, en: str, ko: str, found: str) -> None:
    hits = check_card(card(en, ko), glossary)
    assert [h.found for h in hits] == [found], hits
    assert hits[0].field == "explain" and hits[0].card_id == "c"


def test_every_korean_field_is_searched(glossary: Glossary) -> None:
    choice = Text("noisy", "시끄러운 곡선")
    order = Order(
        id="o", topic="gradients", difficulty=1, q=Text("q", "질문"), explain=Text("e", "설명"),
        refs=("ref",), type="order", items=("code()", choice),
        demo=DemoLink(name="x", predict=PredictYesNo(en="gain", ko="큰 이득이 필요할까?",
                                                      kind="yesno")),
    )
    fields = sorted(h.field for h in check_card(order, glossary))
    assert fields == ["demo.predict", "items[1]"]


@pytest.mark.parametrize(
    ("en", "ko"),
    [
        # ordinary Korean words in their ordinary sense stay allowed
        ("Large batches buy little.", "배치를 키워도 얻는 이득이 작다."),  # no gain: a benefit
        ("Memory use", "메모리를 많이 먹는다."),
        ("The gradient is zero.", "기울기가 0이다."),
        ("Step along the negative gradient.", "음수 기울기 방향의 반대로 움직인다."),
        ("ReLU's derivative at 0", "입력 0에서 기울기가 정의되지 않는다."),
        ("Batch normalisation", "배치 정규화와 층 정규화"),
        ("A model checkpoint on disk", "모델 체크포인트를 디스크에 저장한다."),
        ("Training runs faster.", "학습 속도가 빨라진다."),
        ("gain", "게인(gain) g는 He 초기화에 곱하는 배율이다."),
    ],
)
def test_ordinary_words_are_not_flagged(glossary: Glossary, en: str, ko: str) -> None:
    assert check_card(card(en, ko), glossary) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "needs a 'terms' list"),
        ({"terms": [{"en": "x", "ko": "엑스", "why": "w", "avoid": ["("]}]}, "terms[0].avoid[0]"),
        ({"terms": [{"en": "x", "ko": "엑스", "why": "w", "avoid": ["엑"]}]}, "preferred term"),
        ({"terms": [{"en": "x", "why": "w"}]}, "terms[0].ko: required"),
        ({"terms": [], "phrases": [{"avoid": "굶", "why": "w"}]}, "phrases[0].instead"),
    ],
)
def test_a_malformed_glossary_names_the_entry(data: object, message: str) -> None:
    with pytest.raises(GlossaryError, match=re.escape(message)):
        parse_glossary(data)
