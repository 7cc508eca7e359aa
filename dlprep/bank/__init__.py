"""The question bank: cards, loading and validation. Imports neither torch nor textual."""

from dlprep.bank.cards import CARD_TYPES, LANGS, Card, Text
from dlprep.bank.loader import Bank, BankPathError, Origin, Problem, load_bank, load_paths

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
