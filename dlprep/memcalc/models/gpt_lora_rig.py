"""The LoRA GPT that ``measure`` trains (imports torch when called).

``gpt_rig``'s model with every base parameter frozen (``requires_grad_(False)``), and on
each targeted Linear two plain parameters, ``A`` (r x d_in, Kaiming-uniform) and ``B``
(d_out x r, zeros), as in the paper and PEFT: ``y = base(x) + B(A(x)) * alpha / r``,
evaluated in PEFT's order (base first, then the adapter path, then one out-of-place
add). No adapter dropout (PEFT's ``lora_dropout=0`` makes it an identity). In a
mixture-of-experts block the adapters go on each expert's gate, up and down (Mixtral's
w1, w3, w2, as PEFT targets them); the router stays frozen, its choice forced as in
``gpt_rig``.
"""

from __future__ import annotations

import math
from typing import Any

from dlprep.memcalc.config import Config
from dlprep.memcalc.models import gpt_rig

ALPHA = 16  # PEFT's default lora_alpha; the scaling is a Python float, never a tensor


def build_net(cfg: Config, kw: dict[str, Any]) -> Any:
    import torch
    import torch.nn.functional as F
    from torch import nn

    assert cfg.gpt is not None and cfg.lora is not None
    lo = cfg.lora
    net = gpt_rig.build_net(cfg, kw)
    net.requires_grad_(False)

    class Adapted(nn.Module):
        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.A = nn.Parameter(torch.empty(lo.rank, base.in_features, **kw))
            self.B = nn.Parameter(torch.zeros(base.out_features, lo.rank, **kw))
            nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
            self.scaling = ALPHA / lo.rank

        def forward(self, x: Any) -> Any:
            out = self.base(x)
            return out + F.linear(F.linear(x, self.A), self.B) * self.scaling

    for block in net.blocks:  # a Mixtral block: the attention's and each expert's
        for module in (block, *getattr(block, "experts", ())):
            for name in lo.targets:
                if isinstance(getattr(module, name, None), nn.Linear):
                    setattr(module, name, Adapted(getattr(module, name)))
    return net


def batch(cfg: Config, device: str, half: Any) -> tuple[Any, Any]:
    return gpt_rig.batch(cfg, device, half)
