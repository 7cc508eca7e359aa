"""Safe arithmetic for templated numeric cards.

A formula is parsed with :mod:`ast` and checked against a whitelist: numbers, the
card's variables, ``+ - * / // % **``, unary minus, and a few pure functions. There
is no ``eval``; anything else (attribute access, subscripts, other calls, lambdas,
comprehensions, strings) is rejected before anything is computed.
"""

from __future__ import annotations

import ast
import math
import operator
import random
import re
from collections.abc import Callable, Mapping, Sequence
from itertools import islice, product

ParamValue = bool | int | float | str

MAX_FORMULA_CHARS = 300
MAX_NODES = 200  # a formula's cost: every node is O(1) once its numbers are bounded
MAX_EXPONENT = 64  # 2**64 is plenty for byte counts; 2**10**10 is an attack
MAX_DIGITS = 15  # round(x, n): |n| beyond a double's precision only costs time (10**n)
MAX_MAGNITUDE = 1e300
MAX_COMBINATIONS = 4096  # a template's every combination is validated; more is refused

_BINOPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
FUNCTIONS: dict[str, Callable[..., float]] = {
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "ceil": math.ceil,
    "floor": math.floor,
    "sqrt": math.sqrt,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "exp": math.exp,
}


class FormulaError(ValueError):
    """A formula outside the whitelist, or one that cannot be evaluated."""


def compile_formula(formula: str, variables: set[str] | frozenset[str]) -> ast.Expression:
    """Parse and whitelist-check ``formula``; raises :class:`FormulaError`."""
    if len(formula) > MAX_FORMULA_CHARS:
        raise FormulaError(f"formula is longer than {MAX_FORMULA_CHARS} characters")
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"formula is not valid arithmetic: {exc.msg}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaError(f"formula has more than {MAX_NODES} parts")
    for node in nodes:
        _check(node, variables)
    return tree


def _check(node: ast.AST, variables: set[str] | frozenset[str]) -> None:
    if isinstance(node, ast.Expression | ast.Load | ast.operator | ast.unaryop):
        if isinstance(node, ast.operator) and type(node) not in _BINOPS:
            raise FormulaError(f"operator {type(node).__name__} is not allowed")
        if isinstance(node, ast.unaryop) and type(node) not in _UNARY:
            raise FormulaError(f"operator {type(node).__name__} is not allowed")
        return
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"only numbers are allowed, not {node.value!r}")
        return
    if isinstance(node, ast.Name):
        if node.id not in variables and node.id not in FUNCTIONS:
            raise FormulaError(f"unknown name {node.id!r}")
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise FormulaError("calls are not allowed, except " + ", ".join(sorted(FUNCTIONS)))
        if node.keywords:
            raise FormulaError("keyword arguments are not allowed")
        return
    if isinstance(node, ast.Attribute):
        raise FormulaError("attribute access is not allowed")
    raise FormulaError(f"{type(node).__name__} is not allowed in a formula")


def evaluate(tree: ast.Expression, values: Mapping[str, float]) -> float:
    """Evaluate a checked formula; raises :class:`FormulaError` on bad arithmetic."""
    try:
        result = _eval(tree.body, values)
    except FormulaError:
        raise
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        raise FormulaError(f"formula cannot be evaluated: {exc}") from None
    if not math.isfinite(result) or abs(result) > MAX_MAGNITUDE:
        raise FormulaError("formula result is not a finite number")
    return float(result)


def _eval(node: ast.expr, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # guaranteed by _check
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise FormulaError(f"unknown name {node.id!r}")
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise FormulaError(f"exponent {right:g} is larger than {MAX_EXPONENT}")
        out = _BINOPS[type(node.op)](left, right)
        if isinstance(out, complex) or abs(out) > MAX_MAGNITUDE:
            raise FormulaError("intermediate result is out of range")
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_eval(arg, values) for arg in node.args]
        _check_arguments(node.func.id, args)
        return float(FUNCTIONS[node.func.id](*args))
    raise FormulaError(f"{type(node).__name__} is not allowed in a formula")


def _check_arguments(name: str, args: list[float]) -> None:
    """Each function's arguments within what it computes in constant time."""
    if name in ("min", "max"):
        if not args:
            raise FormulaError(f"{name}() needs at least one argument")
        return
    if name == "round":
        if len(args) not in (1, 2):
            raise FormulaError("round() takes a number and optionally a digit count")
        if len(args) == 2 and (not float(args[1]).is_integer() or abs(args[1]) > MAX_DIGITS):
            raise FormulaError(f"round()'s digit count must be a whole number between "
                               f"-{MAX_DIGITS} and {MAX_DIGITS}, got {args[1]:g}")
        return
    if len(args) not in ((1, 2) if name == "log" else (1,)):
        raise FormulaError(f"{name}() takes {len(args)} argument(s) here, which it does not")


def combinations(variables: Mapping[str, Sequence[float]]) -> int:
    """How many assignments a template has (every one is validated)."""
    return math.prod(len(options) for options in variables.values())


def assignments(variables: Mapping[str, list[float]],
                limit: int = MAX_COMBINATIONS) -> list[dict[str, float]]:
    """Every combination of the listed values (at most ``limit``), for validation."""
    names = list(variables)
    combos = islice(product(*(variables[n] for n in names)), limit)
    return [dict(zip(names, combo, strict=True)) for combo in combos]


def draw(variables: Mapping[str, Sequence[float]], rng: random.Random) -> dict[str, float]:
    """One fresh assignment, so a learner cannot memorise the number."""
    return {name: rng.choice(options) for name, options in variables.items()}


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def fill(text: str, values: Mapping[str, object]) -> str:
    """Replace ``{name}`` for known names only, so code and math braces survive."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        return format_number(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(sub, text)


def fill_params(params: Mapping[str, ParamValue], values: Mapping[str, float]
                ) -> dict[str, ParamValue]:
    """A demo link's parameters at one draw: ``"{b}"`` becomes the number ``b`` and
    ``"784,{h},10"`` the text with ``h`` written plainly (no thousands separator, which a
    demo would not read)."""
    out: dict[str, ParamValue] = {}
    for key, value in params.items():
        if isinstance(value, str) and values:
            whole = _PLACEHOLDER.fullmatch(value)
            if whole is not None and whole.group(1) in values:
                number = values[whole.group(1)]
                out[key] = int(number) if float(number).is_integer() else number
                continue

            def sub(match: re.Match[str]) -> str:
                name = match.group(1)
                return _plain(values[name]) if name in values else match.group(0)

            value = _PLACEHOLDER.sub(sub, value)
        out[key] = value
    return out


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def format_number(value: object) -> str:
    """``1000000.0`` → ``1,000,000``; ``0.25`` → ``0.25``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}"
