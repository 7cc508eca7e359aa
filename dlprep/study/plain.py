"""``dlprep quiz --plain``: the same session as numbered prompts on stdin/stdout.

For scripts, screen readers and terminals without full-screen support. It uses the same
Session (grading, scheduler, store) as the TUI; only the rendering differs.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

from dlprep.bank.cards import TrueFalse
from dlprep.bank.template import fill
from dlprep.bank.topics import topic_title
from dlprep.study.grading import Given, Unreadable, passed
from dlprep.study.kinds import kind_of
from dlprep.study.predict import demo_command
from dlprep.study.present import Presented, unwrap
from dlprep.study.session import Outcome, Session, summary_text
from dlprep.study.strings import schedule_text, t
from dlprep.study.wrap import plain_markdown, wrap


class _Quit(Exception):
    """The learner typed q, or input ended."""


class PlainQuiz:
    def __init__(self, session: Session, stdin: TextIO, stdout: TextIO,
                 sleep: Callable[[float], None] = time.sleep, width: int | None = None) -> None:
        self.session = session
        self.sleep = sleep
        self.stdin = stdin
        self.stdout = stdout
        self.lang = session.lang
        self.width = width if width is not None else shutil.get_terminal_size((80, 24)).columns

    def say(self, text: str = "", indent: str = "") -> None:
        """A line (or lines) of card text: Markdown markers dropped, wrapped to the width."""
        self.stdout.write(wrap(plain_markdown(text), self.width, indent) + "\n")
        self.stdout.flush()

    def ask(self, prompt: str) -> str:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line or line.strip().lower() in {"q", "quit", ":q"}:
            raise _Quit
        return line.strip()

    def run(self) -> int:
        session = self.session
        if not session.queue:
            self.say(t("nothing_due", self.lang))
            return 0
        mode = t("mode_" + session.kind, self.lang)
        self.say(f"dlprep quiz --plain · {len(session.queue)} · {mode} · "
                 f"{t('quit_prompt', self.lang)}")
        try:
            while (shown := session.current()) is not None:
                left = session.seconds_left()
                clock = f" · {t('time_left', self.lang, t=f'{left:.0f}s')}" if left else ""
                topic = topic_title(shown.card.topic, self.lang)
                kind = t(kind_of(shown.card).label_key(shown.card), self.lang)
                self.say(f"\n[{session.position + 1}/{session.total}] {topic} · {kind}{clock}")
                self.say(unwrap(shown.question))
                outcome = session.answer(self._read_answer(shown))
                if session.kind != "mock":
                    self._feedback(outcome)
                if session.save_error:
                    self.say(f"! {session.save_error}")
                    session.save_error = ""
        except _Quit:
            pass
        self._summary()
        self._save_pending()
        return 0

    def _save_pending(self) -> None:
        """Answers the locked progress file refused are retried until they are written:
        the session never ends claiming a save that did not happen."""
        if self.session.flush():
            self.say(t("not_saved_yet", self.lang))
        while self.session.flush():
            self.sleep(1.0)

    def _read_answer(self, shown: Presented) -> Given:
        kind = kind_of(shown.card)
        lang = self.lang
        if shown.choices and not isinstance(shown.card, TrueFalse):
            for i, choice in enumerate(shown.choices, 1):
                self.say(f"{i}) {choice.text}", indent="  ")
        if kind.self_rated:
            self.ask(f"({t('reveal', lang)}: Enter)> ")
            self.say(f"{t('model_answer', lang)}: {shown.expected_text()}")
        expected = kind.plain_prompt(shown, lang)
        self.say(expected)  # on its own line: "e.g. 1 3" must not run into the input
        while True:
            text = self.ask("> ")  # a re-ask's hint (above) repeats what is expected
            try:
                return kind.plain_parse(shown, text)
            except Unreadable as exc:  # "four" for a number: ask again, never rate it Again
                self.say(exc.ask_again(lang))
            except (ValueError, IndexError):
                self.say(t("invalid_choice", lang, expected=expected))

    def _feedback(self, outcome: Outcome) -> None:
        lang = self.lang
        shown = outcome.shown
        mark = "✓ " + t("right", lang) if outcome.grade.correct else "✗ " + t("wrong", lang)
        if shown.kind == "recall":  # the model answer is already on screen
            self.say(f"{t(f'rating_{int(outcome.rating)}', lang)}.")
        else:
            self.say(f"{mark}. {t('answer_was', lang)}: {shown.expected_text()}")
        if outcome.grade.note and not outcome.grade.correct:
            self.say(f"  ({outcome.grade.note.text(lang)})")
        self.say(unwrap(fill(shown.card.explain.get(lang), shown.values)))
        if shown.card.demo is not None:  # the card's own draw, ready to paste
            self.say(f"{t('run_demo', lang)}: {demo_command(shown.card.demo, shown.values)}")
        self.say(f"{t('refs', lang)}: " + "; ".join(shown.card.refs))
        if outcome.error:
            self.say(t("not_saved", lang, error=outcome.error))
        elif outcome.saved and outcome.at is not None:
            self.say(schedule_text(outcome.next_due, int(outcome.rating), outcome.at, lang))
        else:
            self.say(t("not_saved_yet", lang))

    def _summary(self) -> None:
        outcomes = self.session.outcomes
        summary = summary_text(self.session.summary(), self.lang)
        self.say(f"\n{t('session_done', self.lang)}: {summary}")
        if self.session.kind == "mock":
            self.say(t("mock_report", self.lang))
            for row in self.session.report():
                self.say(f"  {topic_title(row.topic, self.lang)}: {row.correct}/{row.answered}, "
                         f"{row.mean_seconds:.0f} {t('per_answer', self.lang)}")
            # No feedback came during the interview: every answer now, with the key.
            self.say(t("your_answers", self.lang))
            for i, outcome in enumerate(outcomes, 1):
                shown = outcome.shown
                mark = "✓" if passed(outcome.rating) else "✗"
                self.say(f"  {i}. {mark} {shown.question.strip().splitlines()[0]}")
                given = kind_of(shown.card).given_text(shown, outcome.given)
                self.say(f"     {t('you_said', self.lang)}: {given} · "
                         f"{t('answer_was', self.lang)}: {shown.expected_text()} · "
                         + t("n_seconds", self.lang, n=f"{outcome.seconds:.0f}"))
