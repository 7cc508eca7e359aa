"""The gpu-memory demo's settings, checked without torch.

The registry calls :func:`plan` (META ``"check": "_memplan.plan"``) wherever a setting is
accepted - a card's demo link at ``dlprep bank validate``, ``--set``, the TUI's parameter
fields - and the demo calls it again for the memcalc configuration it runs, so a combination
is refused in one place, by one line, before torch is imported. memcalc's estimator is pure
Python: the same arithmetic that sizes a model sizes this demo's own largest batch.
"""

from __future__ import annotations

from dataclasses import replace

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.parse import parse_layers

CPU_LIMIT = 2 * 10**9  # bytes at the peak of the largest batch; more is not a demo any more
FLOP_LIMIT = {"cpu": 2e11, "cuda": 2e14}  # a few seconds of matmuls in all
SCALE = (1, 2, 4)  # act 2: the batch times these


def plan(p: dict, device: str = "cpu") -> Config:
    """The memcalc configuration of a run on ``device`` ("cuda", else the CPU's limits);
    a combination the demo cannot run is one ``ValueError`` line."""
    try:
        layers = parse_layers(str(p["layers"]).replace("-", ","))
    except ConfigError:
        raise ValueError(f"layers must be positive widths like 784,512,10 (or 784-512-10), "
                         f"got {p['layers']!r}") from None
    try:
        cfg = Config(batch=p["batch"], layers=layers, optimizer=p["optimizer"],
                     dtype=p["dtype"], checkpointing=p["checkpointing"],
                     activation=p["activation"], device="cuda" if device == "cuda" else "cpu")
    except ConfigError as exc:
        raise ValueError(str(exc).replace("--", "")) from None
    biggest = replace(cfg, batch=cfg.batch * SCALE[-1])
    flops = 6 * biggest.batch * sum(a * b for a, b in zip(layers, layers[1:], strict=False))
    peak = estimate(biggest).peak or 0
    if flops * 2 > FLOP_LIMIT[cfg.device] or (cfg.device == "cpu" and peak > CPU_LIMIT):
        raise ValueError(f"layers {p['layers']} at batch {biggest.batch} needs "
                         f"{peak / 1e9:.3g} GB and {flops:.2g} FLOPs a step; the demo stops at "
                         f"{CPU_LIMIT / 1e9:g} GB and {FLOP_LIMIT[cfg.device] / 2:.0e} FLOPs "
                         f"on {cfg.device} (use dlprep memcalc for large models)")
    return cfg
