"""Run real training steps and measure what they hold (the only memcalc module using torch).

The model is the estimator's MLP (optionally with checkpointed hidden blocks), trained in
fp32, half, autocast, or half with fp32 master weights. On CPU, ``meta`` and ``fake``
(FakeTensor on a CPU device, so autocast applies) a ``TorchDispatchMode`` sees every
tensor an aten op returns; a ``weakref.finalize`` on each new storage tells when it dies,
so live bytes are known after every op. A ``saved_tensors_hooks`` pair records the
storages autograd keeps for backward. On CUDA the caching allocator's own counters are
read after synchronising.
"""

from __future__ import annotations

import weakref
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from dlprep.memcalc.config import Config
from dlprep.memcalc.rig import build, train_step


@dataclass
class Measurement:
    device: str
    weights: int = 0
    master_weights: int = 0
    buffers: int = 0
    inputs: int = 0
    gradients: int = 0
    optimizer_state: int = 0
    saved_activations: int = 0
    peak: int = 0
    phase_peaks: dict[str, int] = field(default_factory=dict)
    trace: list[str] = field(default_factory=list)


def measure(cfg: Config, device: str = "cpu", trace: bool = False) -> Measurement:
    """Two training steps; the second (optimiser state already built) is measured."""
    if device == "cuda":
        return _measure_cuda(cfg)
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    with ExitStack() as stack:
        real = device
        if device == "fake":
            from torch._subclasses.fake_tensor import FakeTensorMode

            stack.enter_context(FakeTensorMode())
            real = "cpu"
        rig = build(cfg, real)
        net, opt, X, y = rig.net, rig.opt, rig.X, rig.y
        train_step(cfg, rig, lambda phase: None)

        result = Measurement(device=device)
        live: dict[int, int] = {}
        state: dict[str, Any] = {"cur": 0, "peak": 0, "phase": "", "phase_peak": 0}
        phase_peaks: dict[str, int] = {}

        def track(t: Any, why: str) -> None:
            s = t.untyped_storage()
            key = id(s)
            if key in live:
                return
            n = s.nbytes()
            live[key] = n
            state["cur"] += n
            state["peak"] = max(state["peak"], state["cur"])
            state["phase_peak"] = max(state["phase_peak"], state["cur"])
            label = f"{why} {tuple(t.shape)} {t.dtype}"
            weakref.finalize(s, free, key, n, label)
            if trace:
                result.trace.append(f"+{n} {label} = {state['cur']}")

        def free(key: int, n: int, label: str) -> None:
            live.pop(key, None)
            state["cur"] -= n
            if trace:
                result.trace.append(f"-{n} {label} = {state['cur']}")

        def hidden(nbytes: int) -> None:
            # A buffer an op allocates and frees inside itself: alive only at this moment.
            state["peak"] = max(state["peak"], state["cur"] + nbytes)
            state["phase_peak"] = max(state["phase_peak"], state["cur"] + nbytes)

        class Tracker(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for t in tree_flatten(out)[0]:
                    if isinstance(t, torch.Tensor):
                        track(t, str(func))
                if func is torch.ops.aten.mse_loss.default and cfg.amp:
                    # The allocator sees one more B x C fp32 buffer inside mse_loss under
                    # autocast (tests/memcalc/test_allocator.py checks it with the profiler).
                    hidden(args[0].numel() * 4)
                return out

        def storages(tensors: Any) -> dict[int, int]:
            return {id(t.untyped_storage()): t.untyped_storage().nbytes() for t in tensors}

        params = storages(net.parameters())
        buffers = storages(net.buffers())
        inputs = storages([X, y])
        states = storages(v for s in opt.state.values() for v in s.values()
                          if isinstance(v, torch.Tensor))
        masters = storages(rig.masters or [])
        for group in (params, masters, buffers, inputs, states):
            for key, n in group.items():
                live[key] = n
                state["cur"] += n
        keep = [t.untyped_storage() for t in [*net.parameters(), *net.buffers(), X, y,
                                              *(rig.masters or [])]]
        keep += [v.untyped_storage() for s in opt.state.values() for v in s.values()
                 if isinstance(v, torch.Tensor)]
        state["peak"] = state["cur"]
        excluded = set(params) | set(buffers) | set(inputs)
        saved_live: set[int] = set()

        def pack(t: Any) -> Any:
            # Only ids and sizes are kept: holding the storage would change its lifetime.
            s = t.untyped_storage()
            if id(s) not in excluded and id(s) not in saved_live:
                saved_live.add(id(s))
                result.saved_activations += s.nbytes()
                weakref.finalize(s, saved_live.discard, id(s))
            return t.detach()

        def mark(phase: str | None) -> None:
            if state["phase"]:
                phase_peaks[state["phase"]] = state["phase_peak"]
            state["phase"] = phase or ""
            state["phase_peak"] = state["cur"]
            if trace and phase:
                result.trace.append(f"== {phase} (live {state['cur']})")

        with Tracker(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            train_step(cfg, rig, mark)
        del keep
        result.weights = sum(params.values())
        result.master_weights = sum(masters.values())
        result.buffers = sum(buffers.values())
        result.inputs = sum(inputs.values())
        grads = [p.grad for p in [*net.parameters(), *(rig.masters or [])]]
        result.gradients = sum(storages(g for g in grads if g is not None).values())
        result.optimizer_state = sum(states.values())
        result.peak = state["peak"]
        result.phase_peaks = phase_peaks
        return result


def _measure_cuda(cfg: Config) -> Measurement:
    """Allocator counters around a warmed-up step (the CUDA context is not in them)."""
    import torch

    rig = build(cfg, "cuda")
    net, opt, X, y = rig.net, rig.opt, rig.X, rig.y
    train_step(cfg, rig, lambda phase: None)
    torch.cuda.synchronize()
    result = Measurement(device="cuda")
    phase_peaks: dict[str, int] = {}
    current = {"phase": ""}

    def mark(phase: str | None) -> None:
        torch.cuda.synchronize()
        if current["phase"]:
            phase_peaks[current["phase"]] = torch.cuda.max_memory_allocated()
        current["phase"] = phase or ""
        torch.cuda.reset_peak_memory_stats()

    excluded = {id(t.untyped_storage()) for t in [*net.parameters(), *net.buffers(), X, y]}
    saved_live: set[int] = set()

    def size(t: Any) -> int:
        # Rows are compared with the estimate's CUDA rules: 512-byte blocks per tensor.
        return -(-t.untyped_storage().nbytes() // 512) * 512

    def pack(t: Any) -> Any:
        s = t.untyped_storage()
        if id(s) not in excluded and id(s) not in saved_live and t.device.type == "cuda":
            saved_live.add(id(s))
            result.saved_activations += size(t)
            weakref.finalize(s, saved_live.discard, id(s))
        return t.detach()

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        train_step(cfg, rig, mark)
    result.weights = sum(size(p) for p in net.parameters())
    result.master_weights = sum(size(m) for m in rig.masters or [])
    result.buffers = sum(size(b) for b in net.buffers())
    result.inputs = size(X) + size(y)
    grads = [p.grad for p in [*net.parameters(), *(rig.masters or [])]]
    result.gradients = sum(size(g) for g in grads if g is not None)
    result.optimizer_state = sum(size(v) for s in opt.state.values() for v in s.values()
                                 if isinstance(v, torch.Tensor) and v.device.type == "cuda")
    result.phase_peaks = phase_peaks
    result.peak = max(phase_peaks.values())
    return result
