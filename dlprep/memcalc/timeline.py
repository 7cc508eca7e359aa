"""A byte-level replay of tensor lifetimes: allocations, references and frees.

Autograd frees a tensor when its last holder lets go: the Python variable, a saved
reference in the graph, or the autocast cache. Counting holders per tensor reproduces
PyTorch's live-bytes curve exactly, so the peak (and what was live at it) falls out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("grad", "saved", "temp")


@dataclass(slots=True)
class _Tensor:
    nbytes: int
    refs: int
    label: str
    saves: int = 0
    grad: bool = False

    @property
    def kind(self) -> str:
        return "grad" if self.grad else "saved" if self.saves else "temp"


@dataclass
class Peak:
    bytes: int = 0
    phase: str = ""
    label: str = ""
    parts: dict[str, int] = field(default_factory=dict)


class Timeline:
    """Live bytes over one training step; ``base`` is what lives throughout."""

    def __init__(self, base: int, rounding: int = 1) -> None:
        self.base = base
        self.rounding = rounding
        self.cur = base
        self.phase = ""
        self.tensors: dict[str, _Tensor] = {}
        self.peak = Peak(base)
        self.phase_peaks: dict[str, int] = {}
        self.phase_parts: dict[str, dict[str, int]] = {}  # what was live at each phase peak
        self.saved_total = 0
        self.no_grad = False  # inference: nothing is saved for backward
        self._kinds = dict.fromkeys(KINDS, 0)
        self._n = 0
        self.log: list[str] | None = None  # set to [] to record every event (debugging)
        self.curve: list[int] | None = None  # set to [] to record live bytes after allocs

    def size(self, nbytes: int) -> int:
        """Bytes an allocation really takes (the CUDA allocator rounds up to 512)."""
        if self.rounding == 1:
            return nbytes
        return max(1, -(-nbytes // self.rounding)) * self.rounding

    def start(self, phase: str) -> None:
        self.phase = phase
        self.phase_peaks[phase] = self.cur
        self.phase_parts[phase] = self.parts()

    def alloc(self, nbytes: int, label: str) -> str:
        self._n += 1
        key = f"{self._n}:{label}"
        size = nbytes if self.rounding == 1 else self.size(nbytes)
        self.tensors[key] = _Tensor(size, 1, label)
        cur = self.cur = self.cur + size
        kinds = self._kinds
        kinds["temp"] += size
        if self.log is not None:
            self.log.append(f"+{size} {label} = {cur}")
        if self.curve is not None:
            self.curve.append(cur)
        phase = self.phase
        if cur > self.phase_peaks.get(phase, 0):
            self.phase_peaks[phase] = cur
            self.phase_parts[phase] = dict(kinds)
            if cur > self.peak.bytes:
                self.peak = Peak(cur, phase, label, dict(kinds))
        return key

    def parts(self) -> dict[str, int]:
        return dict(self._kinds)

    def _move(self, t: _Tensor, before: str) -> None:
        after = "grad" if t.grad else "saved" if t.saves else "temp"  # t.kind, inlined
        if after != before:
            self._kinds[before] -= t.nbytes
            self._kinds[after] += t.nbytes

    def save(self, key: str) -> None:
        """A reference kept by the autograd graph (inputs and parameters are not keys)."""
        t = self.tensors.get(key)
        if t is None or self.no_grad:
            return
        if not t.saves:
            self.saved_total += t.nbytes
        before = "grad" if t.grad else "saved" if t.saves else "temp"  # t.kind, inlined
        t.saves += 1
        t.refs += 1
        self._move(t, before)

    def release(self, key: str) -> None:
        """The graph node that saved ``key`` has run and dropped it."""
        t = self.tensors.get(key)
        if t is None:
            return
        before = "grad" if t.grad else "saved" if t.saves else "temp"
        t.saves -= 1
        self._move(t, before)
        self.drop(key)

    def drop(self, key: str) -> None:
        t = self.tensors.get(key)
        if t is None:
            return
        t.refs -= 1
        if t.refs == 0:
            self.cur -= t.nbytes
            self._kinds["grad" if t.grad else "saved" if t.saves else "temp"] -= t.nbytes
            if self.log is not None:
                self.log.append(f"-{t.nbytes} {t.label} = {self.cur}")
            del self.tensors[key]

    def share(self, key: str) -> None:
        """One more holder (a gradient sent down two branches)."""
        self.tensors[key].refs += 1

    def keep_as_grad(self, key: str) -> None:
        """AccumulateGrad steals the tensor: it lives on as ``param.grad``."""
        t = self.tensors[key]
        before = t.kind
        t.grad = True
        self._move(t, before)
