"""`dlprep quiz --plain` through stdin, `dlprep stats`, `dlprep progress`, and the imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dlprep.study.store import open_store

from .conftest import HERE

# Runs the CLI in a child with the test bank as the built-in one and the test registry,
# so these tests never depend on the real bank other engineers are still writing.
RUNNER = """
import sys
from pathlib import Path
import dlprep.paths as paths
import dlprep.registry as r
here = Path(sys.argv[1])
r.registry = lambda: r.scan(here / "demos")
paths.builtin_bank_dir = lambda: here / "bank"
from dlprep.cli import main
sys.exit(main(sys.argv[2:]))
"""


def dlprep(*args: str, stdin: str = "", env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-c", RUNNER, str(HERE), *args], input=stdin,
                          capture_output=True, text=True, env=full_env, timeout=60)


def test_plain_session_through_stdin() -> None:
    # t-numeric and t-template are the memory topic, in bank order; typos are re-asked.
    first = dlprep("quiz", "--plain", "--topic", "memory", "--lang", "en",
                   stdin="4e6 B\n")
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "[1/2]" in out and "How many megabytes" in out
    assert "✓ Right. Answer: 4 MB" in out and "fp32 is 4 bytes" in out
    assert "next review" in out and "1 of 1 right" in out  # input ended after one card
    [review] = open_store().reviews()
    assert (review.card_id, review.answer, review.kind, review.correct) == (
        "t-numeric", "4e6 B", "due", True)


def test_plain_asks_again_for_an_unreadable_number() -> None:
    result = dlprep("quiz", "--plain", "--topic", "memory", "--lang", "ko", stdin="넷\n4 MB\n")
    assert result.returncode == 0, result.stderr
    assert "읽을 수 없는 답입니다" in result.stdout and "다시 답하세요" in result.stdout
    [review] = open_store().reviews()
    assert review.answer == "4 MB" and review.correct is True


def test_plain_wrong_answers_and_korean() -> None:
    # Three activations cards in random cram order (mcq, multi, true/false): "9" is out of
    # range for each and is asked again; "1" is a valid answer for each.
    result = dlprep("quiz", "--plain", "--topic", "activations", "--lang", "ko", "--cram",
                    stdin="9\n1\n" * 3)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("알아듣지 못했습니다") == 3
    assert "세션 완료" in result.stdout and "3문제 중" in result.stdout
    reviews = open_store().reviews()
    assert len(reviews) == 3 and {r.kind for r in reviews} == {"cram"}
    assert open_store().states() == {}


def test_plain_mock_gives_a_report_at_the_end() -> None:
    result = dlprep("quiz", "--plain", "--mock", "2", "--topic", "memory", "--lang", "en",
                    stdin="4 MB\n1 B\n")
    assert result.returncode == 0, result.stderr
    assert "Right" not in result.stdout  # no feedback until the end
    assert "Mock interview report" in result.stdout
    assert "GPU memory estimation: " in result.stdout and "/2, " in result.stdout
    assert [r.kind for r in open_store().reviews()] == ["mock", "mock"]
    # ...and then every answer with its key, since none was shown during the interview
    report = result.stdout.split("Your answers", 1)[1]
    assert "1. " in report and "2. " in report and report.count("You answered: ") == 2
    assert report.count("Answer: ") == 2


def test_strict_and_lenient_bank(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: broken\n  topic: memory\n  type: mcq\n")
    env = {"DLPREP_BANK": str(bad)}
    lenient = dlprep("quiz", "--plain", "--topic", "memory", stdin="q\n", env=env)
    assert lenient.returncode == 0
    assert lenient.stderr.count("warning: skipped invalid card") == 1
    strict = dlprep("quiz", "--plain", "--strict", stdin="q\n", env=env)
    assert strict.returncode == 1 and "--strict" in strict.stderr
    usage = dlprep("quiz", "--plain", "--topic", "nope")
    assert usage.returncode == 2 and "unknown topic" in usage.stderr


def test_stats_and_progress_round_trip(tmp_path: Path) -> None:
    dlprep("quiz", "--plain", "--topic", "memory", "--lang", "en", stdin="4 MB\n1 B\n")
    stats = dlprep("stats", "--lang", "en")
    assert stats.returncode == 0, stats.stderr
    assert "GPU memory estimation" in stats.stdout and "Due in the next 14 days" in stats.stdout
    data = json.loads(dlprep("stats", "--json").stdout)
    assert data["reviews"] == 2 and data["correct"] == 1
    backup = tmp_path / "backup.json"
    exported = dlprep("progress", "export", str(backup))
    assert exported.returncode == 0 and "2 review(s)" in exported.stdout
    other = {"DLPREP_HOME": str(tmp_path / "elsewhere")}
    imported = dlprep("progress", "import", str(backup), env=other)
    assert "imported 2 new review(s) and 2 card state(s)" in imported.stdout
    again = dlprep("progress", "import", str(backup), env=other)
    assert "imported 0 new review(s)" in again.stdout
    (tmp_path / "junk.json").write_text('{"format": "other"}')
    assert dlprep("progress", "import", str(tmp_path / "junk.json")).returncode == 1


def test_plain_quiz_imports_neither_torch_nor_textual() -> None:
    probe = RUNNER.replace("sys.exit(main(sys.argv[2:]))",
                           "code = main(sys.argv[2:])\nprint('@@', sorted(sys.modules))")
    result = subprocess.run(
        [sys.executable, "-c", probe, str(HERE), "quiz", "--plain", "--lang", "en"],
        input="q\n", capture_output=True, text=True)
    modules = result.stdout.rsplit("@@", 1)[1]
    assert "'torch'" not in modules and "'textual'" not in modules


def test_bad_options_are_usage_errors() -> None:
    bad_date = dlprep("quiz", "--plain", "--until", "next friday")
    assert bad_date.returncode == 2 and "2026-12-15" in bad_date.stderr
    past = dlprep("quiz", "--plain", "--until", "2000-01-01")
    assert past.returncode == 2 and "in the past" in past.stderr
    both = dlprep("quiz", "--plain", "--cram", "--mock", "3")
    assert both.returncode == 2 and "not both" in both.stderr


def test_until_front_loads_in_plain_mode() -> None:
    dlprep("quiz", "--plain", "--topic", "memory", "--lang", "en", stdin="4 MB\n")
    # The card just answered is not due; with an interview tomorrow it comes back now
    # (the other memory card is new, so it is in both plans).
    later = dlprep("quiz", "--plain", "--topic", "memory", "--lang", "en", stdin="q\n")
    assert "[1/1]" in later.stdout
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    soon = dlprep("quiz", "--plain", "--topic", "memory", "--until", tomorrow, stdin="q\n")
    assert "[1/2]" in soon.stdout


# A learner's own card (in the gpu topic), for the bank-cache tests.
MY_CARD = """- id: my-card
  topic: gpu
  type: truefalse
  difficulty: 1
  q: {en: "QUESTION-ONE is true?", ko: "그런가?"}
  explain: {en: "Yes.", ko: "그렇다."}
  refs: ["Deep Learning, MIT Press 2016"]
  answer: true
"""


def test_an_edited_card_is_shown_fresh_not_from_the_bank_cache(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    text = MY_CARD
    mine.write_text(text, encoding="utf-8")
    args = ("quiz", "--plain", "--cram", "--topic", "gpu", "--bank", str(mine), "--lang", "en")
    first = dlprep(*args, stdin="q\n")
    assert first.returncode == 0, first.stderr
    assert "QUESTION-ONE" in first.stdout
    assert (Path(os.environ["DLPREP_HOME"]) / "cache" / "bank.pickle").is_file()
    mine.write_text(text.replace("QUESTION-ONE", "QUESTION-TWO"), encoding="utf-8")
    second = dlprep(*args, stdin="q\n")
    assert second.returncode == 0, second.stderr
    assert "QUESTION-TWO" in second.stdout and "QUESTION-ONE" not in second.stdout
