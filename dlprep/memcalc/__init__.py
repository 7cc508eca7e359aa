"""memcalc: the memory one training step needs, replayed tensor by tensor.

``config``, ``timeline``, ``replay``, ``optim``, ``estimate``, ``trade``, ``gpus`` and
``report`` are pure Python (no torch, numpy or textual: the estimate answers in
milliseconds). ``measure`` (with ``rig``, the model it trains) imports torch when it runs
and is the ground truth the estimator is tested against.
"""

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.estimate import Estimate, estimate

__all__ = ["Config", "ConfigError", "Estimate", "estimate"]
