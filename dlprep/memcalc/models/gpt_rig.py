"""The small GPT that ``measure`` trains (imports torch when called).

Written with plain ops in a fixed order so that every tensor it allocates is one the
replay in ``gpt.py`` names: separate q/k/v projections, grouped-query K/V repeated with
``expand + reshape`` (as Hugging Face's ``repeat_kv``), a causal mask kept as a bool
buffer, and either explicit matmul-softmax or ``scaled_dot_product_attention``.

Why its block is written by hand, not driven by the walk's description
(``shape.BLOCK_LINEARS``): the rig is the reference the byte-exact grids hold memcalc
to, so it must stay an ordinary PyTorch model that a reader can set beside nanoGPT's or
Hugging Face's and see the same code. What the walk has to reproduce is what such code
does: the order Python evaluates ``down(silu(gate(x)) * up(x))`` in, which locals live
until a method returns. A rig that interpreted memcalc's description would run that
description, and a wrong order in it would pass the grids by agreeing with itself. The
order is checked instead: the parameter order (``net.parameters()`` against
``GPT.param_dims``, read off ``BLOCK_LINEARS``) and every byte of the forward and backward
by the grids, and the walk's Linear order against ``BLOCK_LINEARS`` by
``tests/memcalc/test_block_order.py``.
"""

from __future__ import annotations

import math
from typing import Any

from dlprep.memcalc.config import Config
from dlprep.memcalc.shape import GPT


