"""Verdicts as lists of checked statements, and the one vocabulary they compare with.

A demo's verdict is not free prose. Every sentence it can print is a :class:`Statement`:
a stable ``name``, the English and the Korean text side by side, and ``holds``, the result
of the predicate over the run's recorded numbers that makes the sentence true. A demo
defines ``statements(numbers) -> list[Statement]`` with every *candidate* sentence and
``verdict(numbers, lang) = render(statements(numbers), lang)``: only the candidates whose
predicate holds are printed, in order. ``tests/demos/test_verdict_fuzz.py`` draws settings
from META's ranges, recomputes the predicate of every printed name from the step records
on its own, and checks that no two printed statements contradict each other.

The comparison words below have one definition each; a demo that says "about level",
"grew", "spiked", "killed", "learned", "the same outputs" or "caused" decides it with the
function of that name, so the same word means the same thing in every demo:

- about level: the largest and smallest of a whole stack (every layer, not the two ends)
  are within :data:`LEVEL` (2x) of each other, all finite and non-zero.
- grew / shrank: the last value is more than :data:`LEVEL` times the first (or less than
  1/LEVEL of it). Outside both, and not about level, the stack is *uneven*.
- nearly uniform: shares (0..1) all within :data:`UNIFORM` of each other.
- about equal (shares, accuracies): within :data:`CLOSE` (5 points).
- spiked: somewhere in the *whole* run (not a window) the loss rose above :data:`SPIKE`
  times its first value, or was inf/NaN.
- killed: the share of dead units rose by at least :data:`KILLED` of all units from
  initialisation to the end; a layer is *dead* when every one of its units is.
- learned: an accuracy at least :data:`MARGIN` above chance, or a loss at most
  (1 - MARGIN) of the baseline that predicts nothing (the mean, or 50/50).
- the same outputs: the largest difference is at most :data:`SAME_REL` of the outputs'
  own magnitude (float32 rounding grows with the outputs).
- caused: a sentence that blames a cause is printed only when the run contains the arm
  that varies that cause (:func:`causal`); otherwise say what was observed.

Only the standard library is used, so ``--save-script`` can paste this file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LEVEL = 2.0  # max/min within this over a whole stack: "about level"; beyond it "grew"/"shrank"
UNIFORM = 0.1  # shares all within 10 points of each other: "nearly uniform"
CLOSE = 0.05  # shares or accuracies within 5 points: "about equal"
SPIKE = 1.25  # peak / first loss above this, anywhere in the run: "spiked"
KILLED = 0.2  # the dead share of all units must rise this much from init: "killed"
MARGIN = 0.1  # above chance by 10 points, or 10 % below the do-nothing loss: "learned"
SAME_REL = 1e-4  # largest difference / largest output at most this: "the same outputs"


@dataclass(frozen=True)
class Statement:
    """One sentence a verdict can print, with the truth of its predicate over the run.

    ``name`` is stable (tests and the fuzz test key on it); ``en`` and ``ko`` say the same
    thing with the same numbers; ``holds`` is the predicate's result: printed only if true.
    """

    name: str
    en: str
    ko: str
    holds: bool = True

    def text(self, lang: str = "en") -> str:
        return self.ko if lang == "ko" else self.en


def printed(statements: Iterable[Statement]) -> list[Statement]:
    """The statements a verdict prints: those whose predicate holds, in order."""
    return [s for s in statements if s.holds]


def render(statements: Iterable[Statement], lang: str = "en") -> str:
    """The verdict text: the printed statements' sentences joined by spaces."""
    return " ".join(s.text(lang) for s in printed(statements))


def causal(cause: str, varied: Iterable[str], name: str, en: str, ko: str,
           holds: bool = True) -> Statement:
    """A sentence that blames ``cause``: it holds only if the run contains an arm that
    varies ``cause`` (listed in ``varied``), whatever the numbers say."""
    return Statement(name, en, ko, holds and cause in set(varied))


# --- the comparison vocabulary --------------------------------------------------------------


def _finite_positive(values: Sequence[float]) -> bool:
    return bool(values) and all(math.isfinite(v) and v > 0 for v in values)


def about_level(values: Sequence[float]) -> bool:
    """Every value of the stack within LEVEL x of every other (all finite, non-zero)."""
    return _finite_positive(values) and max(values) <= LEVEL * min(values)


def grew(first: float, last: float) -> bool:
    """``last`` is more than LEVEL x ``first`` (inf counts; NaN never grew)."""
    if math.isnan(first) or math.isnan(last) or first < 0 or last < 0:
        return False
    return last > LEVEL * first if first > 0 else last > 0


def shrank(first: float, last: float) -> bool:
    """``last`` is less than 1/LEVEL of ``first``."""
    return grew(last, first)


def trend(values: Sequence[float]) -> str:
    """``level``, ``grew`` (last vs first), ``shrank`` or ``uneven`` for a stack of sizes."""
    if about_level(values):
        return "level"
    if values and grew(values[0], values[-1]):
        return "grew"
    if values and shrank(values[0], values[-1]):
        return "shrank"
    return "uneven"


