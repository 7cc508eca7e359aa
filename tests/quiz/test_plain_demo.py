"""`dlprep quiz --plain` hands a demo card's learner the command that runs its demo."""

from __future__ import annotations

from .test_cli import dlprep


def test_plain_feedback_gives_the_cards_demo_command() -> None:
    result = dlprep("quiz", "--plain", "--topic", "optimizers", "--cram", "--lang", "ko",
                    # the three cards come in any order: each reads the first line it can
                    # (Enter and a rating, an order of the four items, true)
                    stdin="\n3\nt\n1 2 3 4\n" * 6)
    assert result.returncode == 0, result.stderr
    assert "데모 실행: dlprep demo toy --set lr=0.5\n" in result.stdout
