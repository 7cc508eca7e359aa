"""The runtime cards stay twins of the pydantic models that validate them."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from dlprep.bank import cards, models
from dlprep.bank.convert import to_card, to_runtime
from dlprep.bank.loader import card_files, load_bank
from dlprep.paths import builtin_bank_dir
from dlprep.record import is_record

MODELS = [
    cls for name, cls in vars(models).items()
    if inspect.isclass(cls) and issubclass(cls, BaseModel) and not name.startswith("_")
    and cls.__module__ == models.__name__
]
MISSING = object()


def test_every_public_model_has_a_twin_and_nothing_else_does() -> None:
    assert {m.__name__ for m in MODELS} == {
        "Text", "PredictNumber", "PredictChoice", "PredictYesNo", "DemoLink", "Mcq", "Multi",
        "TrueFalse", "Recall", "Tolerance", "Template", "Numeric", "Order",
    }
    twins = {name for name, cls in vars(cards).items()
             if dataclasses.is_dataclass(cls) and not name.startswith("_")}
    assert twins == {m.__name__ for m in MODELS}


def _lists_to_tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_lists_to_tuples(v) for v in value)
    return value


def _model_default(info: Any) -> Any:
    if info.default_factory is not None:
        return _lists_to_tuples(info.default_factory())
    return MISSING if info.default is PydanticUndefined else info.default


def _twin_default(spec: dataclasses.Field[Any]) -> Any:
    if spec.default_factory is not dataclasses.MISSING:
        return spec.default_factory()
    return MISSING if spec.default is dataclasses.MISSING else spec.default


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_twin_has_the_same_fields_in_order_with_the_same_defaults(model: type[BaseModel]) -> None:
    twin = getattr(cards, model.__name__)
    assert [f.name for f in dataclasses.fields(twin)] == list(model.model_fields)
    for spec in dataclasses.fields(twin):
        assert _twin_default(spec) == _model_default(model.model_fields[spec.name]), spec.name
    # A frozen @record, without __slots__: a cache hit then restores each card's __dict__ in
    # C instead of calling a Python __setstate__ per object (start-up time).
    assert is_record(twin) and not hasattr(twin, "__slots__")


def _tuples_to_lists(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_tuples_to_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _tuples_to_lists(v) for k, v in value.items()}
    return value


def test_every_real_card_converts_and_validates_back_to_an_equal_model() -> None:
    loaded = load_bank()
    seen = 0
    for path in card_files(builtin_bank_dir()):
        for data in yaml.safe_load(path.read_text(encoding="utf-8")):
            model = models.card_adapter.validate_python(data)
            runtime = to_card(model)
            again = models.card_adapter.validate_python(
                _tuples_to_lists(dataclasses.asdict(runtime))
            )
            assert again == model, model.id
            assert type(again) is type(model)
            assert loaded.cards[model.id] == runtime  # the loader keeps exactly this twin
            seen += 1
    assert seen == len(loaded.cards) > 100


def test_runtime_cards_are_immutable_and_use_tuples() -> None:
    card = next(c for c in load_bank().cards.values() if isinstance(c, cards.Mcq))
    assert isinstance(card.choices, tuple) and isinstance(card.refs, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.answer = "something else"  # type: ignore[misc]


def test_templates_convert_their_value_lists() -> None:
    template = models.Template(vars={"n": [1, 2.5]}, formula="n * 2")
    twin = to_runtime(template)
    assert twin == cards.Template(vars={"n": (1.0, 2.5)}, formula="n * 2")
    tolerance = to_runtime(models.Tolerance(rel=0.01))
    assert tolerance.accepts(101.0, 100.0) and not tolerance.accepts(102.0, 100.0)

