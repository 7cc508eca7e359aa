"""Card questions speak to the learner in the interface's register (issue 23).

The interface (dlprep/study/strings.py) is polite throughout: "고르세요", "입력하세요",
"저장했습니다". Questions used to end in the plain written style ("답하라.", "고르라.",
"무엇인가?"), so one screen mixed two registers. Every sentence of a card's Korean question
now ends politely: -니다 / -요 for statements and questions, -세요 for instructions.
Explanations and choices stay in the plain written style of reference text.
"""

from __future__ import annotations

import re

import pytest

from dlprep.bank import Bank, load_bank

_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_CLOSING = ".?!\"'”’ "


def _core(sentence: str) -> str:
    """The sentence without its closing punctuation, quotes and trailing parentheticals.

    "…씁니다(PyTorch `f(x)`)." and "…됩니다.(지수 표기 가능.)" both end in 됩니다/씁니다.
    """
    text = sentence.rstrip()
    while True:
        text = text.rstrip(_CLOSING)
        if not text.endswith(")"):
            return text
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[i], 0)
            if depth == 0:
                text = text[:i]
                break
        else:
            return text
_PLAIN = (
    (re.compile(r"(?<!니)다$"), "a plain statement (write -니다)"),
    (re.compile(r"[가-힣]라$"), "a plain instruction (write -세요)"),
    (re.compile(r"(?:[가-힣]가|[가-힣]까)$"), "a plain question (write -나요 / -가요 / -까요)"),
)


def plain_endings(text: str) -> list[str]:
    """The sentences of ``text`` that end in the plain register, each with what to write."""
    found = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if not any(mark in sentence for mark in ".?!"):
            continue  # an unfinished fragment, not a sentence
        core = _core(sentence)
        for pattern, what in _PLAIN:
            if pattern.search(core):
                found.append(f"{sentence.strip()[-40:]!r}: {what}")
    return found


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank()


def test_every_question_uses_the_interface_register(bank: Bank) -> None:
    problems = [
        f"{card.id}: {line}"
        for card in bank.cards.values()
        for line in plain_endings(card.q.ko)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "text",
    [
        "숫자로 답하라.",
        "옳은 설명을 모두 고르라.",
        "왜 tanh를 선호하는가?",
        "최댓값은 어디에서인가?",
        "어느 쪽이 더 클까?",
        "신경망이 집값을 예측한다.",
        "로짓이 (2, 1, 0)이다. 확률은?",
        "4·n·d FLOPs를 쓴다(코잘 마스크는 무시).",
        "10으로 나눈다(PyTorch `MultiStepLR(milestones=[30, 60])`).",
        "계산하면 inf가 나온다.(소수점 셋째 자리까지.)",
    ],
)
def test_plain_endings_are_found(text: str) -> None:
    assert plain_endings(text)


@pytest.mark.parametrize(
    "text",
    [
        "숫자로 답하세요.",
        "옳은 설명을 모두 고르세요.",
        "왜 tanh를 선호하나요?",
        "최댓값은 어디에서인가요?",
        "어느 쪽이 더 클까요?",
        "신경망이 집값을 예측합니다.",
        "로짓이 (2, 1, 0)입니다. softmax가 첫 번째 클래스에 주는 확률은?",
        "4·n·d FLOPs를 씁니다(코잘 마스크는 무시).",
        "참 또는 거짓: 소프트맥스는 키 방향으로 취합니다.",
        "GPU마다",
        "10으로 나눕니다(PyTorch `MultiStepLR(milestones=[30, 60])`).",
        "계산하면 inf가 나옵니다.(소수점 셋째 자리까지.)",
    ],
)
def test_polite_endings_pass(text: str) -> None:
    assert plain_endings(text) == []
