"""The MLP that ``measure`` trains (imports torch when called)."""

from __future__ import annotations

from typing import Any

from dlprep.memcalc.config import Config


def build_net(cfg: Config, kw: dict[str, Any]) -> Any:
    """``Linear -> norm -> activation -> dropout`` blocks; the last Linear feeds the loss."""
    from torch import nn

    assert cfg.layers is not None, "measuring an MLP needs --layers"
    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU,
            "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU}
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
    return nn.Sequential(*layers)


def batch(cfg: Config, device: str, half: Any) -> tuple[Any, Any]:
    import torch

    assert cfg.layers is not None
    X = torch.randn(cfg.batch, cfg.layers[0], device=device, dtype=half)
    if cfg.loss == "cross_entropy":
        y = torch.randint(0, cfg.layers[-1], (cfg.batch,), device=device)
    else:
        y = torch.randn(cfg.batch, cfg.layers[-1], device=device, dtype=half)
    return X, y


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
