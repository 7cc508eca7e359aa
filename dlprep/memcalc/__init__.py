"""memcalc: the memory one training step needs, replayed tensor by tensor.

``config`` (with ``shape``, a GPT's and its adapters' tensors, and ``parse``, the
option values), ``timeline``, the replays under ``models/`` (``mlp``; ``gpt`` and
``gpt_grad``, one walk for full fine-tuning and LoRA, with their helpers), ``optim``,
``estimate``, ``trade``, ``gpus`` and the ``report`` modules are pure Python (no torch,
numpy or textual: the estimate answers in milliseconds). ``measure`` (with ``rig`` and
the ``*_rig`` modules under ``models/``, the torch models it trains) imports torch when
it runs and is the ground truth the estimator is tested against.
"""

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.estimate import Estimate, estimate

__all__ = ["Config", "ConfigError", "Estimate", "estimate"]
