"""Shared helpers for the dlprep demos: data sets, a configurable MLP, measurements.

Only torch and the standard library are used, so `dlprep demo NAME --save-script` can paste
this file in front of a demo and the result runs anywhere torch is installed.

A demo is a generator ``run(p, num_steps, seed, device)`` that yields :class:`Log` records
and *returns* a dict of its key numbers; ``verdict(numbers, lang)`` turns those numbers into
the sentence the learner reads (built from checked statements: see ``_verdict.py``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class Log:
    """One measured step of one run (e.g. ``run="sigmoid"``, ``step=40`` of ``total=300``).

    ``part``/``parts`` say which of the demo's runs this is (0-based), for the progress bar.
    """

    run: str
    step: int
    total: int
    metrics: Mapping[str, float] = field(default_factory=dict)
    part: int = 0
    parts: int = 1


def log_every(num_steps: int, points: int = 100) -> int:
    """Log about ``points`` steps per run: measuring every step would slow training down."""
    return max(1, num_steps // points)


_cancel = threading.local()  # per thread: the thread that runs a demo is the one watching


def watch_cancel(event: threading.Event | None) -> None:
    """Called by the dlprep engine; a saved script never sets one."""
    _cancel.event = event


def stop_requested() -> bool:
    event = getattr(_cancel, "event", None)
    return event is not None and event.is_set()


def is_log_step(step: int, num_steps: int, points: int = 100) -> bool:
    """Whether to measure and yield this step. Also True once a stop is requested, so a long
    run with sparse logging still yields at once and the engine can end it."""
    return (step == 1 or step == num_steps or step % log_every(num_steps, points) == 0
            or stop_requested())


def finite(value: float) -> bool:
    return math.isfinite(value)


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` prefers CUDA, then Apple's MPS, then the CPU; a missing device is an error."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' is not available here (no CUDA GPU or CPU-only torch)")
    if name == "mps" and not has_mps:
        raise ValueError("device 'mps' is not available here (needs Apple silicon and macOS)")
    if name not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {name!r} (use auto, cpu, cuda or mps)")
    return torch.device(name)


# --- synthetic data: generated on the CPU from its own seed, then moved to the device -------


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def spirals(n: int = 512, noise: float = 0.15, seed: int = 0, turns: float = 1.5):
    """Two interleaved spirals in 2-D; labels 0/1 (a classic non-linear problem)."""
    g = _generator(seed)
    y = torch.arange(n) % 2
    r = torch.rand(n, generator=g)
    theta = r * turns * 2 * math.pi + y * math.pi
    X = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1)
    X = X * 2 + noise * torch.randn(n, 2, generator=g)
    return X, y


def xor(n: int = 256, noise: float = 0.1, seed: int = 0):
    """Four clusters at the corners of a square; opposite corners share a label."""
    g = _generator(seed)
    corners = torch.randint(0, 2, (n, 2), generator=g)
    y = corners[:, 0] ^ corners[:, 1]
    X = (corners * 2 - 1).float() + noise * torch.randn(n, 2, generator=g)
    return X, y


def circles(n: int = 512, noise: float = 0.1, factor: float = 0.5, seed: int = 0):
    """An inner and an outer ring; labels 1/0."""
    g = _generator(seed)
    y = torch.arange(n) % 2
    theta = torch.rand(n, generator=g) * 2 * math.pi
    radius = torch.where(y == 1, factor, 1.0)
    X = torch.stack([radius * torch.cos(theta), radius * torch.sin(theta)], dim=1)
    return X + noise * torch.randn(n, 2, generator=g), y


def blobs(n: int = 512, num_classes: int = 4, dim: int = 2, spread: float = 0.6, seed: int = 0):
    """Gaussian clusters around random centres, one per class."""
    g = _generator(seed)
    centres = 3 * torch.randn(num_classes, dim, generator=g)
    y = torch.arange(n) % num_classes
    return centres[y] + spread * torch.randn(n, dim, generator=g), y


def teacher_regression(n: int = 512, dim: int = 8, num_hiddens: int = 16, noise: float = 0.05,
                       seed: int = 0):
    """Targets from a random one-hidden-layer 'teacher' network plus noise: y has shape (n, 1)."""
    g = _generator(seed)
    X = torch.randn(n, dim, generator=g)
    W1 = torch.randn(dim, num_hiddens, generator=g) / math.sqrt(dim)
    W2 = torch.randn(num_hiddens, 1, generator=g) / math.sqrt(num_hiddens)
    y = torch.tanh(X @ W1) @ W2 + noise * torch.randn(n, 1, generator=g)
    return X, y


# --- models -------------------------------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "identity": nn.Identity,
}


def mlp(num_inputs: int, num_hiddens: int, num_outputs: int, depth: int,
        activation: str = "relu") -> nn.Sequential:
    """``depth`` hidden Linear+activation blocks, then a Linear output layer."""
    layers: list[nn.Module] = []
    width = num_inputs
    for _ in range(depth):
        layers += [nn.Linear(width, num_hiddens), ACTIVATIONS[activation]()]
        width = num_hiddens
    layers.append(nn.Linear(width, num_outputs))
    return nn.Sequential(*layers)


def linears(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def init_weights(net: nn.Module, scheme: str, value: float = 0.5, std: float = 0.01,
                 gain: float = 1.0) -> None:
    """Re-initialise every Linear layer: zero, constant, normal, xavier, he or default."""
    for layer in linears(net):
        w = layer.weight
        if scheme == "zero":
            nn.init.zeros_(w)
        elif scheme == "constant":
            nn.init.constant_(w, value)
        elif scheme == "normal":
            nn.init.normal_(w, 0.0, std * gain)
        elif scheme == "xavier":
            nn.init.xavier_normal_(w, gain=gain)
        elif scheme == "he":
            nn.init.kaiming_normal_(w, nonlinearity="relu")
            w.data.mul_(gain)
        elif scheme != "default":
            raise ValueError(f"unknown init scheme {scheme!r}")
        nn.init.zeros_(layer.bias)


# --- measurements -------------------------------------------------------------------------


def accuracy(y_hat: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max class equals the label."""
    return (y_hat.argmax(dim=1) == y).float().mean().item()


