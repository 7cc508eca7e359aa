"""The optimiser and training step that ``measure`` runs (imports torch when called).

The model comes from its family's rig (``models/mlp_rig.py``, ``models/gpt_rig.py``).
Each option of the estimator is done for real here: checkpointing, autocast, pure half,
and half with fp32 master weights owned by the optimiser.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from dlprep.memcalc.config import Config
from dlprep.memcalc.optimizers import OPTIMIZERS


@dataclass
class Rig:
    """What one measured training step runs on."""

    net: Any
    opt: Any
    X: Any
    y: Any
    masters: list[Any] | None = None  # fp32 copies of the half weights (``*-master``)


# fp16 needs a loss scale or small gradients flush to zero; a static one keeps the loop short.
LOSS_SCALE = 1024.0
HALF = {"fp16": "float16", "bf16": "bfloat16"}


def build(cfg: Config, device: str) -> Rig:
    """The model, its optimiser and one batch, exactly as the estimator describes them."""
    import torch

    from dlprep.memcalc.models import rig_of

    name = HALF.get(cfg.dtype.removesuffix("-master"))
    half = getattr(torch, name) if name else None
    kw: dict[str, Any] = {"device": device, "dtype": half}
    torch.manual_seed(0)
    family = rig_of(cfg)
    net = family.build_net(cfg, kw)
    X, y = family.batch(cfg, device, half)
    # A frozen (LoRA) base gets neither an fp32 copy nor a place in the optimiser.
    masters = [p.detach().float() for p in trained(net)] if cfg.master else None
    # With master weights the optimiser owns and updates the fp32 copies, not the model.
    params = masters if masters is not None else trained(net)
    spec = OPTIMIZERS[cfg.optimizer]
    opt = getattr(torch.optim, spec.torch_class)(params, weight_decay=cfg.weight_decay,
                                                 foreach=cfg.foreach, **spec.kwargs)
    return Rig(net, opt, X, y, masters)


def train_step(cfg: Config, rig: Rig, mark: Any) -> None:
    import torch
    import torch.nn.functional as F

    net, opt, X, y = rig.net, rig.opt, rig.X, rig.y
    loss_fn = F.cross_entropy if cfg.loss == "cross_entropy" else F.mse_loss
    amp = {"amp-bf16": torch.bfloat16, "amp-fp16": torch.float16}.get(cfg.dtype)
    device_type = "cuda" if X.device.type == "cuda" else "cpu"
    scale = LOSS_SCALE if cfg.dtype == "fp16-master" else None
    opt.zero_grad(set_to_none=True)
    if rig.masters is not None:
        net.zero_grad(set_to_none=True)
    mark("forward")
    # Autocast wraps the forward only: leaving it clears its cache of cast weights.
    with torch.autocast(device_type, dtype=amp) if amp else nullcontext():
        loss = net(X, y) if cfg.code == "hf" else loss_fn(net(X), y)
    if scale is not None:
        loss = loss * scale
    mark("backward")
    loss.backward()
    mark("step")
    if rig.masters is not None:
        for p, m in zip(trained(net), rig.masters, strict=True):
            m.grad = p.grad.float()  # the optimiser reads fp32 copies of the half grads
            if scale is not None:
                m.grad.div_(scale)
    opt.step()
    if rig.masters is not None:
        with torch.no_grad():
            for p, m in zip(trained(net), rig.masters, strict=True):
                p.copy_(m)  # the updated masters, rounded back to half in place
    mark(None)


def trained(net: Any) -> list[Any]:
    return [p for p in net.parameters() if p.requires_grad]
