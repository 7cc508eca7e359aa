"""Model families. Each has the same shape: a pure replay module (``mlp``, ``gpt``) with
``static(cfg, t)`` and ``forward(t, cfg)``, a ``backward(t, cfg, graph)`` (in the same
module, or in ``<family>_grad`` beside it, which imports the forward's pieces: never the
other way round), and a torch rig (``mlp_rig``, ``gpt_rig``) with ``build_net(cfg, kw)``
and ``batch(cfg, device, half)``. Adding a family means adding those modules and a
branch here (LoRA on a GPT is the GPT walk with other Linear policies, in
``gpt_lora_ops``, and its own rig, ``gpt_lora_rig``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import Any

from dlprep.memcalc.config import Config


def _rig(cfg: Config) -> str:
    return "gpt_lora" if cfg.lora is not None else cfg.arch


def replay_of(cfg: Config) -> ModuleType:
    """The family's replay: LoRA is the GPT walk with frozen and adapted Linears."""
    return import_module(f"dlprep.memcalc.models.{cfg.arch}")


def backward_of(cfg: Config) -> Callable[..., list[str]]:
    """The family's backward: ``backward(t, cfg, graph)`` -> the gradients' keys."""
    family = cfg.arch
    grad: Any = import_module(f"dlprep.memcalc.models.{family}"
                              + ("" if family == "mlp" else "_grad"))
    return grad.backward


def rig_of(cfg: Config) -> ModuleType:
    return import_module(f"dlprep.memcalc.models.{_rig(cfg)}_rig")
