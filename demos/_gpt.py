"""A tiny causal transformer for the transformer-era demos, and synthetic tasks to train it on.

nanoGPT's shape, kept small and readable: token embedding, an optional position signal
(none, learned, sinusoidal or rotary), pre-norm blocks ``x + attn(norm(x))`` then
``x + mlp(norm(x))``, a final norm and a linear head; ``norm="post"`` gives the original
transformer's post-norm blocks ``norm(x + attn(x))`` then ``norm(x + mlp(x))`` instead, whose
output is already normalised, so no final norm. The switches the demos turn are
plain arguments: the 1/sqrt(d_k) scale, the causal mask, a KV cache for generation. Each
attention layer keeps its last attention probabilities (and, if asked, its scores with their
gradient) so a demo can measure entropy, attention to the future, or the gradient through
the softmax, per layer and per head.

Weights start at normal(0, 1/sqrt(fan_in)): after a LayerNorm every component of q and k then
has variance about 1, the assumption under which Vaswani et al. (2017, footnote 4) show that
q.k has variance d_k. Only torch is used, so a saved script can paste this file.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

POSITIONS = ("none", "learned", "sinusoidal", "rope")
NORMS = ("pre", "post")  # where each block's LayerNorm sits
IGNORE = -100  # target of a position that is not scored


def sinusoids(max_len: int, d_model: int) -> torch.Tensor:
    """Vaswani et al.'s fixed table: sin and cos of position / 10000^(2i/d)."""
    pos = torch.arange(max_len).float()[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2).float() / d_model)
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


def rotate(x: torch.Tensor, start: int) -> torch.Tensor:
    """RoPE (Su et al. 2021): turn each pair of q or k features by an angle proportional to
    the position, so q.k depends on the positions only through their difference."""
    T, hd = x.shape[-2], x.shape[-1]
    pos = torch.arange(start, start + T, device=x.device).float()[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, hd, 2, device=x.device).float() / hd)
    cos, sin = torch.cos(pos * freq), torch.sin(pos * freq)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class KVCache:
    """One layer's keys and values for a whole sequence, allocated once (a static cache):
    each step writes its new positions and attends to everything written so far."""

    def __init__(self, batch: int, n_head: int, max_len: int, head_dim: int,
                 device: torch.device, dtype: torch.dtype = torch.float32) -> None:
        self.k = torch.zeros(batch, n_head, max_len, head_dim, device=device, dtype=dtype)
        self.v = torch.zeros_like(self.k)

    def update(self, k: torch.Tensor, v: torch.Tensor, start: int):
        end = start + k.shape[-2]
        self.k[:, :, start:end] = k
        self.v[:, :, start:end] = v
        return self.k[:, :, :end], self.v[:, :, :end]

    @property
    def nbytes(self) -> int:
        return self.k.nbytes + self.v.nbytes


