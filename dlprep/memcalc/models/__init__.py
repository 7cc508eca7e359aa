"""Model families. Each has the same shape: a pure replay module (``mlp``, ``gpt``) with
``static(cfg, t)``, ``forward(t, cfg)`` and ``backward(t, cfg, graph)``, and a torch rig
(``mlp_rig``, ``gpt_rig``) with ``build_net(cfg, kw)`` and ``batch(cfg, device, half)``.
Adding a family means adding those two modules and a branch here (LoRA on a GPT is
``gpt_lora`` / ``gpt_lora_rig``).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from dlprep.memcalc.config import Config


def _family(cfg: Config) -> str:
    return "gpt_lora" if cfg.lora is not None else cfg.arch


def replay_of(cfg: Config) -> ModuleType:
    return import_module(f"dlprep.memcalc.models.{_family(cfg)}")


def rig_of(cfg: Config) -> ModuleType:
    return import_module(f"dlprep.memcalc.models.{_family(cfg)}_rig")
