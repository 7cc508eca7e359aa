"""The LoRA backward, replayed tensor by tensor (forward in ``gpt_lora.py``).

Gradients flow only where a tensor requires grad: through a frozen Linear to its input
(never to its weight), and stop at block 1's input (the frozen embedding's output).
A residual ``x + f(x)`` sends its gradient down both branches only if both require it.
The walk mirrors ``gpt_grad``'s but through LoRA's ``linear_bwd`` (only adapters get
``.grad``); the loss, norms, softmax, residual branch and head sums are GPT's own.
"""

from __future__ import annotations

from dlprep.memcalc.config import Config
from dlprep.memcalc.models.gpt_grad import attention_side, branch, mlp_bwd
from dlprep.memcalc.models.gpt_lora import recompute
from dlprep.memcalc.models.gpt_lora_ops import LoraSizes, linear_bwd, scale_grad
from dlprep.memcalc.models.gpt_ops import Graph, Lin, loss_bwd, norm_bwd
from dlprep.memcalc.timeline import Timeline


def backward(t: Timeline, cfg: Config, gr: Graph) -> list[str]:
    z = LoraSizes(cfg)
    g = z.g
    t.start("backward")
    grads: list[str] = []
    root, grad = loss_bwd(t, z, cfg, gr)
    head = gr.keys["head"]
    new = t.alloc(z.bt * g.d_model * z.e, "output head input grad")  # no weight grad
    t.drop(grad)
    if head.w is not None:
        t.release(head.w)
    if head.cast:
        n32 = t.alloc(z.N32, "output head input grad to float32")
        t.drop(new)
        new = n32
    grad = new
    if g.final_norm:
        grad = norm_bwd(t, z, grad, gr.keys["final"], "final norm", None)
    out: str | None = grad
    for i in range(g.n_layer - 1, -1, -1):
        assert out is not None
        out = _block_bwd(t, z, cfg, gr, out, i, grads)
    assert out is None  # the token embedding's output requires no grad
    t.drop(root)
    return grads


def _block_bwd(t: Timeline, z: LoraSizes, cfg: Config, gr: Graph, grad: str, i: int,
               grads: list[str]) -> str | None:
    """The gradient for the block's input, or None where it requires none."""
    L, n = gr.layers[i], f"block {i + 1}"
    x_rg, r_rg = L.in_rg, L.r_rg
    frame = L.inp if cfg.checkpointing else None
    gb = branch(t, z, grad, n, both=r_rg)
    m = None
    if cfg.checkpointing:
        if L.down.adapted:
            m = scale_grad(t, z, gb, L.down, f"{n} down")
        before = t.saved_total
        recompute(t, z, L, i)
        gr.recomputed[i] = t.saved_total - before

    def adapted(raw: str, rec: Lin, name: str, acc: str | None) -> str | None:
        # ``m``: the down adapter's scale ran before the recompute
        return linear_bwd(t, z, raw, rec, name, grads, acc=acc,
                          m=m if rec is L.down else None)

    gh = mlp_bwd(t, z, gb, L, n, adapted)
    if not r_rg:  # only the MLP required grad: nothing before it does
        assert gh is None
        _end(t, frame)
        return None
    assert gh is not None
    grad = norm_bwd(t, z, gh, L.norm2, f"{n} norm 2", None, acc=grad)
    acc = attention_side(t, z, branch(t, z, grad, n, both=x_rg), L, n, adapted)
    if not x_rg:
        _end(t, frame)
        return None
    assert acc is not None
    return norm_bwd(t, z, acc, L.norm1, f"{n} norm 1", None, acc=grad, frame=frame)


def _end(t: Timeline, frame: str | None) -> None:
    """Checkpoint lets go of a block's kept input once the block's last node has run."""
    if frame is not None:
        t.release(frame)
