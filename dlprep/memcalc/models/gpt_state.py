"""What the GPT walk's forward leaves for its backward: one record per Linear (with its
policy), one per block, the graph of the step (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Lin:
    """One Linear as its forward leaves it for backward. ``policy`` owns its bytes:
    "trained" (full fine-tuning: saves its input and, under autocast, its cached half
    weight; makes weight and bias gradients), "frozen" (LoRA's base: saves nothing of its
    own but, when its input needs a gradient under autocast, the uncached half weight),
    "adapter" (a frozen base plus LoRA's A and B, which save x and A(x))."""

    x: str  # the input autograd saved (under autocast, its half cast)
    a: int  # d_in
    b: int  # d_out
    policy: str = "trained"
    cast: bool = False  # an fp32 input cast to half for the matmul (autocast)
    w: str | None = None  # the half weight cast kept for backward (autocast)
    bias: bool = False
    rg: bool = True  # the input requires grad
    xa: str = ""  # adapter: A's input (x, or its half cast)
    ah: str = ""  # adapter: A(x)
    ac: str = ""  # adapter: A's half cast (autocast's cache)
    bc: str = ""  # adapter: B's half cast

    @property
    def adapted(self) -> bool:
        return self.policy == "adapter"


# A Linear the block has not run (yet, or at all): one shared record, never written to
# (the walk replaces a Layer's record, it does not fill it in), so that the thousands of
# Layers an MoE walk makes (one per expert) cost no Lin each.
UNSET = Lin("", 0, 0, "unset")


def _unset() -> Lin:
    return UNSET


@dataclass
class Layer:
    """What one block's forward leaves for its backward. ``q`` ... ``down`` are the records
    the replay's ``linear()`` returns; the ``*_rg`` flags say which tensors require grad
    (all of them in full fine-tuning; with LoRA, those downstream of an adapter)."""

    inp: str  # the block input (checkpointing keeps it and recomputes from it)
    in_rg: bool = True
    norm1: list[str] = field(default_factory=list)
    norm2: list[str] = field(default_factory=list)
    q: Lin = field(default_factory=_unset)
    k: Lin = field(default_factory=_unset)
    v: Lin = field(default_factory=_unset)
    o: Lin = field(default_factory=_unset)
    gate: Lin = field(default_factory=_unset)
    up: Lin = field(default_factory=_unset)
    down: Lin = field(default_factory=_unset)
    attn: list[str] = field(default_factory=list)  # what attention saved
    act: list[str] = field(default_factory=list)  # what the MLP's activation saved
    r_rg: bool = True  # the residual after attention
    qkv_rg: tuple[bool, bool, bool] = (True, True, True)
    a_rg: bool = True  # the MLP's activation (the down projection's input)
    gu_rg: tuple[bool, bool] = (True, True)  # SwiGLU's gate and up outputs
    moe: Any = None  # a mixture-of-experts block's record (``gpt_moe.Moe``)

    def linear(self, name: str) -> Lin:
        rec: Lin = getattr(self, name)
        return rec


@dataclass
class Graph:
    layers: list[Layer] = field(default_factory=list)
    keys: dict[str, Any] = field(default_factory=dict)
    cache: list[str] = field(default_factory=list)  # autocast's casts, freed when it exits
    recomputed: dict[int, int] = field(default_factory=dict)  # bytes saved again, per block
    per_block: int = 0  # bytes one block saves for backward


class Stop(Exception):
    """Checkpoint's recompute has saved the block's last tensor: it unwinds here, with
    the Linear's record (or None when the last save came before it)."""
