"""``@record``: a frozen dataclass that is cheap to define, for what every quiz start imports.

Python 3.11 gives each dataclass its own ``__init__``, ``__eq__``, ``__hash__``,
``__repr__``, ``__setattr__`` and ``__delattr__`` by generating and compiling source, class
by class. For the cards and the study records a quiz start defines, that compiling took
about a tenth of a bare Textual app's whole start-up. A ``@record`` class is a dataclass
for its fields (``fields``, ``asdict`` and ``replace`` work as usual) and gets those six
methods written once, here. Type checkers see ``@dataclass(frozen=True)`` (PEP 681).

An instance's ``__dict__`` holds exactly its fields in order (set only by ``__init__``;
unpickling restores it as it was), which equality, hashing and ``repr`` read. Instances are
built a little more slowly than a generated ``__init__`` would: fine for records made by
the hundred, not the million.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, Field, FrozenInstanceError, dataclass, field, fields
from typing import Any, TypeVar, cast, dataclass_transform, overload

T = TypeVar("T", bound=type)


@overload
def record(cls: T, /) -> T: ...


@overload
def record(*, kw_only: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: T | None = None, /, *, kw_only: bool = False) -> T | Callable[[T], T]:
    """Like ``@dataclass(frozen=True)`` (with ``kw_only=True``: every field by keyword)."""

    def wrap(cls: T) -> T:
        made: Any = dataclass(cls, init=False, eq=False, repr=False, kw_only=kw_only)
        specs = fields(made)
        # what __init__ reads, worked out once per class
        made.__record_positional__ = tuple(f.name for f in specs if not f.kw_only)
        made.__record_fields__ = tuple((f.name, f.default, f.default_factory) for f in specs)
        # field(compare=False, hash=..., repr=False) as a dataclass honours them; None: all
        made.__record_compare__ = _unless_all(specs, [f.name for f in specs if f.compare])
        made.__record_hash__ = _unless_all(
            specs, [f.name for f in specs if (f.compare if f.hash is None else f.hash)])
        made.__record_repr__ = _unless_all(specs, [f.name for f in specs if f.repr])
        for name, method in _METHODS.items():
            if name not in vars(made):  # a class may write its own, as with @dataclass
                setattr(made, name, method)
        return cast(T, made)

    return wrap if cls is None else wrap(cls)


def _unless_all(specs: tuple[Field[Any], ...], names: list[str]) -> tuple[str, ...] | None:
    return None if len(names) == len(specs) else tuple(names)


def is_record(cls: type) -> bool:
    """Whether ``cls`` was made by :func:`record` (directly, not only a subclass of one)."""
    return "__record_fields__" in vars(cls)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    positional = cls.__record_positional__
    if len(args) > len(positional):
        raise TypeError(f"{cls.__name__}() takes {len(positional)} positional argument(s) "
                        f"but {len(args)} were given")
    for name, value in zip(positional, args, strict=False):
        if name in kwargs:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
        kwargs[name] = value
    for name, default, factory in cls.__record_fields__:
        if name in kwargs:
            value = kwargs.pop(name)
        elif default is not MISSING:
            value = default
        elif factory is not MISSING:
            value = factory()
        else:
            raise TypeError(f"{cls.__name__}() missing argument {name!r}")
        object.__setattr__(self, name, value)
    if kwargs:
        raise TypeError(f"{cls.__name__}() got unexpected argument(s) "
                        f"{', '.join(map(repr, kwargs))}")


def _setattr(self: Any, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _values(self: Any, names: tuple[str, ...] | None) -> tuple[Any, ...]:
    state = self.__dict__
    return tuple(state.values()) if names is None else tuple(state[n] for n in names)


def _eq(self: Any, other: object) -> bool:
    names = self.__record_compare__
    if other.__class__ is not self.__class__:
        return NotImplemented
    if names is None:
        return bool(self.__dict__ == other.__dict__)
    return _values(self, names) == _values(other, names)


def _hash(self: Any) -> int:  # a TypeError for a dict or list field, as a dataclass's
    return hash(_values(self, self.__record_hash__))


def _repr(self: Any) -> str:
    names = self.__record_repr__
    shown = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items()
                      if names is None or name in names)
    return f"{type(self).__qualname__}({shown})"


_METHODS: dict[str, Callable[..., Any]] = {
    "__init__": _init, "__setattr__": _setattr, "__delattr__": _delattr, "__eq__": _eq,
    "__hash__": _hash, "__repr__": _repr,
}
