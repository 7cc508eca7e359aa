"""Interface strings in English and Korean (written, not machine-translated).

Pure data, shared by the TUI and ``--plain``; card text itself comes from the bank.
"""

from __future__ import annotations

import os
import re
from datetime import datetime

from dlprep.record import record

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
    "until_past": ("The interview date {day} is in the past",
                   "면접 날짜 {day}은(는) 이미 지났습니다"),
    "start": ("Start", "시작"),
    "language": ("Language", "언어"),
    "stats": ("Stats", "통계"),
    "help": ("Help", "도움말"),
    "quit": ("Quit", "종료"),
    "submit": ("Submit", "제출"),
    "reveal": ("Show answer", "정답 보기"),
    "next": ("Next", "다음"),
    "move_up": ("Move up", "위로"),
    "cannot_move": ("Pick the item to move first: ↓ highlights the first one",
                    "옮길 항목부터 고르세요: ↓를 누르면 첫 항목이 선택됩니다"),
    "cannot_move_top": ("That item is already first", "이미 맨 위에 있는 항목입니다"),
    "cannot_move_bottom": ("That item is already last", "이미 맨 아래에 있는 항목입니다"),
    "cannot_toggle": ("Pick an option first: ↓ highlights the first one, or press its number",
                      "먼저 선택지를 고르세요: ↓를 누르면 첫 선택지가 선택되고, "
                      "번호를 눌러도 됩니다"),
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
    "rated": ("Rated {rating}; next review {when}", "평가: {rating} · 다음 복습 {when}"),
    "rated_cram": ("Cram: the schedule was not changed", "벼락치기: 복습 일정은 바뀌지 않았습니다"),
    "not_saved_yet": ("Not saved yet: another dlprep holds the progress file; retrying…",
                      "아직 저장되지 않음: 다른 dlprep이 진행 파일을 쓰고 있어 다시 시도하는 중…"),
    "not_saved": ("Not saved: {error}", "저장하지 못했습니다: {error}"),
    "saved_after_retry": ("Saved after the progress file was freed",
                          "진행 파일이 풀려서 저장했습니다"),
    "pending_quit": ("{n} answer(s) not saved yet (the progress file is locked); "
                     "press Ctrl+Q again to quit without them",
                     "아직 저장하지 못한 답 {n}개 (진행 파일이 잠겨 있음): 그래도 나가려면 "
                     "Ctrl+Q를 한 번 더 누르세요"),
    "rerate": ("Change the rating:", "평가 바꾸기:"),
    "undone": ("Answer undone: the card is asked again", "답을 취소했습니다: 카드를 다시 묻습니다"),
    "ask_again": ("Could not read that ({note}); answer again",
                  "읽을 수 없는 답입니다 ({note}). 다시 답하세요"),
    "predict_first": ("This card has a live demo: press d to predict what it will show "
                      "before you see the answer, or Enter to see the answer now.",
                      "이 카드에는 라이브 데모가 있습니다: 정답을 보기 전에 d를 눌러 결과를 "
                      "예측해 보세요. Enter를 누르면 바로 정답을 봅니다."),
    "result_hidden": ("Your answer is saved; the result is shown after the demo or with Enter.",
                      "답은 저장했습니다. 결과는 데모 뒤에, 또는 Enter를 누르면 보입니다."),
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
                     "1-{n}을(를) 올바른 순서대로 입력하세요. 예: {example}"),
    "order_hint": ("Pick an item with ↑/↓, move it with Shift+↑/↓ (or u/d), Enter submits",
                   "↑/↓로 항목을 고르고 Shift+↑/↓(또는 u/d)로 옮긴 뒤 Enter로 제출"),
    "multi_hint": ("Space toggles, Enter submits (select all that apply)",
                   "Space로 선택/해제, Enter로 제출 (해당하는 것을 모두 고르세요)"),
    "mcq_hint": ("Press 1-{n} or move with ↑/↓ and press Enter",
                 "1-{n}을(를) 누르거나 ↑/↓로 고른 뒤 Enter"),
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
    "demo_marker": ("▶ demo", "▶ 데모"),  # the card links a live demo
    # why a typed answer was not accepted as given, or how it was read
    "note_not_number": ("not a number: {text}", "숫자가 아닙니다: {text}"),
    "note_other_family": ("{unit} is a unit of {family}; answer in {expected}",
                          "{unit}은(는) {family} 단위입니다. {expected}(으)로 답하세요"),
    "note_unknown_unit": ("unknown unit {unit}; answer in {expected}",
                          "알 수 없는 단위 {unit}입니다. {expected}(으)로 답하세요"),
    "note_read_as": ("read as {value}", "{value}(으)로 읽음"),
    "note_not_bool": ("not true or false", "참/거짓으로 읽을 수 없습니다"),
    # an answer submitted before anything was done: asked for directly, not "unreadable"
    "ask_choose_first": ("Choose at least one option", "하나 이상 고르세요"),
    "ask_move_first": ("Move the items into order first (they are still shuffled)",
                       "항목을 아직 옮기지 않았습니다. 순서를 맞춘 뒤 제출하세요"),
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
    # cards, each counted by its first answer in the session
    "summary": ("{right} of {n} right", "{n}문제 중 {right}개 정답"),
    "came_back": ("{n} asked again on their learning step ({answers} answers in all)",
                  "{n}문제는 학습 단계에 따라 다시 나옴(모두 {answers}번 답함)"),
    "mock_report": ("Mock interview report", "모의 면접 결과"),
    "per_answer": ("s per answer", "초/문항"),
    "your_answers": ("Your answers", "내 답안"),
    "question": ("Question", "문제"),
    "n_seconds": ("{n} s", "{n}초"),
    "unanswered_stopped": ("{n} card(s) not answered: you ended the interview",
                           "답하지 않은 카드 {n}장: 면접을 중간에 끝냈습니다"),
    "unanswered_time": ("{n} card(s) not answered: the time ran out",
                        "답하지 않은 카드 {n}장: 시간이 다 됐습니다"),
    "predict": ("Your prediction", "내 예측"),
    "predict_yesno": ("y or n; Enter runs the demo", "y 또는 n, Enter를 누르면 데모가 실행됩니다"),
    "predict_number": ("Your prediction in {unit}; Enter runs the demo",
                       "내 예측 ({unit} 단위), Enter를 누르면 데모가 실행됩니다"),
    "predict_choice": ("1-{n} (or the choice's name); Enter runs the demo",
                       "1-{n} (또는 보기 이름), Enter를 누르면 데모가 실행됩니다"),
    "predict_none": ("Enter runs the demo", "Enter를 누르면 데모가 실행됩니다"),
    "predict_no_question": ("What does this demo show? Run it and see.",
                            "이 데모는 무엇을 보여 줄까요? 실행해서 확인해 보세요."),
    "unread_yesno": ("Type y or n", "y 또는 n을 입력하세요"),
    "unread_choice": ("Type a number from 1 to {n}, or a choice's name",
                      "1부터 {n}까지의 번호나 보기 이름을 입력하세요"),
    "you": ("you", "내 예측"),
    "came": ("{pick} came {place} of {n}", "{pick}: {n}개 중 {place}위"),
    "no_measure": ("nothing measured to grade against", "채점할 측정값이 없습니다"),
    "exact": ("exactly {value}", "정확히 {value}"),
    "params_hint": ("Tab: to the parameters (each one's meaning shows here); Enter re-runs",
                    "Tab: 파라미터로 이동 (뜻은 여기에 표시), Enter로 다시 실행"),
    "yes": ("yes", "예"),
    "no": ("no", "아니요"),
    "claim_hidden": ("The claim is shown when the run ends, so it cannot give the answer away.",
                     "정답이 미리 보이지 않도록 주장은 실행이 끝난 뒤에 보여 줍니다."),
    "claim": ("Claim", "주장"),
    "measured": ("measured", "측정"),
    # The moment first: at 80 columns a long label is cut, never the step the bars show.
    "bars_title": ("{when}: {label}", "{when}의 {label}"),  # labels say "per layer"
    "log_scale": ("log", "로그"),
    "per_step": ("{metric} per step", "스텝별 {metric}"),
    "not_finite": ("not finite", "발산"),
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
    "suggest_due": ("your due cards", "복습할 카드"),
    "not_saving": ("Progress is not being saved", "진행 상황이 저장되지 않습니다"),
    "keys": ("Keys", "단축키"),
    # the help screen: one row per key that exists
    "h_any": ("anywhere", "어디서나"),
    "h_help": ("this help", "이 도움말"),
    "h_theme": ("light / dark theme", "밝은 / 어두운 테마"),
    "h_quit": ("quit (answers are saved as you go)", "종료 (답은 그때그때 저장됨)"),
    "h_topics": ("select topics (none = all)", "주제 선택 (선택 없음 = 전체)"),
    "h_home": ("start / 한국어·English / stats / quit", "시작 / 한국어·English / 통계 / 종료"),
    "h_mcq": ("answer", "답하기"),
    "h_multi": ("toggle, submit", "선택/해제, 제출"),
    "h_tf": ("true / false", "참 / 거짓"),
    "h_fact": ("it is a fact", "사실이다"),
    "h_myth": ("it is a myth", "미신이다"),
    "h_recall": ("show answer, rate Again/Hard/Good/Easy", "정답 보기, 다시/어려움/좋음/쉬움 평가"),
    "h_numeric": ("submit a number with a unit (4 MB, 4e6 B, 3.8 MiB)",
                  "단위와 함께 숫자 제출 (4 MB, 4e6 B, 3.8 MiB)"),
    "h_order": ("pick, move, submit", "고르기, 옮기기, 제출"),
    "h_card": ("home (a mock interview asks first, then shows the report)",
               "홈으로 (모의 면접은 먼저 묻고 결과를 보여 줌)"),
    "h_card_demo": ("a recall card's demo: predict & run it before the model answer",
                    "서술형 카드의 데모: 모범 답안을 보기 전에 예측 후 실행"),
    "h_feedback": ("next card (or show the held result) / predict & run demo / home",
                   "다음 카드 (또는 미뤄 둔 결과 보기) / 예측 후 데모 / 홈"),
    "h_rate": ("change the rating (the next interval is shown), undo the answer",
               "평가 바꾸기 (다음 간격 표시), 답 되돌리기"),
    "h_demo": ("type your prediction (y / n, a number, or a choice) and run; Tab to the "
               "parameters (Enter re-runs); re-run; cancel or back",
               "예측 입력(y / n, 숫자, 또는 보기) 후 실행, Tab으로 파라미터 이동(Enter로 재실행), "
               "재실행, 취소 또는 뒤로"),
    "h_stats": ("start the suggested session, back", "추천 세션 시작, 뒤로"),
    "h_summary": ("home, stats", "홈, 통계"),
    "s_home": ("Home", "홈"),
    "s_card": ("Card", "카드"),
    "s_feedback": ("Feedback", "피드백"),
    "s_demo": ("Demo", "데모"),
    "s_stats": ("Stats", "통계"),
    "s_summary": ("Summary", "요약"),
    "mark_chosen": ("chosen, right", "골랐음, 정답"),
    "mark_missed": ("missed", "놓침"),
    "mark_wrong": ("chosen, wrong", "골랐음, 오답"),
    "time_taken": ("Time", "걸린 시간"),
    "mock_end": ("End the interview now? The report covers the cards answered so far.",
                 "면접을 지금 끝낼까요? 지금까지 답한 카드로 결과를 보여 줍니다."),
    "new_short": ("New", "신규"),
    "suggest_key": ("press c to start it", "c를 누르면 시작합니다"),
    # footer labels: bindings are written in English; localize() looks them up here
    "Start": ("Start", "시작"),
    "Stats": ("Stats", "통계"),
    "Quit": ("Quit", "종료"),
    "Help": ("Help", "도움말"),
    "Theme": ("Theme", "테마"),
    "Home": ("Home", "홈"),
    "Next": ("Next", "다음"),
    "Predict & run demo": ("Predict & run demo", "예측 후 데모"),
    "Show answer": ("Show answer", "정답 보기"),
    "Submit": ("Submit", "제출"),
    "Move up": ("Move up", "위로"),
    "Move down": ("Move down", "아래로"),
    "Run / re-run": ("Run / re-run", "실행/재실행"),
    "Cancel / back": ("Cancel / back", "취소/뒤로"),
    "Back": ("Back", "뒤로"),
    "Close": ("Close", "닫기"),
    "Toggle option": ("Toggle option", "선택/해제"),
    "Undo": ("Undo", "되돌리기"),
    "End interview": ("End interview", "면접 끝내기"),
    "Yes": ("Yes", "예"),
    "No": ("No", "아니요"),
    "Suggested session": ("Suggested session", "추천 세션"),
    # a demo's run as the command line and the live view report it
    "interrupted": ("Interrupted.", "중단됨."),
    "diverged_where": ("{run} at step {step}", "{run} {step}번째 스텝"),
    "diverged_list": ("Diverged (inf/NaN): {where}", "발산(inf/NaN): {where}"),
    "diverged_at": ("✗ diverged at step {at}", "✗ {at}번째 스텝에서 발산"),
    "bars_at_init": ("at init (step 1)", "초기화 시점(1스텝)"),
    "bars_at_step": ("at step {step}", "{step}스텝 시점"),
    "bars_at_end": ("at the end (step {step})", "실행 끝({step}스텝)"),
    "bars_at_steps": ("at steps {first}-{last}, each run's own", "실행마다 {first}-{last}스텝"),
    "bars_last": ("each run's last record", "실행마다 마지막 기록"),
    "scale_log": ("log scale", "로그 척도"),
    "scale_linear": ("linear scale", "선형 척도"),
    "col_run": ("run", "실행"),
    "col_step": ("at step", "스텝"),
    "col_metrics": ("metrics", "지표"),
    "live_verdict": ("verdict", "판정"),  # the live view's panel title
    "cancelled_none": ("Cancelled before any step.", "취소됨: 측정된 단계가 없습니다."),
    "cancelled_partial": ("Cancelled; partial results: {parts}.", "취소됨 (부분 결과): {parts}."),
    "partial_run": ("{run} step {step}/{total} ({shown})", "{run} {step}/{total} 스텝 ({shown})"),
    "no_metric_yet": ("no metric yet", "아직 지표 없음"),
    "walk_prompt": ("[Enter: next, q: stop]", "[Enter: 다음, q: 그만]"),
    # `dlprep export anki`: labels on the notes (with why, refs, true/false, fact/myth)
    "anki_true_or_false": ("True or false?", "참일까요, 거짓일까요?"),
    "anki_myth_or_fact": ("Myth or fact?", "미신일까요, 사실일까요?"),
    "anki_within": ("accepted within", "허용 오차"),
    "anki_type_number": ("Type the number", "숫자를 입력하세요"),
    # `dlprep demo NAME --save-notebook`: the notebook's own text
    "nb_title": ("dlprep demo", "dlprep 데모"),
    "nb_measured": ("What is measured", "무엇을 측정하나"),
    "nb_metric": ("The chart's main quantity is `{metric}`, logged about 100 times per run.",
                  "차트의 주요 값은 `{metric}`이며 실행마다 약 100번 기록합니다."),
    "nb_layers": ("Per layer: {label} (`{prefix}1` … `{prefix}L`), shown as one bar per layer.",
                  "층별 값: {label} (`{prefix}1` … `{prefix}L`), 층마다 막대 하나로 그립니다."),
    "nb_control": ("The control experiment removes the cause: set {settings} in the parameters "
                   "cell and run all cells again; the verdict then says whether the effect is "
                   "gone.",
                   "대조 실험은 원인을 없앱니다. 매개변수 셀에서 {settings}(으)로 바꾸고 모든 "
                   "셀을 다시 실행하면, 판정이 효과가 사라졌는지 알려 줍니다."),
    "nb_params": ("## Parameters\nEdit and run all cells again. `DEVICE` may be auto, cpu, "
                  "cuda or mps.",
                  "## 매개변수\n값을 바꾼 뒤 모든 셀을 다시 실행하세요. `DEVICE`는 auto, cpu, "
                  "cuda, mps 중 하나입니다."),
    "nb_helpers": ("## Helpers\nData sets, the MLP and measurements shared by the demos, which "
                   "the experiment above calls (the cell is folded: click it to show the code).",
                   "## 도우미 코드\n위 실험이 호출하는, 데모들이 함께 쓰는 데이터셋, MLP, 측정 "
                   "함수입니다 (셀이 접혀 있으니 눌러서 코드를 펼치세요)."),
    "nb_demo": ("## The experiment", "## 실험"),
    "nb_run": ("## Run it", "## 실행"),
    "nb_plot": ("## Plot", "## 그래프"),
    "nb_verdict": ("## Verdict (computed from this run's numbers)",
                   "## 판정 (이번 실행의 수치로 계산)"),
    "nb_saved": ("Saved by dlprep {version}. Runs with only torch; matplotlib draws the plot.",
                 "dlprep {version}이(가) 저장했습니다. torch만 있으면 실행되고, 그래프는 "
                 "matplotlib으로 그립니다."),
    "nb_saved_dlprep": ("Saved by dlprep {version}. This demo is built on dlprep's own code, so "
                        "it needs torch and dlprep (pip install dlprep); matplotlib draws the "
                        "plot.",
                        "dlprep {version}이(가) 저장했습니다. 이 데모는 dlprep의 코드 위에 "
                        "만들어져 torch와 dlprep이 모두 필요합니다(pip install dlprep). 그래프는 "
                        "matplotlib으로 그립니다."),

    "quit_prompt": ("Type q to quit", "q를 입력하면 종료합니다"),
    "invalid_choice": ("Not understood. {expected}", "알아듣지 못했습니다. {expected}"),
}


