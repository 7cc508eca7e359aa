"""Model families. Each has the same shape: a pure replay module (``mlp``, ``gpt``) with
``static(cfg, t)``, ``forward(t, cfg)`` and ``backward(t, cfg, graph)``, and a torch rig
(``mlp_rig``, ``gpt_rig``) with ``build_net(cfg, kw)`` and ``batch(cfg, device, half)``.
"""

from __future__ import annotations

from types import ModuleType

from dlprep.memcalc.config import Config


def replay_of(cfg: Config) -> ModuleType:
    if cfg.gpt is not None:
        from dlprep.memcalc.models import gpt

        return gpt
    from dlprep.memcalc.models import mlp

    return mlp


def rig_of(cfg: Config) -> ModuleType:
    if cfg.gpt is not None:
        from dlprep.memcalc.models import gpt_rig

        return gpt_rig
    from dlprep.memcalc.models import mlp_rig

    return mlp_rig
