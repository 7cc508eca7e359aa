"""``dlprep quiz --plain``: the same session as numbered prompts on stdin/stdout.

For scripts, screen readers and terminals without full-screen support. It uses the same
Session (grading, scheduler, store) as the TUI; only the rendering differs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from dlprep.bank.cards import Numeric, TrueFalse
from dlprep.bank.topics import topic_title
from dlprep.study.grading import Given, Rating, parse_bool
from dlprep.study.present import Presented, unwrap
from dlprep.study.session import Outcome, Session
from dlprep.study.strings import t, type_label


class _Quit(Exception):
    """The learner typed q, or input ended."""


class PlainQuiz:
    def __init__(self, session: Session, stdin: TextIO, stdout: TextIO) -> None:
        self.session = session
        self.stdin = stdin
        self.stdout = stdout
        self.lang = session.lang

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
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
        n = len(session.queue)
        if n == 0:
            self.say(t("nothing_due", self.lang))
            return 0
        self.say(f"dlprep quiz --plain · {n} · {t('mode_' + session.kind, self.lang)} · "
                 f"{t('quit_prompt', self.lang)}")
        try:
            while (shown := session.current()) is not None:
                left = session.seconds_left()
                clock = f" · {t('time_left', self.lang, t=f'{left:.0f}s')}" if left else ""
                topic = topic_title(shown.card.topic, self.lang)
                kind = type_label(shown.kind, getattr(shown.card, "myth", False), self.lang)
                self.say(f"\n[{session.position + 1}/{n}] {topic} · {kind}{clock}")
                self.say(shown.question)
                outcome = session.answer(self._read_answer(shown))
                if session.kind != "mock":
                    self._feedback(outcome)
                if session.save_error:
                    self.say(f"! {session.save_error}")
                    session.save_error = ""
        except _Quit:
            pass
        self._summary()
        return 0

    def _read_answer(self, shown: Presented) -> Given:
        card = shown.card
        lang = self.lang
        if shown.kind in ("mcq", "multi", "order"):
            for i, choice in enumerate(shown.choices, 1):
                self.say(f"  {i}) {choice.text}")
        n = len(shown.choices)
        if shown.kind == "mcq":
            return self._retry(f"1-{n}", lambda s: shown.choices[_index(s, shown)].key)
        if shown.kind == "multi":
            return self._retry(t("multi_prompt", lang, n=n),
                               lambda s: [shown.choices[i].key for i in _indices(s, shown)])
        if shown.kind == "order":
            def order(s: str) -> list[str]:
                picks = _indices(s, shown)
                if sorted(picks) != list(range(len(shown.choices))):
                    raise ValueError(s)
                return [shown.choices[i].key for i in picks]
            example = " ".join(str(i) for i in range(n, 0, -1))
            return self._retry(t("order_prompt", lang, n=n, example=example), order)
        if isinstance(card, TrueFalse):
            words = ("fact", "myth") if card.myth else ("true", "false")
            hint = f"{t(words[0], lang)}/{t(words[1], lang)} (t/f)"

            def boolean(s: str) -> bool:
                value = parse_bool(s)
                if value is None:
                    raise ValueError(s)
                return value
            return self._retry(hint, boolean)
        if isinstance(card, Numeric):
            prompt = (t("type_answer", lang, example=f"4 {card.unit}") if card.unit
                      else t("type_number", lang, example="0.25"))
            return self.ask(f"{prompt}> ")
        self.ask(f"({t('reveal', lang)}: Enter)> ")
        self.say(f"{t('model_answer', lang)}: {shown.expected_text()}")
        return self._retry("1-4", lambda s: Rating(int(s)))

    def _retry(self, expected: str, parse: Callable[[str], Given]) -> Given:
        while True:
            text = self.ask(f"{expected}> ")
            try:
                return parse(text)
            except (ValueError, IndexError):
                self.say(t("invalid_choice", self.lang, expected=expected))

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
        self.say(unwrap(shown.card.explain.get(lang)))
        self.say(f"{t('refs', lang)}: " + "; ".join(shown.card.refs))
        self.say(_schedule_line(outcome, lang))

    def _summary(self) -> None:
        outcomes = self.session.outcomes
        right = sum(1 for o in outcomes if o.grade.correct)
        summary = t("summary", self.lang, right=right, n=len(outcomes))
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
                mark = "✓" if outcome.grade.correct else "✗"
                self.say(f"  {i}. {mark} {shown.question.strip().splitlines()[0]}")
                self.say(f"     {t('you_said', self.lang)}: {outcome.grade.answer or '—'} · "
                         f"{t('answer_was', self.lang)}: {shown.expected_text()} · "
                         f"{outcome.seconds:.0f} {t('seconds', self.lang)}")


def _schedule_line(outcome: Outcome, lang: str) -> str:
    if outcome.next_due is None:
        return t("rated_cram", lang)
    due = outcome.next_due.strftime("%Y-%m-%d %H:%M UTC")
    return t("rated", lang, rating=t(f"rating_{int(outcome.rating)}", lang), due=due)


def _index(text: str, shown: Presented) -> int:
    number = int(text)
    if not 1 <= number <= len(shown.choices):
        raise ValueError(text)
    return number - 1


def _indices(text: str, shown: Presented) -> list[int]:
    parts = text.replace(",", " ").split()
    if not parts:
        raise ValueError(text)
    return [_index(p, shown) for p in parts]
