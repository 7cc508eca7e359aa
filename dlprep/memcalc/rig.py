"""The MLP, optimiser and training step that ``measure`` runs (imports torch when called).

Each option of the estimator is done for real here: checkpointed hidden blocks, autocast,
pure half, and half with fp32 master weights owned by the optimiser.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from dlprep.memcalc.config import Config


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
    """The MLP, its optimiser and one batch, exactly as the estimator describes them."""
    import torch
    from torch import nn

    assert cfg.layers is not None, "measuring needs --layers"
    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU,
            "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU}
    name = HALF.get(cfg.dtype.removesuffix("-master"))
    half = getattr(torch, name) if name else None
    kw: dict[str, Any] = {"device": device, "dtype": half}
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    pairs = list(zip(cfg.layers, cfg.layers[1:], strict=False))
    for i, (a, b) in enumerate(pairs):
        block: list[nn.Module] = [nn.Linear(a, b, **kw)]
        if i < len(pairs) - 1:
            if cfg.norm == "batchnorm":
                block.append(nn.BatchNorm1d(b, **kw))
            elif cfg.norm == "layernorm":
                block.append(nn.LayerNorm(b, **kw))
            block.append(acts[cfg.activation]())
            if cfg.dropout > 0:
                block.append(nn.Dropout(cfg.dropout))
        if cfg.checkpointing and i < len(pairs) - 1:
            layers.append(checkpointed(nn.Sequential(*block)))
        else:
            layers += block
    net = nn.Sequential(*layers)
    X = torch.randn(cfg.batch, cfg.layers[0], device=device, dtype=half)
    if cfg.loss == "cross_entropy":
        y = torch.randint(0, cfg.layers[-1], (cfg.batch,), device=device)
    else:
        y = torch.randn(cfg.batch, cfg.layers[-1], device=device, dtype=half)
    masters = [p.detach().float() for p in net.parameters()] if cfg.master else None
    # With master weights the optimiser owns and updates the fp32 copies, not the model.
    params = masters if masters is not None else list(net.parameters())
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
    return Rig(net, opt, X, y, masters)


def checkpointed(block: Any) -> Any:
    """``block`` whose activations are recomputed in backward instead of saved."""
    from torch import nn
    from torch.utils.checkpoint import checkpoint

    class _Checkpointed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = block

        def forward(self, x: Any) -> Any:
            return checkpoint(self.block, x, use_reentrant=False)

    return _Checkpointed()


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
        loss = loss_fn(net(X), y)
    if scale is not None:
        loss = loss * scale
    mark("backward")
    loss.backward()
    mark("step")
    if rig.masters is not None:
        for p, m in zip(net.parameters(), rig.masters, strict=True):
            m.grad = p.grad.float()  # the optimiser reads fp32 copies of the half grads
            if scale is not None:
                m.grad.div_(scale)
    opt.step()
    if rig.masters is not None:
        with torch.no_grad():
            for p, m in zip(net.parameters(), rig.masters, strict=True):
                p.copy_(m)  # the updated masters, rounded back to half in place
    mark(None)