class Attention(nn.Module):
    def __init__(self, d_model: int, n_head: int, causal: bool, scale: bool, rope: bool):
        super().__init__()
        self.n_head, self.head_dim = n_head, d_model // n_head
        self.causal, self.scale, self.rope = causal, scale, rope
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.keep_scores = False  # keep the scores with their gradient (costs memory)
        self.scores: torch.Tensor | None = None
        self.probs: torch.Tensor | None = None  # (batch, head, query, key), detached
        self.pairs = 0  # query-key pairs scored since the counter was reset: the work done

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, start: int = 0):
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, self.head_dim).permute(2, 0, 3, 1, 4)
        if self.rope:
            q, k = rotate(q, start), rotate(k, start)
        if cache is not None:
            k, v = cache.update(k, v, start)
        scores = q @ k.transpose(-2, -1)
        if self.scale:
            scores = scores / math.sqrt(self.head_dim)
        if self.keep_scores and scores.requires_grad:
            scores.retain_grad()
            self.scores = scores
        if self.causal:  # query at position start+i may read keys 0..start+i only
            S = k.shape[-2]
            future = torch.ones(T, S, dtype=torch.bool, device=x.device).triu(start + 1)
            scores = scores.masked_fill(future, float("-inf"))
        probs = F.softmax(scores, dim=-1)
        self.probs = probs.detach()
        self.pairs += T * k.shape[-2]
        y = (probs @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self, d_model: int, n_head: int, causal: bool, scale: bool, rope: bool,
                 norm: str = "pre"):
        super().__init__()
        self.post = norm == "post"
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_head, causal, scale, rope)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                 nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, start: int = 0):
        if self.post:  # Vaswani et al.'s placement: every residual sum is normalised
            x = self.ln1(x + self.attn(x, cache, start))
            return self.ln2(x + self.mlp(x))
        x = x + self.attn(self.ln1(x), cache, start)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """``GPT(vocab, d_model, n_layer, n_head, max_len, pos, causal, scale, norm)``; ``net(X)``
    gives logits of shape (batch, T, vocab)."""

    def __init__(self, vocab: int, d_model: int = 64, n_layer: int = 2, n_head: int = 2,
                 max_len: int = 64, pos: str = "learned", causal: bool = True,
                 scale: bool = True, norm: str = "pre") -> None:
        super().__init__()
        if pos not in POSITIONS:
            raise ValueError(f"unknown position signal {pos!r} (use {', '.join(POSITIONS)})")
        if norm not in NORMS:
            raise ValueError(f"unknown norm placement {norm!r} (use {', '.join(NORMS)})")
        if d_model % n_head:
            raise ValueError(f"d_model {d_model} is not a multiple of n_head {n_head}")
        self.pos, self.max_len = pos, max_len
        self.tok = nn.Embedding(vocab, d_model)
        self.wpe = nn.Embedding(max_len, d_model) if pos == "learned" else None
        self.register_buffer("table", sinusoids(max_len, d_model), persistent=False)
        self.blocks = nn.ModuleList(Block(d_model, n_head, causal, scale, pos == "rope", norm)
                                    for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model) if norm == "pre" else nn.Identity()
        self.head = nn.Linear(d_model, vocab)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, m.in_features ** -0.5)
                nn.init.zeros_(m.bias)

    @property
    def attentions(self) -> list[Attention]:
        return [b.attn for b in self.blocks]

    def forward(self, idx: torch.Tensor, caches: list[KVCache] | None = None, start: int = 0):
        T = idx.shape[1]
        if start + T > self.max_len:
            raise ValueError(f"sequence of {start + T} tokens is longer than max_len "
                             f"{self.max_len}")
        x = self.tok(idx)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(start, start + T, device=idx.device))
        elif self.pos == "sinusoidal":
            x = x + self.table[start:start + T]
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i], start)
        return self.head(self.ln_f(x))

    def new_caches(self, batch: int, max_len: int) -> list[KVCache]:
        a = self.attentions[0]
        device, dtype = self.head.weight.device, self.head.weight.dtype
        return [KVCache(batch, a.n_head, max_len, a.head_dim, device, dtype)
                for _ in self.blocks]


# --- measurements -------------------------------------------------------------------------