def t(key: str, lang: str, **values: object) -> str:
    english, korean = STRINGS[key]
    if lang != "ko":
        return english.format(**values) if values else english
    return josa(korean.format(**values)) if values else korean


def label(english: str, lang: str) -> str:
    """A footer label in ``lang``: bindings are written in English, keyed by that text."""
    if lang != "ko" or english not in STRINGS:
        return english
    return STRINGS[english][1]


# Korean particles depend on whether the word before ends in a consonant (받침); with a
# number or a Latin letter, on how it is read aloud ("100으로", "4로", "MB로", "1로").
_PAIRS = {"(으)로": ("으로", "로"), "은(는)": ("은", "는"), "이(가)": ("이", "가"),
          "을(를)": ("을", "를"), "과(와)": ("과", "와"), "(이)라": ("이라", "라")}
_JOSA = re.compile(r"(?P<word>[^\s]*?)(?P<pair>"
                   r"\(으\)로|은\(는\)|이\(가\)|을\(를\)|과\(와\)|\(이\)라)")
_DIGIT_FINAL = "ㅇㄹ_ㅁ__ㄱㄹㄹ_"  # 영 일 이 삼 사 오 육 칠 팔 구: the final sound, "_" none
_LETTER_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}  # 엘 엠 엔 알; the rest end open


