"""Inference memory of a transformer: weights, the KV cache and a no-grad forward.

KV cache = 2 (K and V) x layers x kv_heads x head_dim x seq x batch x bytes: exact
arithmetic; an encoder (no causal mask) reads its whole input in one pass and keeps
none. Math attention's causal masks (one bool T x T buffer per layer, as in training)
live beside the weights. The forward's transient tensors come from the training replay run without
autograd (nothing saved, no loss), over the whole prompt at once (a prefill that
scores every position); on CPU it equals a real no-grad forward of the rig's model to
the byte (tests/memcalc/test_inference_exact.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlprep.memcalc.config import Config, ConfigError
from dlprep.memcalc.shape import GPT
from dlprep.memcalc.timeline import Timeline


@dataclass
class Inference:
    weights: int
    kv_cache: int  # 0 for an encoder
    activations: int  # the prefill's transient peak on top of weights and the cache
    peak: int
    element: int  # bytes per weight, cache and activation element
    workspace: int = 0  # CUDA rules: the cuBLAS workspace the first matmul keeps
    buffers: int = 0  # math attention's causal masks, as the training buffers row


def kv_cache_bytes(g: GPT, seq: int, batch: int, element: int) -> int:
    return 2 * g.n_layer * g.kv_heads * g.head_dim * seq * batch * element


def inference(cfg: Config) -> Inference:
    if cfg.gpt is None:
        raise ConfigError("--inference sizes a transformer's KV cache: give --model or "
                          "--arch gpt")
    if cfg.amp or cfg.master:
        raise ConfigError("--inference runs the model in one dtype: choose --dtype fp32, "
                          "fp16 or bf16")
    from dlprep.memcalc.estimate import CUBLAS_WORKSPACE, CUDA_ROUNDING
    from dlprep.memcalc.models import gpt

    e = 4 if cfg.dtype == "fp32" else 2
    cuda = cfg.device == "cuda"
    # CUDA rules as in training: every tensor rounded up to 512 B, and the workspace.
    t = Timeline(0, CUDA_ROUNDING if cuda else 1)
    weights = sum(t.size(n * e) for n in cfg.param_shapes)
    g = cfg.gpt
    cache = kv_cache_bytes(g, cfg.seq, cfg.batch, e) if g.causal else 0
    if cuda and cache:  # one K and one V tensor per layer
        cache = 2 * g.n_layer * t.size(cache // (2 * g.n_layer))
    buffers, _ = gpt.static(cfg, t)
    t.no_grad = True
    gpt.forward(t, cfg)
    workspace = CUBLAS_WORKSPACE if cuda else 0
    return Inference(weights, cache, t.peak.bytes,
                     weights + buffers + cache + t.peak.bytes + workspace, e, workspace,
                     buffers)
