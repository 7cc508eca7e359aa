"""``@record`` classes behave as the frozen dataclasses they replace (start-up speed only)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from dlprep.bank import cards
from dlprep.record import is_record, record
from dlprep.study.plan import Spec


@record
class Point:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = dataclasses.field(default_factory=dict)


def test_a_record_is_a_dataclass_with_its_fields_in_order() -> None:
    assert is_record(Point) and dataclasses.is_dataclass(Point)
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "y", "tags", "extra"]
    assert dataclasses.asdict(Point(1)) == {"x": 1, "y": 0, "tags": (), "extra": {}}
    assert dataclasses.replace(Point(1, 2), y=5) == Point(1, 5)


def test_arguments_as_a_generated_init_takes_them() -> None:
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    assert Point(1).extra is not Point(1).extra  # a fresh default from the factory
    with pytest.raises(TypeError, match="missing argument 'x'"):
        Point()
    with pytest.raises(TypeError, match="multiple values"):
        Point(1, x=2)
    with pytest.raises(TypeError, match="positional"):
        Point(1, 2, (), {}, 5)
    with pytest.raises(TypeError, match="unexpected"):
        Point(1, z=3)


def test_keyword_only_records_take_no_positional_argument() -> None:
    with pytest.raises(TypeError, match="positional"):
        cards.Tolerance(0.5)  # type: ignore[misc]
    link = cards.DemoLink(name="dying-relu")
    assert link == cards.DemoLink(name="dying-relu", params={}, predict=None)


def test_equality_hash_and_repr_follow_the_fields() -> None:
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 2) != (1, 2, (), {})  # another type is never equal
    assert Spec(mode="cram") == Spec(mode="cram") and Spec() != Spec(mode="cram")
    assert hash(Spec(mode="cram")) == hash(Spec(mode="cram"))
    assert repr(cards.Tolerance(rel=0.5)) == "Tolerance(abs=None, rel=0.5)"
    assert cards.Text("a", "가") == cards.Text(en="a", ko="가")
    with pytest.raises(TypeError):
        hash(Point(1))  # a dict field: unhashable, as a frozen dataclass's would be


def test_a_record_is_frozen() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.z = 2  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x


def test_a_record_pickles_as_its_fields_in_order() -> None:
    copy = pickle.loads(pickle.dumps(Point(1, 2, ("a",))))
    assert copy == Point(1, 2, ("a",)) and list(vars(copy)) == ["x", "y", "tags", "extra"]


def test_a_method_the_class_writes_is_kept() -> None:
    @record
    class Shown:
        text: str

        def __repr__(self) -> str:
            return f"<{self.text}>"

    assert repr(Shown("hi")) == "<hi>" and Shown("hi") == Shown("hi")


def test_field_options_for_comparison_hashing_and_repr_are_honoured() -> None:
    @record
    class Tagged:
        value: int
        cache: dict[str, int] | None = dataclasses.field(default=None, compare=False)
        note: str = dataclasses.field(default="", repr=False)

    assert Tagged(1, {"a": 1}) == Tagged(1, None) != Tagged(2, None)
    assert hash(Tagged(1, {"a": 1}, "x")) == hash(Tagged(1, None, "x"))  # dict not hashed
    assert repr(Tagged(1, None, "x")).endswith("Tagged(value=1, cache=None)")
