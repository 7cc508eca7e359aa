"""Turn a validated pydantic card into its runtime twin (:mod:`dlprep.bank.cards`).

Generic on purpose: every model is matched to the dataclass of the same name and its
fields are copied in order, lists becoming tuples, so a field added to both classes needs
no code here. Runs only when cards are validated, never on a bank-cache hit.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from dlprep.bank import cards
from dlprep.bank.cards import Card


def to_runtime(model: BaseModel) -> Any:
    """The :mod:`dlprep.bank.cards` twin of any card model (a card, Text, Template...)."""
    twin = getattr(cards, type(model).__name__)
    return twin(**{name: _value(getattr(model, name)) for name in type(model).model_fields})


def to_card(model: BaseModel) -> Card:
    card: Card = to_runtime(model)
    return card


def _value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return to_runtime(value)
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    if isinstance(value, dict):
        return {key: _value(v) for key, v in value.items()}
    return value
