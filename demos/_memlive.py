"""Live tensor bytes by component while real training steps run (used by gpu_memory.py).

A ``TorchDispatchMode`` sees every tensor an aten op returns; on CPU a ``weakref.finalize``
on each new storage says when it dies, so the live bytes are known after every op. On CUDA
the caching allocator's own counter (``torch.cuda.memory_allocated``) is read after each op
and its peak (``max_memory_allocated``) per phase. A ``saved_tensors_hooks`` pair tells which
storages autograd holds for backward, for as long as it holds them. Everything live is
sorted into components: weights, fp32 master weights, the input batch, gradients, optimizer
state, saved activations, and temporaries (the rest: activation gradients, the optimizer's
scratch lists, the loss). ``compare`` sets the measured rows beside memcalc's estimate.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from dlprep.memcalc.config import Config
from dlprep.memcalc.estimate import estimate

PARTS = ("weights", "masters", "inputs", "gradients", "state", "saved", "temp")
CUDA_BLOCK = 512  # the caching allocator rounds every allocation up to 512 bytes


class LiveBytes(TorchDispatchMode):
    """Call ``track(groups)`` around training code; ``points`` and ``peaks`` fill up."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.cuda = device.type == "cuda"
        self.device_type = device.type
        self.live: dict[int, int] = {}  # CPU: storage id -> bytes
        self.cur = 0
        self.holders: dict[int, int] = {}  # storage id -> saved references autograd holds
        self.saved = 0
        self.groups: Callable[[], dict[str, Iterable[torch.Tensor]]] = dict
        self.label = "setup"  # the run the next points belong to
        self.phase = "setup"  # forward, backward, step, or "" between steps
        self.points: list[tuple[str, dict[str, int]]] = []  # (run, live bytes by part)
        self.peak: dict[str, Any] = {"bytes": 0, "parts": {}, "at": 0}
        self.record = True  # False: keep peaks only (long runs)
        self.shown = 0  # points already handed out: x of the next point is shown + len + 1

    # -- accounting ----------------------------------------------------------------------
    def size(self, storage: Any) -> int:
        n = storage.nbytes()
        return -(-n // CUDA_BLOCK) * CUDA_BLOCK if self.cuda else n

    def current(self) -> int:
        return torch.cuda.memory_allocated() if self.cuda else self.cur

    def parts(self) -> dict[str, int]:
        """Live bytes by component right now; ``temp`` is whatever no component claims."""
        out: dict[str, int] = {}
        seen: set[int] = set()
        for name, tensors in self.groups().items():
            total = 0
            for t in tensors:
                if t is None or t.device.type != self.device_type:
                    continue  # e.g. Adam's step counters stay on the CPU next to a GPU
                s = t.untyped_storage()
                if id(s) not in seen:
                    seen.add(id(s))
                    total += self.size(s)
            out[name] = total
        out["saved"] = self.saved
        out["temp"] = self.current() - sum(out.values())
        return {name: out.get(name, 0) for name in PARTS}

    def _alloc(self, t: torch.Tensor) -> None:
        s = t.untyped_storage()
        key = id(s)
        if key in self.live or t.device.type != self.device_type:
            return
        n = self.size(s)
        self.live[key] = n
        self.cur += n
        weakref.finalize(s, self._free, key, n)
        if self.cur > self.peak["bytes"]:
            self.peak = {"bytes": self.cur, "parts": self.parts(), "at": self._next_x()}

    def _next_x(self) -> int:
        """The chart x of the point this op will add (0 when points are not recorded)."""
        return self.shown + len(self.points) + 1 if self.record else 0

    def _free(self, key: int, n: int) -> None:
        self.live.pop(key, None)
        self.cur -= n

    def point(self) -> None:
        if self.cuda and self.current() > self.peak["bytes"]:
            self.peak = {"bytes": self.current(), "parts": self.parts(), "at": self._next_x()}
        if not self.record:
            return
        parts = self.parts()
        if self.points and self.points[-1][0] == self.label and self.points[-1][1] == parts:
            return  # a view or an in-place op: nothing changed
        self.points.append((self.label, parts))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        if not self.cuda:
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor):
                    self._alloc(t)
        self.point()
        return out

    # -- saved tensors -------------------------------------------------------------------
    def pack(self, t: torch.Tensor) -> Any:
        """A tensor autograd keeps for backward; it counts as saved while a holder lives."""
        holder = t.detach()
        s = t.untyped_storage()
        key = id(s)
        inputs = {id(x.untyped_storage()) for name, group in self.groups().items()
                  if name in ("weights", "masters", "inputs") for x in group}
        if key in inputs or t.device.type != self.device_type:
            return holder
        if not self.holders.get(key):
            self.saved += self.size(s)
        self.holders[key] = self.holders.get(key, 0) + 1
        weakref.finalize(holder, self._release, key, self.size(s))
        return holder

    def _release(self, key: int, n: int) -> None:
        self.holders[key] -= 1
        if not self.holders[key]:
            self.saved -= n

    # -- phases --------------------------------------------------------------------------
    def start_phase(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.peak = {"bytes": self.current(), "parts": self.parts(), "at": 0}

    def phase_peak(self) -> dict[str, Any]:
        """The highest live bytes since ``start_phase`` and what was live then."""
        if self.cuda:
            torch.cuda.synchronize()
            # Between ops a kernel may take more than any op boundary shows: the allocator's
            # own peak; what was live is known at the highest op boundary only.
            return {**self.peak, "bytes": max(self.peak["bytes"],
                                              torch.cuda.max_memory_allocated())}
        return dict(self.peak)

    @contextmanager
    def tracking(self):  # type: ignore[no-untyped-def]
        """Entered around each step only: a demo must not yield inside a dispatch mode."""
        with self, torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t):
            yield self


