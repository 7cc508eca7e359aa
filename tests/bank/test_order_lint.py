"""Order cards whose own explanation calls an item movable are flagged (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlprep.bank import load_bank, load_paths
from dlprep.bank.cards import Order, Text
from dlprep.bank.lint import lint_card

CARD = """\
- id: loop-order
  topic: training-loop
  type: order
  difficulty: 1
  q: {{en: "Order the calls.", ko: "호출을 순서대로 나열하라."}}
  items: ["optimizer.zero_grad()", "y_hat = net(X)", "l.backward()", "optimizer.step()"]
  explain:
    en: "{explain}"
    ko: "설명."
  refs: ["PyTorch docs: torch.optim"]
"""


def order(explain: str, items: tuple[str | Text, ...]) -> Order:
    return Order(
        id="o", topic="training-loop", difficulty=1, q=Text("q", "질문"),
        explain=Text(explain, "설명"), refs=("PyTorch docs",), type="order", items=items,
    )


@pytest.mark.parametrize(
    "explain",
    [
        "Old gradients are cleared first (zero_grad may also come right after `step()`).",
        "Old gradients are cleared first (zero_grad may\n  also come right after `step()`).",
        "Freezing the backbone and replacing the head commute. Then fine-tune.",
        "The two middle steps can be done in either order; replace the head, freeze the backbone.",
        "You may freeze the backbone before or after you replace the head.",
    ],
)
def test_an_explanation_that_moves_an_item_is_flagged(explain: str) -> None:
    items = (
        "optimizer.zero_grad()",
        Text("Replace the head", "헤드를 바꾼다"),
        Text("Freeze the backbone", "백본을 고정한다"),
        "optimizer.step()",
    )
    warnings = lint_card(order(explain, items))
    assert warnings and all(field == "explain" for field, _ in warnings), warnings
    assert "exactly one defensible order" in warnings[0][1]


@pytest.mark.parametrize(
    "explain",
    [
        # a movable operation that is deliberately not an item
        "zero_grad is not an item: it may also come right after step(), so it is left out.",
        "The forward pass builds the graph and backward fills .grad; then step applies it.",
        "Freezing itself can happen before or after the new layer is attached.",
    ],
)
def test_a_consistent_explanation_is_not_flagged(explain: str) -> None:
    items = ("y_hat = net(X)", "l.backward()", Text("Train the new head", "새 헤드를 학습"))
    assert lint_card(order(explain, items)) == []


def test_validate_reports_it_as_a_warning_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cards.yaml"
    explain = "Clear first (optimizer.zero_grad() may also come right after optimizer.step())."
    path.write_text(CARD.format(explain=explain), encoding="utf-8")
    bank = load_paths([path])
    assert "loop-order" in bank.cards, "a warning never drops the card"
    (problem,) = bank.problems
    assert problem.severity == "warning" and problem.field == "explain"
    assert problem.line == 1 and str(problem).startswith(f"{problem.file}:1: loop-order: explain:")


def test_the_builtin_order_cards_are_consistent() -> None:
    bank = load_bank()
    orders = [c for c in bank.cards.values() if isinstance(c, Order)]
    assert len(orders) >= 10
    assert [w for c in orders for w in lint_card(c)] == []
