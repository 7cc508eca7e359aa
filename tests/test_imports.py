"""Startup stays fast: prove which modules each entry point imports (no torch, no textual)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from dlprep.cli import main
code = 0
try:
    code = main({args!r})
except SystemExit as exc:
    code = exc.code
print("\\n@@" + json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
"""


def imported(args: list[str]) -> tuple[int, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True
    )
    payload = json.loads(result.stdout.rsplit("@@", 1)[1])
    return payload["code"], set(payload["modules"])


def top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_imports_nothing_heavy() -> None:
    code, modules = imported(["--help"])
    assert code == 0
    assert not top(modules) & {"torch", "textual", "click", "pydantic", "yaml", "rich", "numpy"}


@pytest.mark.parametrize("args", [["bank", "validate"], ["bank", "stats"], ["bank", "list"]])
def test_bank_commands_load_neither_torch_nor_textual(args: list[str]) -> None:
    code, modules = imported(args)
    assert code == 0
    assert not top(modules) & {"torch", "textual", "numpy"}


def test_import_dlprep_bank_is_pure() -> None:
    probe = "import json, sys, dlprep.bank, dlprep.registry; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    modules = top(set(json.loads(result.stdout)))
    assert not modules & {"torch", "textual", "numpy"}


def test_a_warm_bank_cache_is_served_without_pydantic_or_yaml() -> None:
    """Pydantic only validates: cached runtime cards need neither it nor a YAML parser."""
    probe = ("import json, sys; from dlprep.bank.cache import load_bank; bank = load_bank(); "
             "print(json.dumps([len(bank.cards), sorted(sys.modules)]))")

    def load() -> tuple[int, set[str]]:
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        count, modules = json.loads(result.stdout)
        return count, top(set(modules))

    cold_count, cold = load()  # a miss validates, so it does import pydantic
    assert {"pydantic", "yaml"} <= cold
    warm_count, warm = load()
    assert warm_count == cold_count > 0
    assert not warm & {"pydantic", "pydantic_core", "yaml", "torch", "textual", "numpy"}


def test_plain_quiz_start_from_a_warm_cache_imports_no_pydantic() -> None:
    args = ["quiz", "--plain", "--cram", "--length", "1", "--lang", "en"]
    for _ in range(2):  # the first run fills the bank cache
        result = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], input="",
                                capture_output=True, text=True)
    payload = json.loads(result.stdout.rsplit("@@", 1)[1])
    assert payload["code"] == 0
    assert "[1/1]" in result.stdout  # it got as far as showing a card
    assert not top(set(payload["modules"])) & {"pydantic", "yaml", "torch", "textual", "numpy"}


# The real `dlprep quiz` start, headless (no terminal here), stopped once its first card is
# drawn: what it imported and which threads run by then.
FIRST_CARD_PROBE = """
import json, sys, threading
from textual.app import App
import dlprep.tui.card as card

seen = {{}}
_run = App.run

def run(self, *args, **kwargs):
    kwargs["headless"] = True
    return _run(self, *args, **kwargs)

_init = card.CardScreen.__init__
QUESTION = {question!r}

def init(self, session):
    _init(self, session)
    if QUESTION is not None:  # the first card, asking this instead
        import dataclasses
        self.shown = dataclasses.replace(self.shown, question=QUESTION)

_mount = card.CardScreen.on_mount

def on_mount(self):
    _mount(self)

    def painted():
        seen["modules"] = sorted(sys.modules)
        seen["threads"] = sorted(thread.name for thread in threading.enumerate())
        seen["question"] = type(self.query_one("#question")).__name__
        self.app.exit()

    self.call_after_refresh(painted)

App.run = run
import dlprep.commands.quiz as quiz_command
quiz_command.has_terminal = lambda: True  # headless: no terminal, the screen runs anyway
card.CardScreen.__init__ = init
card.CardScreen.on_mount = on_mount
from dlprep.cli import main
try:
    code = main({args!r})
except SystemExit as exc:
    code = exc.code
print("\\n@@" + json.dumps({{"code": code, **seen}}))
"""

# Needed only after the first card: by a demo, another screen, a grade or a bank load.
LATER = {
    "dlprep.engine", "dlprep.registry", "dlprep.tui.demo", "dlprep.tui.demo_run",
    "dlprep.tui.charts", "dlprep.tui.feedback", "dlprep.tui.home", "dlprep.tui.info",
    "dlprep.tui.render", "dlprep.study.stats", "dlprep.study.plain", "dlprep.bank.lint",
    "dlprep.bank.convert", "dlprep.bank.models", "dlprep.bank.yamlsafe",
}


def _first_card(tmp_path, question: str | None = None) -> dict:
    env = {**os.environ, "DLPREP_HOME": str(tmp_path)}
    env.pop("DLPREP_BANK", None)
    code = FIRST_CARD_PROBE.format(args=["quiz", "--cram", "--lang", "en"], question=question)
    for _ in range(2):  # the first start fills the bank cache; the second is the usual one
        result = subprocess.run([sys.executable, "-c", code],
                                capture_output=True, text=True, env=env, timeout=300)
    payload = json.loads(result.stdout.rsplit("@@", 1)[1])
    assert payload["code"] == 0 and "modules" in payload, result.stderr  # a card was drawn
    return payload


def test_the_quiz_reaches_its_first_card_without_demo_or_later_screens(tmp_path) -> None:
    payload = _first_card(tmp_path)
    modules = set(payload["modules"])
    assert not top(modules) & {"torch", "numpy", "plotext", "pydantic", "yaml", "demos"}
    assert not modules & LATER
    assert "fsrs" not in modules  # no saved state to read yet: fsrs waits for the first grade
    assert payload["question"] == "Markdown" or "markdown_it" not in modules
    assert "warm-torch" not in payload["threads"]  # the demo warm-up waits for a demo card


@pytest.mark.parametrize(("question", "widget"), [
    ("What does `torch.no_grad()` do, and is it *really* **free**?", "InlineQuestion"),
    ("A question from a YAML block,\nwrapped by its author.\n", "Static"),
    ("A [linked](https://pytorch.org) question", "Markdown"),
])
def test_only_a_question_that_needs_the_markdown_widget_imports_it(
    tmp_path, question: str, widget: str
) -> None:
    payload = _first_card(tmp_path, question)
    modules = set(payload["modules"])
    assert payload["question"] == widget
    markdown = {"markdown_it", "textual.widgets._markdown"}
    assert modules & markdown == (markdown if widget == "Markdown" else set())
