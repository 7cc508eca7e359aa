"""Run real training steps and measure what they hold (the only memcalc module using torch).

On CPU, ``meta`` and ``fake`` (FakeTensor on a CPU device, so autocast applies) a
``TorchDispatchMode`` sees every tensor an aten op returns; a ``weakref.finalize`` on
each new storage tells when it dies, so live bytes are known after every op. A
``saved_tensors_hooks`` pair records the storages autograd keeps for backward. On CUDA
the caching allocator's own counters are read after synchronising.
"""

from __future__ import annotations

import weakref
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from typing import Any

from dlprep.memcalc.config import Config

PHASES = ("forward", "backward", "step")


@dataclass
class Measurement:
    device: str
    weights: int = 0
    buffers: int = 0
    inputs: int = 0
    gradients: int = 0
    optimizer_state: int = 0
    saved_activations: int = 0
    peak: int = 0
    phase_peaks: dict[str, int] = field(default_factory=dict)
    trace: list[str] = field(default_factory=list)


def build(cfg: Config, device: str) -> tuple[Any, Any, Any, Any]:
    """The MLP, its optimiser and one batch, exactly as the estimator describes them."""
    import torch
    from torch import nn

    assert cfg.layers is not None, "measuring needs --layers"
    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU,
            "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU}
    half = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(cfg.dtype)
    kw: dict[str, Any] = {"device": device, "dtype": half}
    torch.manual_seed(0)
    blocks: list[nn.Module] = []
    pairs = list(zip(cfg.layers, cfg.layers[1:], strict=False))
    for i, (a, b) in enumerate(pairs):
        blocks.append(nn.Linear(a, b, **kw))
        if i == len(pairs) - 1:
            break
        if cfg.norm == "batchnorm":
            blocks.append(nn.BatchNorm1d(b, **kw))
        elif cfg.norm == "layernorm":
            blocks.append(nn.LayerNorm(b, **kw))
        blocks.append(acts[cfg.activation]())
        if cfg.dropout > 0:
            blocks.append(nn.Dropout(cfg.dropout))
    net = nn.Sequential(*blocks)
    X = torch.randn(cfg.batch, cfg.layers[0], device=device, dtype=half)
    if cfg.loss == "cross_entropy":
        y = torch.randint(0, cfg.layers[-1], (cfg.batch,), device=device)
    else:
        y = torch.randn(cfg.batch, cfg.layers[-1], device=device, dtype=half)
    params = list(net.parameters())
    wd = cfg.weight_decay
    fe = cfg.foreach
    opt = {
        "sgd": lambda: torch.optim.SGD(params, lr=0.01, weight_decay=wd, foreach=fe),
        "momentum": lambda: torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=wd,
                                            foreach=fe),
        "adam": lambda: torch.optim.Adam(params, lr=1e-3, weight_decay=wd, foreach=fe),
        "adamw": lambda: torch.optim.AdamW(params, lr=1e-3, weight_decay=wd, foreach=fe),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=1e-3, weight_decay=wd, foreach=fe),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=1e-2, weight_decay=wd, foreach=fe),
    }[cfg.optimizer]()
    return net, opt, X, y


def _train_step(cfg: Config, net: Any, opt: Any, X: Any, y: Any, mark: Any) -> None:
    import torch
    import torch.nn.functional as F

    loss_fn = F.cross_entropy if cfg.loss == "cross_entropy" else F.mse_loss
    amp = {"amp-bf16": torch.bfloat16, "amp-fp16": torch.float16}.get(cfg.dtype)
    device_type = "cuda" if X.device.type == "cuda" else "cpu"
    opt.zero_grad(set_to_none=True)
    mark("forward")
    # Autocast wraps the forward only: leaving it clears its cache of cast weights.
    with torch.autocast(device_type, dtype=amp) if amp else nullcontext():
        loss = loss_fn(net(X), y)
    mark("backward")
    loss.backward()
    mark("step")
    opt.step()
    mark(None)


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
        net, opt, X, y = build(cfg, real)
        _train_step(cfg, net, opt, X, y, lambda phase: None)

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
            weakref.finalize(s, free, key, n)
            if trace:
                result.trace.append(f"+{n} {why} {tuple(t.shape)} {t.dtype} = {state['cur']}")

        def free(key: int, n: int) -> None:
            live.pop(key, None)
            state["cur"] -= n
            if trace:
                result.trace.append(f"-{n} = {state['cur']}")

        class Tracker(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for t in tree_flatten(out)[0]:
                    if isinstance(t, torch.Tensor):
                        track(t, str(func))
                return out

        def storages(tensors: Any) -> dict[int, int]:
            return {id(t.untyped_storage()): t.untyped_storage().nbytes() for t in tensors}

        params = storages(net.parameters())
        buffers = storages(net.buffers())
        inputs = storages([X, y])
        states = storages(v for s in opt.state.values() for v in s.values()
                          if isinstance(v, torch.Tensor))
        for group in (params, buffers, inputs, states):
            for key, n in group.items():
                live[key] = n
                state["cur"] += n
        keep = [t.untyped_storage() for t in [*net.parameters(), *net.buffers(), X, y]]
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
            _train_step(cfg, net, opt, X, y, mark)
        del keep
        result.weights = sum(params.values())
        result.buffers = sum(buffers.values())
        result.inputs = sum(inputs.values())
        result.gradients = sum(storages(p.grad for p in net.parameters()
                                        if p.grad is not None).values())
        result.optimizer_state = sum(states.values())
        result.peak = state["peak"]
        result.phase_peaks = phase_peaks
        return result


def _measure_cuda(cfg: Config) -> Measurement:
    """Allocator counters around a warmed-up step (the CUDA context is not in them)."""
    import torch

    net, opt, X, y = build(cfg, "cuda")
    _train_step(cfg, net, opt, X, y, lambda phase: None)
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
        _train_step(cfg, net, opt, X, y, mark)
    result.weights = sum(size(p) for p in net.parameters())
    result.buffers = sum(size(b) for b in net.buffers())
    result.inputs = size(X) + size(y)
    result.gradients = sum(size(p.grad) for p in net.parameters() if p.grad is not None)
    result.optimizer_state = sum(size(v) for s in opt.state.values() for v in s.values()
                                 if isinstance(v, torch.Tensor) and v.device.type == "cuda")
    result.phase_peaks = phase_peaks
    result.peak = max(phase_peaks.values())
    return result
