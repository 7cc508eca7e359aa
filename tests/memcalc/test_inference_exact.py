"""--inference's activation and buffer rows equal a real no-grad forward on CPU, to the
byte.

The row replays the training forward without autograd (issue 12, item 3); here the
rig's model runs under ``torch.no_grad()`` while a ``TorchDispatchMode`` tracks every
storage an aten op makes and a ``weakref.finalize`` tells when it dies (as in
``measure.py``). Weights, buffers and the batch are the baseline, not counted.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import pytest

from dlprep.memcalc.config import GPT, Config
from dlprep.memcalc.inference import inference

torch = pytest.importorskip("torch")
from dlprep.memcalc.rig import build  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

SHAPES = [(1, 12, 3, 0, 17, 5), (2, 16, 4, 2, 11, 7), (2, 12, 6, 3, 19, 4)]
BLOCKS = [  # (norm, mlp, tied, bias, max_pos, causal)
    ("layernorm", "gelu", True, True, 9, True),
    ("rmsnorm", "swiglu", False, False, 0, True),
    ("rmsnorm", "gelu", False, True, 8, False),
]


def no_grad_peak(cfg: Config) -> tuple[int, int]:
    """(the forward's transient peak, the bytes of the model's buffers)."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    rig = build(cfg, "cpu")
    baseline = [*rig.net.parameters(), *rig.net.buffers(), rig.X, rig.y]
    live = {id(t.untyped_storage()): 0 for t in baseline}
    state = {"cur": 0, "peak": 0}

    def free(key: int, n: int) -> None:
        live.pop(key, None)
        state["cur"] -= n

    class Tracker(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and id(t.untyped_storage()) not in live:
                    s = t.untyped_storage()
                    live[id(s)] = s.nbytes()
                    state["cur"] += s.nbytes()
                    state["peak"] = max(state["peak"], state["cur"])
                    weakref.finalize(s, free, id(s), s.nbytes())
            return out

    with torch.no_grad(), Tracker():
        logits = rig.net(rig.X)
    assert logits.shape == (cfg.batch * cfg.seq, cfg.gpt.vocab if cfg.gpt else 0)
    return state["peak"], sum(b.untyped_storage().nbytes() for b in rig.net.buffers())


def test_inference_activations_equal_a_no_grad_forward() -> None:
    misses = []
    combos = itertools.product(SHAPES, ("fp32", "bf16", "fp16"), ("math", "sdpa"), BLOCKS)
    for (L, d, H, KV, V, T), dtype, attention, block in combos:
        norm, mlp, tied, bias, pos, causal = block
        g = GPT(n_layer=L, d_model=d, n_head=H, n_kv_head=KV, vocab=V, max_pos=pos,
                norm=norm, mlp=mlp, tied=tied, bias=bias, causal=causal)
        cfg = Config(batch=3, seq=T, gpt=g, dtype=dtype, attention=attention)
        (want, buffers), inf = no_grad_peak(cfg), inference(cfg)
        if (want, buffers) != (inf.activations, inf.buffers):
            misses.append(f"{cfg}: estimated {inf.activations} + buffers {inf.buffers}, "
                          f"measured {want} + buffers {buffers}")
    assert not misses, "\n".join(misses[:5])


def test_moe_and_hf_code_inference_equal_a_no_grad_forward() -> None:
    misses = []
    for n, dtype in enumerate(("fp32", "bf16", "fp16")):
        g = GPT(n_layer=1 + n % 2, d_model=12, n_head=3, vocab=13, d_ff=10, mlp="swiglu",
                norm="rmsnorm", max_pos=8 * (n != 1), n_experts=3 + n % 2, top_k=2)
        cfg = Config(batch=2 + n, seq=5, gpt=g, dtype=dtype, code=("hf", "memcalc")[n % 2],
                     attention=("sdpa", "math")[n % 2])
        (want, buffers), inf = no_grad_peak(cfg), inference(cfg)
        if (want, buffers) != (inf.activations, inf.buffers):
            misses.append(f"{cfg}: estimated {inf.activations} + buffers {inf.buffers}, "
                          f"measured {want} + buffers {buffers}")
    assert not misses, "\n".join(misses)