def build_net(cfg: Config, kw: dict[str, Any]) -> Any:
    import torch
    import torch.nn.functional as F
    from torch import nn

    assert cfg.gpt is not None
    g: GPT = cfg.gpt
    d, H, KV, hd, T = g.d_model, g.n_head, g.kv_heads, g.head_dim, cfg.seq
    E = g.n_experts
    hf = cfg.code == "hf"

    def norm() -> nn.Module:
        if g.norm == "layernorm":
            return nn.LayerNorm(d, bias=g.bias, **kw)
        return nn.RMSNorm(d, eps=1e-6, **kw)

    class Expert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gate = nn.Linear(d, g.ff, bias=g.bias, **kw)
            self.up = nn.Linear(d, g.ff, bias=g.bias, **kw)
            self.down = nn.Linear(g.ff, d, bias=g.bias, **kw)

        def forward(self, x: Any) -> Any:
            return self.down(F.silu(self.gate(x)) * self.up(x))

    routes: dict[str, Any] = {}

    def moe(block: Any, x: Any) -> Any:
        """Hugging Face's MixtralSparseMoeBlock with the router's choice forced: its
        top-k is replaced by the fixed balanced assignment ``routes`` (the weights are
        still the router's softmax, renormalised over the k chosen experts)."""
        B = x.shape[0]
        h = x.view(-1, d)
        probs = F.softmax(block.router(h), dim=1, dtype=torch.float)
        w = probs.gather(1, routes["sel"])
        w = w / w.sum(dim=-1, keepdim=True)
        w = w.to(h.dtype)
        out = torch.zeros_like(h)
        for e, expert in enumerate(block.experts):
            top_x, idx = routes["top_x"][e], routes["idx"][e]
            y = expert(h[top_x]) * w[top_x, idx, None]
            out.index_add_(0, top_x, y.to(h.dtype))
        return out.view(B, T, d)

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1 = norm()
            self.q = nn.Linear(d, d, bias=g.bias, **kw)
            self.k = nn.Linear(d, KV * hd, bias=g.bias, **kw)
            self.v = nn.Linear(d, KV * hd, bias=g.bias, **kw)
            self.o = nn.Linear(d, d, bias=g.bias, **kw)
            self.norm2 = norm()
            if g.n_experts:  # Mixtral's sparse MoE block: a router, then the experts
                self.router = nn.Linear(d, g.n_experts, bias=False, **kw)
                self.experts = nn.ModuleList(Expert() for _ in range(g.n_experts))
            elif g.mlp == "swiglu":
                self.gate = nn.Linear(d, g.ff, bias=g.bias, **kw)
            if not g.n_experts:
                self.up = nn.Linear(d, g.ff, bias=g.bias, **kw)
                self.down = nn.Linear(g.ff, d, bias=g.bias, **kw)
            if g.causal and cfg.attention == "math":
                mask = torch.ones(T, T, dtype=torch.bool, device=kw["device"]).triu(1)
                self.register_buffer("mask", mask)

        def attend(self, x: Any) -> Any:
            B = x.shape[0]
            q = self.q(x).view(B, T, H, hd).transpose(1, 2)
            k = self.k(x).view(B, T, KV, hd).transpose(1, 2)
            v = self.v(x).view(B, T, KV, hd).transpose(1, 2)
            if KV != H:
                k = k[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
                v = v[:, :, None].expand(B, KV, H // KV, T, hd).reshape(B, H, T, hd)
            if cfg.attention == "sdpa":
                y = F.scaled_dot_product_attention(q, k, v, is_causal=g.causal)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
                if g.causal:
                    att = att.masked_fill(self.mask, float("-inf"))
                att = F.softmax(att, dim=-1)
                y = att @ v
            return self.o(y.transpose(1, 2).reshape(B, T, d))

        def feed(self, x: Any) -> Any:
            if g.n_experts:
                return moe(self, x)
            if g.mlp == "swiglu":
                return self.down(F.silu(self.gate(x)) * self.up(x))
            return self.down(F.gelu(self.up(x)))

        def forward(self, x: Any) -> Any:
            x = x + self.attend(self.norm1(x))
            return x + self.feed(self.norm2(x))

    class Net(nn.Module):
        def __init__(self, shape: GPT) -> None:
            super().__init__()
            self.wte = nn.Embedding(shape.vocab, d, **kw)
            if shape.max_pos:
                self.wpe = nn.Embedding(shape.max_pos, d, **kw)
            self.blocks = nn.ModuleList(Block() for _ in range(shape.n_layer))
            self.norm_f = norm() if shape.final_norm else nn.Identity()
            if not shape.tied:
                self.head = nn.Linear(d, shape.vocab, bias=False, **kw)
            if shape.n_experts:  # the forced routing, shared by every block (buffers)
                for key, value in balanced_routes(cfg, kw["device"]).items():
                    self.register_buffer(key, value)
                routes["sel"] = self.route_sel
                routes["top_x"] = [getattr(self, f"route_x{e}") for e in range(E)]
                routes["idx"] = [getattr(self, f"route_i{e}") for e in range(E)]

        def forward(self, idx: Any, targets: Any = None) -> Any:
            x = self.wte(idx)
            if g.max_pos and hf:  # nanoGPT / Hugging Face GPT-2: look the positions up
                pos = torch.arange(T, device=idx.device)
                x = x + self.wpe(pos)
            elif g.max_pos:
                x = x + self.wpe.weight[:T]
            for block in self.blocks:
                if cfg.checkpointing:
                    from torch.utils.checkpoint import checkpoint

                    x = checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            x = self.norm_f(x)
            w = self.wte.weight if g.tied else self.head.weight
            logits = F.linear(x, w).view(-1, g.vocab)
            if targets is None:
                return logits
            # The loss inside forward() (hf): x and the logits are locals until it returns.
            return F.cross_entropy(logits, targets)

    return Net(g)


def balanced_routes(cfg: Config, device: str) -> dict[str, Any]:
    """Token j's s-th choice is expert (j·k + s) mod E: every expert gets B·T·k / E
    routed tokens (one more for the first (B·T·k) mod E experts). ``route_sel`` is the
    B·T x k choice, ``route_x{e}``/``route_i{e}`` each expert's tokens and slots."""
    import torch

    assert cfg.gpt is not None
    E, k = cfg.gpt.n_experts, cfg.gpt.top_k
    slots = torch.arange(cfg.batch * cfg.seq * k, device=device)
    sel = (slots % E).view(-1, k)
    out = {"route_sel": sel}
    for e in range(E):
        mine = slots[slots % E == e]
        out[f"route_x{e}"], out[f"route_i{e}"] = mine // k, mine % k
    return out


def batch(cfg: Config, device: str, half: Any) -> tuple[Any, Any]:
    """Token ids and next-token targets, both int64 ``B x T``."""
    import torch

    assert cfg.gpt is not None
    X = torch.randint(0, cfg.gpt.vocab, (cfg.batch, cfg.seq), device=device)
    y = torch.randint(0, cfg.gpt.vocab, (cfg.batch * cfg.seq,), device=device)
    return X, y