def nearly_uniform(shares: Sequence[float]) -> bool:
    """Shares (0..1) all within UNIFORM of each other."""
    return bool(shares) and max(shares) - min(shares) <= UNIFORM


def about_equal(a: float, b: float) -> bool:
    """Two shares or accuracies within CLOSE of each other."""
    return abs(a - b) <= CLOSE


def spiked(losses: Sequence[float]) -> bool:
    """Anywhere in the whole run the loss went above SPIKE x its first value, or inf/NaN."""
    if not losses:
        return False
    if not all(math.isfinite(v) for v in losses):
        return True
    return max(losses) > SPIKE * losses[0]


def lowest(values: dict[str, float], within: float = 0.0) -> tuple[list[str], float]:
    """The keys whose value is finite and at most ``within`` above the lowest finite one (in
    their order), and that lowest value; ``([], nan)`` when none is finite. An inf/NaN loss
    is never the lowest: NaN compares false both ways, so a min() that meets it first keeps
    it."""
    finite = {k: v for k, v in values.items() if math.isfinite(v)}
    low = min(finite.values(), default=math.nan)
    return [k for k, v in finite.items() if v <= low + within], low


def killed(dead_at_init: float, dead_at_end: float) -> bool:
    """The dead share (of all units) rose by at least KILLED during training."""
    return dead_at_end - dead_at_init >= KILLED - 1e-9  # shares are sums of 1/n: round-off


def learned(accuracy: float, chance: float) -> bool:
    """An accuracy at least MARGIN above chance."""
    return accuracy >= chance + MARGIN


def learned_loss(loss: float, baseline: float) -> bool:
    """A finite loss at most (1 - MARGIN) x the loss of predicting nothing (``baseline``)."""
    return math.isfinite(loss) and loss <= (1 - MARGIN) * baseline


def same_outputs(gap: float, magnitude: float) -> bool:
    """Largest difference ``gap`` at most SAME_REL of the outputs' largest |value|."""
    if not (math.isfinite(gap) and math.isfinite(magnitude)):
        return False
    return gap <= SAME_REL * magnitude if magnitude > 0 else gap == 0


# --- extremes, not only averages -------------------------------------------------------------


def dead_layers(shares: Sequence[float]) -> list[int]:
    """1-based layers every unit of which is dead (share 1.0): differs in kind from a mean."""
    return [i for i, share in enumerate(shares, 1) if share >= 1.0]


def broken_layers(norms: Sequence[float]) -> list[tuple[int, str]]:
    """1-based layers whose gradient norm is 0, inf or NaN, with which: ``(3, "0")``."""
    odd = []
    for i, g in enumerate(norms, 1):
        if math.isnan(g):
            odd.append((i, "NaN"))
        elif math.isinf(g):
            odd.append((i, "inf"))
        elif g == 0:
            odd.append((i, "0"))
    return odd


def layer_list(layers: Sequence[int], lang: str = "en") -> str:
    """``layer 3`` / ``layers 2, 3`` (Korean ``3번째 층`` / ``2, 3번째 층``)."""
    numbers = ", ".join(str(i) for i in layers)
    if lang == "ko":
        return f"{numbers}번째 층"
    return f"layer{'s' if len(layers) > 1 else ''} {numbers}"


def worst_layer(name: str, shares: Sequence[float], what_en: str, what_ko: str) -> Statement:
    """Names the layers that are 100 % dead (``what_*`` says dead what, e.g. "ReLU units");
    holds only when there is one, so an average over layers never hides a dead layer."""
    dead = dead_layers(shares)
    one = len(dead) == 1
    en = (f"{layer_list(dead).capitalize()} {'is' if one else 'are'} 100% {what_en}: "
          f"{'it passes' if one else 'they pass'} no signal, so the net's output no longer "
          f"depends on its input.") if dead else ""
    ko = (f"{layer_list(dead, 'ko')}은 100% {what_ko}: 신호를 전혀 전달하지 못해 신경망의 "
          f"출력이 더는 입력에 따라 달라지지 않습니다.") if dead else ""
    return Statement(name, en, ko, bool(dead))


def worst_gradient(name: str, norms: Sequence[float], what_en: str, what_ko: str) -> Statement:
    """Names the layers whose gradient (``what_*``, e.g. "|dL/dW|") is 0, inf or NaN; holds
    only when there is one, so a mean or a growth rate never hides it."""
    odd = broken_layers(norms)
    en = "; ".join(f"{layer_list([i])}: {what_en} = {v}" for i, v in odd)
    ko = "; ".join(f"{layer_list([i], 'ko')}: {what_ko} = {v}" for i, v in odd)
    return Statement(name, f"Not a size but a break: {en}." if odd else "",
                     f"크기 문제가 아니라 끊김입니다: {ko}." if odd else "", bool(odd))
