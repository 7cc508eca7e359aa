"""Interface strings in English and Korean (written, not machine-translated).

Pure data, shared by the TUI and ``--plain``; card text itself comes from the bank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

STRINGS: dict[str, tuple[str, str]] = {
    # key: (English, Korean)
    "app_title": ("dlprep: deep-learning interview prep", "dlprep: 딥러닝 면접 준비"),
    "home": ("Home", "홈"),
    "topics": ("Topics", "주제"),
    "topic": ("Topic", "주제"),
    "cards": ("Cards", "카드"),
    "due": ("Due", "복습 예정"),
    "due_short": ("Due", "복습"),  # a 6-cell column on the home screen
    "retention": ("Retention", "기억률"),
    "mode_due": ("Due now", "지금 복습"),
    "mode_cram": ("Cram (off-schedule)", "벼락치기(일정 유지)"),
    "mode_mock": ("Mock interview", "모의 면접"),
    "length": ("Session length", "세션 길이"),
    "until": ("Interview date (YYYY-MM-DD)", "면접 날짜 (YYYY-MM-DD)"),
    "until_past": ("The interview date {day} is in the past", "면접 날짜 {day}는 이미 지났습니다"),
    "start": ("Start", "시작"),
    "language": ("Language", "언어"),
    "stats": ("Stats", "통계"),
    "help": ("Help", "도움말"),
    "quit": ("Quit", "종료"),
    "submit": ("Submit", "제출"),
    "reveal": ("Show answer", "정답 보기"),
    "next": ("Next", "다음"),
    "move_up": ("Move up", "위로"),
    "move_down": ("Move down", "아래로"),
    "true": ("True", "참"),
    "false": ("False", "거짓"),
    "fact": ("Fact", "사실"),
    "myth": ("Myth", "미신"),
    "right": ("Right", "정답"),
    "wrong": ("Wrong", "오답"),
    "answer_was": ("Answer", "정답"),
    "you_said": ("You answered", "내 답"),
    "why": ("Why", "해설"),
    "refs": ("References", "참고 문헌"),
    "rated": ("Rated {rating}; next review {due}", "평가: {rating} · 다음 복습 {due}"),
    "rated_cram": ("Cram: the schedule was not changed", "벼락치기: 복습 일정은 바뀌지 않았습니다"),
    "rating_1": ("Again", "다시"),
    "rating_2": ("Hard", "어려움"),
    "rating_3": ("Good", "좋음"),
    "rating_4": ("Easy", "쉬움"),
    "grade_yourself": ("Compare with the model answer and rate yourself: 1 Again · 2 Hard · "
                       "3 Good · 4 Easy",
                       "모범 답안과 비교해 스스로 평가하세요: 1 다시 · 2 어려움 · 3 좋음 · 4 쉬움"),
    "model_answer": ("Model answer", "모범 답안"),
    "type_answer": ("Type the number with its unit, e.g. {example}",
                    "단위와 함께 숫자를 입력하세요. 예: {example}"),
    "type_number": ("Type a number, e.g. {example}", "숫자를 입력하세요. 예: {example}"),
    "multi_prompt": ("Numbers 1-{n} separated by spaces, e.g. 1 3",
                     "1-{n} 중 번호를 띄어 써서 입력하세요. 예: 1 3"),
    "order_prompt": ("Numbers 1-{n} in the right order, e.g. {example}",
                     "1-{n}을 올바른 순서대로 입력하세요. 예: {example}"),
    "order_hint": ("Pick an item with ↑/↓, move it with Shift+↑/↓ (or u/d), Enter submits",
                   "↑/↓로 항목을 고르고 Shift+↑/↓(또는 u/d)로 옮긴 뒤 Enter로 제출"),
    "multi_hint": ("Space toggles, Enter submits (select all that apply)",
                   "Space로 선택/해제, Enter로 제출 (해당하는 것을 모두 고르세요)"),
    "mcq_hint": ("Press 1-{n} or move with ↑/↓ and press Enter",
                 "1-{n}을 누르거나 ↑/↓로 고른 뒤 Enter"),
    "numeric_hint": ("Enter submits; units are converted (B, kB, MB, MiB, GB, params, K/M/B)",
                     "Enter로 제출. 단위는 자동 변환됩니다 (B, kB, MB, MiB, GB, params, K/M/B)"),
    "tf_hint": ("t / f (or 1 / 2)", "t / f (또는 1 / 2)"),
    "myth_hint": ("Myth or fact? 1 fact / 2 myth (or m)",
                  "미신일까, 사실일까? 1 사실 / 2 미신 (또는 m)"),
    # card types as the status line names them
    "type_mcq": ("multiple choice", "객관식"),
    "type_multi": ("select all", "복수 선택"),
    "type_truefalse": ("true/false", "참/거짓"),
    "type_myth": ("myth or fact", "사실/미신"),
    "type_recall": ("recall", "서술형"),
    "type_numeric": ("numeric", "수치"),
    "type_order": ("order", "순서"),
    # why a typed answer was not accepted as given, or how it was read
    "note_not_number": ("not a number: {text}", "숫자가 아닙니다: {text}"),
    "note_other_family": ("{unit} is a unit of {family}; answer in {expected}",
                          "{unit}은(는) {family} 단위입니다. {expected}(으)로 답하세요"),
    "note_unknown_unit": ("unknown unit {unit}; answer in {expected}",
                          "알 수 없는 단위 {unit}입니다. {expected}(으)로 답하세요"),
    "note_read_as": ("read as {value}", "{value}(으)로 읽음"),
    "note_not_bool": ("not true or false", "참/거짓으로 읽을 수 없습니다"),
    "plain_number": ("a plain number", "단위 없는 숫자"),
    "family_bytes": ("bytes", "바이트"),
    "family_flops": ("FLOPs", "FLOP"),
    "family_time": ("time", "시간"),
    "family_params": ("parameter counts", "파라미터 개수"),
    "family_percent": ("percent", "퍼센트"),
    "progress": ("Card {i} of {n}", "{n}장 중 {i}번째"),
    "time_left": ("Time left {t}", "남은 시간 {t}"),
    "session_done": ("Session complete", "세션 완료"),
    "nothing_due": ("Nothing is due. Try cram mode or another topic.",
                    "지금 복습할 카드가 없습니다. 벼락치기나 다른 주제를 골라 보세요."),
    "summary": ("{right} of {n} right", "{n}문제 중 {right}개 정답"),
    "mock_report": ("Mock interview report", "모의 면접 결과"),
    "per_answer": ("s per answer", "초/문항"),
    "your_answers": ("Your answers", "내 답안"),
    "question": ("Question", "문제"),
    "seconds": ("s", "초"),
    "predict": ("Your prediction", "내 예측"),
    "predict_prompt": ("Type your prediction, then Enter runs the demo",
                       "예측을 입력하고 Enter를 누르면 데모가 실행됩니다"),
    "run_demo": ("Run demo", "데모 실행"),
    "demo": ("Live demo", "라이브 데모"),
    "demo_running": ("Running {name}…", "{name} 실행 중…"),
    "demo_step": ("Running {name}: {run}, step {step}/{total}",
                  "{name} 실행 중: {run}, {step}/{total} 스텝"),
    "demo_busy": ("A demo is already running", "이미 데모가 실행 중입니다"),
    "demo_cancelled": ("Demo cancelled", "데모를 취소했습니다"),
    "demo_failed": ("Demo failed: {error}", "데모 실패: {error}"),
    "verdict": ("Verdict", "판정"),
    "params": ("Parameters (edit and re-run)", "파라미터 (바꿔서 다시 실행)"),
    "reviews": ("Reviews", "복습 횟수"),
    "accuracy": ("Accuracy", "정확도"),
    "streak": ("Streak", "연속 학습"),
    "days": ("{n} day(s)", "{n}일"),
    "forecast": ("Due in the next 14 days", "앞으로 14일 복습 예정"),
    "weakest": ("Weakest topics", "약한 주제"),
    "suggest": ("Suggested next session", "다음 추천 세션"),
    "suggest_due": ("dlprep quiz (your due cards)", "dlprep quiz (복습할 카드)"),
    "not_saving": ("Progress is not being saved", "진행 상황이 저장되지 않습니다"),
    "keys": ("Keys", "단축키"),
    "quit_prompt": ("Type q to quit", "q를 입력하면 종료합니다"),
    "invalid_choice": ("Not understood. {expected}", "알아듣지 못했습니다. {expected}"),
}


def t(key: str, lang: str, **values: object) -> str:
    english, korean = STRINGS[key]
    text = korean if lang == "ko" else english
    return text.format(**values) if values else text


def default_lang(environ: dict[str, str] | None = None) -> str:
    """``ko`` when the locale says Korean (LC_ALL, LC_MESSAGES, LANG), else ``en``."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def type_label(card_type: str, myth: bool, lang: str) -> str:
    """How the status line names a card's type ("myth or fact" for myth cards)."""
    return t("type_myth" if myth else f"type_{card_type}", lang)


@dataclass(frozen=True)
class Note:
    """A message for the learner, kept as a string key and its values until it is shown,
    so the pure core can say it and the screen can say it in either language."""

    key: str
    args: tuple[tuple[str, str | Note], ...] = ()  # a Note value is translated too

    def text(self, lang: str) -> str:
        values = {k: v.text(lang) if isinstance(v, Note) else v for k, v in self.args}
        return t(self.key, lang, **values)