def grad_norms(net: nn.Module) -> list[float]:
    """L2 norm of each Linear layer's weight gradient, input layer first."""
    norms = [layer.weight.grad.norm() if layer.weight.grad is not None
             else torch.zeros((), device=layer.weight.device) for layer in linears(net)]
    return torch.stack(norms).tolist()  # one conversion, not one .item() per layer


def activation_stats(net: nn.Sequential, X: torch.Tensor) -> list[torch.Tensor]:
    """The output of every activation module (the hidden representations), in order."""
    outputs = []
    h = X
    for module in net:
        h = module(h)
        if not isinstance(module, nn.Linear):
            outputs.append(h)
    return outputs


def forward_keeping_grads(net: nn.Sequential, X: torch.Tensor):
    """``net(X)`` plus each hidden activation, kept so ``h.grad`` exists after backward()."""
    hiddens = []
    h = X
    for module in net:
        h = module(h)
        if not isinstance(module, nn.Linear):
            h.retain_grad()
            hiddens.append(h)
    return h, hiddens


def ratio(a: float, b: float) -> float:
    """a / b that stays finite: 0 when both vanish, inf only when b alone is zero."""
    if b == 0:
        return 0.0 if a == 0 else math.inf
    return a / b


def drain(gen: Generator[Log, None, dict], echo: Callable[[Log], None] | None = None) -> dict:
    """Run a demo generator to the end and return its numbers (used by saved scripts)."""
    while True:
        try:
            entry = next(gen)
        except StopIteration as stop:
            return stop.value
        if echo is not None:
            echo(entry)