# -- measured against memcalc's estimate ------------------------------------------------

ROWS = ("weights", "masters", "inputs", "gradients", "state", "saved")
PHASES = ("forward", "backward", "step")


def _measured(phases: dict, step: int) -> dict:
    """The rows memcalc sizes, read off one measured step."""
    end = phases[(step, "step")]["end"]
    top = max(PHASES, key=lambda ph: phases[(step, ph)]["bytes"])
    return {"weights": end["weights"], "masters": end["masters"], "inputs": end["inputs"],
            "gradients": end["gradients"], "state": end["state"],
            "saved": phases[(step, "forward")]["end"]["saved"],
            "phase_peaks": {ph: phases[(step, ph)]["bytes"] for ph in PHASES},
            "peak": phases[(step, top)]["bytes"], "peak_phase": top,
            "temp_at_peak": phases[(step, top)]["parts"].get("temp", 0)}


def estimated(cfg: Config) -> dict:
    e = estimate(cfg)
    top = e.at_peak.phase if e.at_peak is not None else "step"
    return {"weights": e.weights, "masters": e.master_weights, "inputs": e.inputs,
            "gradients": e.gradients, "state": e.optimizer_state, "saved": e.saved_activations,
            "phase_peaks": {ph: e.phase_peaks[ph] for ph in PHASES}, "peak": e.peak,
            "peak_phase": top, "temp_at_peak": e.temporaries}


def _errors(m: dict, e: dict) -> dict:
    out = {row: m[row] - e[row] for row in (*ROWS, "peak")}
    out.update({f"{ph}_peak": m["phase_peaks"][ph] - e["phase_peaks"][ph] for ph in PHASES})
    return out


def compare(cfg: Config, phases: dict, sizes: list[int], num_steps: int, built: int,
             expected: dict) -> dict:
    """Measured against estimated: every step, and act 2's larger batches in detail.

    ``built`` is the state the optimizer made when it was constructed (Adagrad's ``sum``);
    the others make theirs in the first step.
    """
    first_step = {ph: dict(phases[(1, ph)]["end"]) for ph in PHASES}
    step_errors = {f"{i}/{ph}": phases[(i, ph)]["bytes"] - phases[(i, ph)]["estimate"]
                   for i in range(1, len(sizes) + 1) for ph in PHASES}
    sweep = []
    for index in [2, *range(num_steps + 1, len(sizes) + 1)]:
        size = sizes[index - 1]
        m, e = _measured(phases, index), expected[size]
        sweep.append({"batch": size, "measured": m, "estimate": e, "error": _errors(m, e)})
    base = sweep[0]
    grows = [row for row in ROWS if len({s["measured"][row] for s in sweep}) > 1]
    lo, mid, hi = (s["measured"] for s in sweep)
    b = cfg.batch
    linear = all(hi[row] - mid[row] == 2 * (mid[row] - lo[row]) for row in ROWS)
    state_before = phases[(1, "backward")]["end"]["state"]
    state_after = phases[(1, "step")]["end"]["state"]
    grads_before = phases[(1, "forward")]["end"]["gradients"]
    grads_after = phases[(1, "backward")]["end"]["gradients"]
    errors = [abs(v) for s in sweep for v in s["error"].values()]
    errors += [abs(v) for v in step_errors.values()]
    return {
        "measured": base["measured"], "estimate": base["estimate"], "error": base["error"],
        "max_abs_error": max(errors), "first_step": first_step, "phase_peak_errors": step_errors,
        "sweep": sweep, "grows_with_batch": grows,
        "fixed": [row for row in ROWS if row not in grows and lo[row]],
        "per_example": {row: (mid[row] - lo[row]) / b for row in grows},
        # linear in the batch is not proportional to it: what the row holds at batch 0
        "offset": {row: lo[row] - (mid[row] - lo[row]) for row in grows},
        "linear": linear, "state_created_at_step_1": state_after - state_before,
        "grads_created_in_backward": grads_after - grads_before,
        "state_at_construction": built,
        "effect": base["measured"]["state"] > 0,
        "only_batch_parts_grow": set(grows) <= {"saved", "inputs"} and linear,
    }