def _final(word: str) -> str:
    """The final consonant of how ``word`` is read ("" when it ends in a vowel)."""
    for char in reversed(word):
        if "가" <= char <= "힣":
            index = (ord(char) - 0xAC00) % 28
            return "" if index == 0 else ("ㄹ" if index == 8 else "ㅇ")
        if char.isdigit():
            final = _DIGIT_FINAL[int(char)]
            return "" if final == "_" else final
        if char.isascii() and char.isalpha():
            return _LETTER_FINAL.get(char.lower(), "")
    return ""


def josa(text: str) -> str:
    """Resolve "(으)로"-style particles after the word each follows."""

    def pick(match: re.Match[str]) -> str:
        word, pair = match.group("word"), match.group("pair")
        with_final, without = _PAIRS[pair]
        final = _final(word)
        if pair == "(으)로":  # ㄹ takes 로 like a vowel: "1로", "서울로"
            chosen = with_final if final and final != "ㄹ" else without
        else:
            chosen = with_final if final else without
        return word + chosen

    return _JOSA.sub(pick, text)


def interval_text(seconds: float, lang: str) -> str:
    """A review interval as Anki shows it: 10m, 3h, 4d, 2.5mo, 1.2y (분, 시간, 일, 개월, 년)."""
    units = (("y", "년", 365 * 86400.0), ("mo", "개월", 30 * 86400.0), ("d", "일", 86400.0),
             ("h", "시간", 3600.0), ("m", "분", 60.0))
    for en, ko, size in units:
        if seconds >= size * (0.95 if en in ("d", "h", "m") else 1):
            value = seconds / size
            number = f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 and en in (
                "y", "mo") else f"{round(value)}"
            return f"{number}{ko if lang == 'ko' else en}"
    return "<1분" if lang == "ko" else "<1m"


def local_time(moment: datetime) -> str:
    """``moment`` in the learner's own time zone (the store keeps UTC)."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def schedule_text(next_due: datetime | None, rating: int, now: datetime, lang: str) -> str:
    """"Rated Good; next review in 4d (2026-03-06 09:00)" (cram: nothing changed)."""
    if next_due is None:
        return t("rated_cram", lang)
    wait = interval_text((next_due - now).total_seconds(), lang)
    return t("rated", lang, rating=t(f"rating_{rating}", lang),
             when=f"{'' if lang == 'ko' else 'in '}{wait}{' 뒤' if lang == 'ko' else ''} "
                  f"({local_time(next_due)})")


def default_lang(environ: dict[str, str] | None = None) -> str:
    """``ko`` when the locale says Korean (LC_ALL, LC_MESSAGES, LANG), else ``en``."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


@record
class Note:
    """A message for the learner, kept as a string key and its values until it is shown,
    so the pure core can say it and the screen can say it in either language."""

    key: str
    args: tuple[tuple[str, str | Note], ...] = ()  # a Note value is translated too

    def text(self, lang: str) -> str:
        values = {k: v.text(lang) if isinstance(v, Note) else v for k, v in self.args}
        return t(self.key, lang, **values)
