"""A typed handle on the app for every screen (screens render state; the app owns it)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from dlprep.tui.app import QuizApp


# Footer labels in Korean (binding descriptions are written in English in the code).
FOOTER_KO = {
    "Start": "시작", "Stats": "통계", "Quit": "종료", "Help": "도움말", "Theme": "테마",
    "Home": "홈", "Next": "다음", "Predict & run demo": "예측 후 데모", "Show answer": "정답 보기",
    "Submit": "제출", "Move up": "위로", "Move down": "아래로", "Run / re-run": "실행/재실행",
    "Cancel / back": "취소/뒤로", "Back": "뒤로", "Close": "닫기", "Toggle option": "선택/해제",
}


def localize(node: DOMNode, lang: str) -> None:
    """Give ``node`` and its children footer labels in ``lang`` (English is the default)."""
    changed = False
    for each in [node, *node.query("*")]:
        bindings = each._bindings.key_to_bindings
        for key, items in bindings.items():
            labelled = [_label(b, lang) for b in items]
            if any(new is not old for new, old in zip(labelled, items, strict=True)):
                bindings[key] = labelled
                changed = True
    if changed:  # a refresh recomposes the footer: worth skipping when nothing changed
        node.refresh_bindings()


def _label(binding: Binding, lang: str) -> Binding:
    english = getattr(binding, "_english", None) or binding.description
    translated = FOOTER_KO.get(english, english) if lang == "ko" else english
    if translated == binding.description:
        return binding
    new = replace(binding, description=translated)
    object.__setattr__(new, "_english", english)
    return new


class _InQuiz:
    """What every dlprep screen reads from the running quiz."""

    @property
    def quiz(self) -> QuizApp:
        return cast("QuizApp", cast(Screen[Any], self).app)

    @property
    def lang(self) -> str:
        return self.quiz.lang


class QuizScreen(_InQuiz, Screen[Any]):
    def localize(self) -> None:
        localize(self, self.lang)
        localize(self.app, self.lang)


class QuizModal(_InQuiz, ModalScreen[Any]):
    def localize(self) -> None:
        localize(self, self.lang)
