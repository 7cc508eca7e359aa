"""A typed handle on the app for every screen (screens render state; the app owns it)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from dlprep.study.strings import label

if TYPE_CHECKING:
    from dlprep.tui.app import QuizApp


def relabel(node: DOMNode, lang: str) -> bool:
    """Give ``node``'s own bindings footer labels in ``lang``; True if any changed. Done
    before a screen is composed, so its first footer is already in the right language."""
    changed = False
    bindings = node._bindings.key_to_bindings
    for key, items in bindings.items():
        labelled = [_label(b, lang) for b in items]
        if any(new is not old for new, old in zip(labelled, items, strict=True)):
            bindings[key] = labelled
            changed = True
    return changed


def localize(node: DOMNode, lang: str) -> None:
    """Give ``node`` and its children footer labels in ``lang`` (English is the default)."""
    changed = [relabel(each, lang) for each in [node, *node.query("*")]]
    if any(changed):  # a refresh recomposes the footer: worth skipping when nothing changed
        node.refresh_bindings()


def _label(binding: Binding, lang: str) -> Binding:
    english = getattr(binding, "_english", None) or binding.description
    translated = label(english, lang)
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
    def __init__(self) -> None:
        super().__init__()
        relabel(self, self.lang)
        relabel(self.app, self.lang)

    def localize(self) -> None:
        localize(self, self.lang)
        localize(self.app, self.lang)


class QuizModal(_InQuiz, ModalScreen[Any]):
    def __init__(self) -> None:
        super().__init__()
        relabel(self, self.lang)

    def localize(self) -> None:
        localize(self, self.lang)