def entropy_per_head(net: GPT) -> list[list[float]]:
    """Mean entropy (nats) of each head's attention distribution in the last forward pass,
    per layer; rows that see one key only (entropy 0 by force) are left out."""
    out = []
    for attn in net.attentions:
        p = attn.probs
        assert p is not None, "run a forward pass first"
        h = -(p * p.clamp_min(1e-30).log()).sum(-1)  # (batch, head, query)
        if attn.causal and h.shape[2] > 1:
            h = h[:, :, 1:]  # the first query sees one key only
        out.append(h.mean(dim=(0, 2)).tolist())
    return out


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def scored_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Share of scored positions (target != IGNORE) whose arg-max is the target."""
    scored = targets != IGNORE
    return (logits.argmax(-1)[scored] == targets[scored]).float().mean().item()


def lm_steps(net: nn.Module, trainer: torch.optim.Optimizer, X: torch.Tensor, Y: torch.Tensor,
             num_steps: int, batch: int, seed: int):
    """Train on random batches of (X, Y) drawn from ``seed``; after each step yield
    ``(step, loss, logits, targets)`` of its batch (an accuracy from them costs no forward)."""
    g = torch.Generator().manual_seed(seed)
    for step in range(1, num_steps + 1):
        idx = torch.randint(0, len(X), (batch,), generator=g).to(X.device)
        logits = net(X[idx])
        loss = lm_loss(logits, Y[idx])
        trainer.zero_grad()
        loss.backward()
        trainer.step()
        yield step, loss.item(), logits.detach(), Y[idx]


@torch.no_grad()
def generate(net: GPT, prompt: torch.Tensor, new_tokens: int, cache: bool = False):
    """Greedy continuation of ``prompt`` (batch, P) by ``new_tokens`` tokens: without a cache
    every step runs the whole sequence again; with one, the prompt once, then one token."""
    idx = prompt
    caches = net.new_caches(prompt.shape[0], prompt.shape[1] + new_tokens) if cache else None
    start = 0
    for _ in range(new_tokens):
        fed = idx[:, start:] if cache else idx
        logits = net(fed, caches, start if cache else 0)
        if cache:
            start = idx.shape[1]
        idx = torch.cat([idx, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return idx[:, prompt.shape[1]:]


# --- synthetic tasks, from a seed ----------------------------------------------------------

SEQUENCE_TASKS = ("copy", "reverse", "sort", "recall", "modadd")
LABEL_TASKS = ("shift", "reverse", "sort", "count")


def sequence_task(name: str, n: int, length: int, vocab: int, seed: int = 0):
    """A prompt and its answer in one token stream, for next-token prediction.

    Returns ``(tokens, targets, start)``: tokens (n, T) ; targets[t] is tokens[t + 1] where
    that next token is part of the answer, else IGNORE; the answer begins at ``start``.
    Token ``vocab`` is the separator, so a model needs ``vocab + 1`` embeddings.
    copy / reverse / sort: ``length`` random tokens, the separator, then them copied,
    reversed or sorted. recall: ``length`` key-value pairs (keys distinct), the separator, a
    key, then its value. modadd: a, b, the separator, (a + b) mod vocab.
    """
    g = torch.Generator().manual_seed(seed)
    sep = torch.full((n, 1), vocab)
    if name in ("copy", "reverse", "sort"):
        a = torch.randint(0, vocab, (n, length), generator=g)
        b = a if name == "copy" else a.flip(1) if name == "reverse" else a.sort(1).values
    elif name == "recall":
        if length > vocab:
            raise ValueError("recall needs distinct keys: length <= vocab")
        keys = torch.rand(n, vocab, generator=g).argsort(1)[:, :length]
        values = torch.randint(0, vocab, (n, length), generator=g)
        which = torch.randint(0, length, (n, 1), generator=g)
        a = torch.stack([keys, values], dim=2).flatten(1)
        a = torch.cat([a, sep, keys.gather(1, which)], dim=1)
        b = values.gather(1, which)
    elif name == "modadd":
        a = torch.randint(0, vocab, (n, 2), generator=g)
        b = a.sum(1, keepdim=True) % vocab
    else:
        raise ValueError(f"unknown task {name!r} (use {', '.join(SEQUENCE_TASKS)})")
    if name == "recall":
        tokens = torch.cat([a, b], dim=1)
    else:
        tokens = torch.cat([a, sep, b], dim=1)
    start = tokens.shape[1] - b.shape[1]
    targets = torch.full_like(tokens, IGNORE)
    targets[:, start - 1:-1] = tokens[:, start:]
    return tokens, targets, start


def label_task(name: str, n: int, length: int, vocab: int, seed: int = 0):
    """One label per position, for a model that reads the whole sequence: shift (the token
    one position earlier; the first position is not scored), reverse (the token at the
    mirrored position), sort (the i-th smallest token) or count (how often the position's own
    token occurs in the sequence, minus one). Shift, reverse and sort depend on order; count
    does not: permuting the input permutes its labels the same way."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(0, vocab, (n, length), generator=g)
    if name == "shift":
        Y = torch.cat([torch.full((n, 1), IGNORE), X[:, :-1]], dim=1)
    elif name == "reverse":
        Y = X.flip(1)
    elif name == "sort":
        Y = X.sort(1).values
    elif name == "count":
        Y = (X[:, :, None] == X[:, None, :]).sum(-1) - 1
    else:
        raise ValueError(f"unknown task {name!r} (use {', '.join(LABEL_TASKS)})")
    return X, Y
