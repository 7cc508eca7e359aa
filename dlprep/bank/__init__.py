"""The question bank: cards, loading and validation. Imports neither torch nor textual.

The names below are loaded on first use: a start served from the bank cache reads only its
index (``dlprep.bank.cache``) and needs neither the card classes nor the loader.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlprep.bank.cards import CARD_TYPES, LANGS, Card, Text
    from dlprep.bank.loader import Bank, BankPathError, Origin, Problem, load_bank, load_paths

_HOMES = {
    "CARD_TYPES": "cards", "LANGS": "cards", "Card": "cards", "Text": "cards",
    "Bank": "loader", "BankPathError": "loader", "Origin": "loader", "Problem": "loader",
    "load_bank": "loader", "load_paths": "loader",
}

__all__ = [
    "CARD_TYPES",
    "LANGS",
    "Bank",
    "BankPathError",
    "Card",
    "Origin",
    "Problem",
    "Text",
    "load_bank",
    "load_paths",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dlprep.bank' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dlprep.bank.{home}"), name)
