"""The question bank: card models, loading and validation. Imports neither torch nor textual."""

from dlprep.bank.loader import Bank, BankPathError, Origin, Problem, load_bank, load_paths
from dlprep.bank.models import CARD_TYPES, LANGS, Card, Text

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
