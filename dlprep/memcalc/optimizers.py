"""The one table of optimisers: everything memcalc knows about each, in one place.

Config validation, the state and step replay (``optim.py``), the printed formula
(``report.py``) and the measured rig (``rig.py``) all read this table; adding an
optimiser means adding one entry here (and a grid row proving it exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Optimizer:
    """How one torch 2.13 optimiser keeps state and what its step allocates."""

    name: str
    torch_class: str  # attribute of ``torch.optim``
    kwargs: dict[str, float] = field(default_factory=dict)  # besides weight_decay, foreach
    state: tuple[str, ...] = ()  # one parameter-sized tensor per name
    step_counter: bool = False  # a float32 ``step`` tensor per parameter (CPU)
    # Foreach kernels: a scalar constant tensor, then a ``sqrt`` list as large as the
    # weights; adagrad adds a ``grad * -lr`` list (made in place when decaying).
    foreach_sqrt: bool = False
    foreach_neg_lr_list: bool = False
    # Weight decay: ``decoupled`` decays the weights in place (AdamW); otherwise a
    # ``grad + wd * p`` list, which Adam lets go of before its sqrt list.
    decoupled: bool = False
    drops_decayed_early: bool = False
    # Per-tensor loops: "sqrt+den" (sqrt, then denominator, sqrt freed), "one" (one
    # tensor per parameter), or "" (nothing beyond decay).
    per_tensor: str = ""
    # bitsandbytes (CUDA kernels, not in torch): state in fp32, or ``state_bits`` 8 with
    # blockwise statistics; ``paged``: state in CUDA unified memory (see BNB below).
    library: str = "torch"
    state_bits: int = 32
    paged: bool = False
    # Adafactor: a matrix keeps a row and a column mean of the squared gradient (the
    # factored second moment), a vector its full second moment; no first moment.
    factored: bool = False
    note: str = ""  # said under the table whenever this optimiser is chosen

# bitsandbytes 0.4x (optim/optimizer.py, Optimizer2State.init_state, get_state_buffer).
BNB_BLOCK = 256  # elements per quantisation block (block_wise=True, the default)
BNB_MIN_8BIT = 4096  # min_8bit_size: smaller tensors keep fp32 state
BNB_QMAPS = 2 * 256 * 4  # the "dynamic" and "udynamic" maps, fp32, one copy per device
BNB_PAGED_MIN = 100_000  # get_state_buffer pages tensors this large or larger


OPTIMIZERS: dict[str, Optimizer] = {o.name: o for o in (
    Optimizer("sgd", "SGD", {"lr": 0.01}),
    Optimizer("momentum", "SGD", {"lr": 0.01, "momentum": 0.9}, state=("momentum_buffer",)),
    Optimizer("adam", "Adam", {"lr": 1e-3}, state=("exp_avg", "exp_avg_sq"),
              step_counter=True, foreach_sqrt=True, drops_decayed_early=True,
              per_tensor="sqrt+den"),
    Optimizer("adamw", "AdamW", {"lr": 1e-3}, state=("exp_avg", "exp_avg_sq"),
              step_counter=True, foreach_sqrt=True, decoupled=True, per_tensor="sqrt+den"),
    Optimizer("rmsprop", "RMSprop", {"lr": 1e-3}, state=("square_avg",), step_counter=True,
              foreach_sqrt=True, per_tensor="one"),
    Optimizer("adagrad", "Adagrad", {"lr": 1e-2}, state=("sum",), step_counter=True,
              foreach_sqrt=True, foreach_neg_lr_list=True, per_tensor="one"),
    Optimizer("adafactor", "Adafactor", {"lr": 1e-2}, state=("row_var", "col_var"),
              step_counter=True, decoupled=True, factored=True,
              note="Adafactor (Shazeer and Stern, ICML 2018; torch.optim.Adafactor) keeps "
              "no first moment and, for each matrix, only a row and a column mean of the "
              "squared gradient (rows + columns elements); a vector (bias, norm) keeps its "
              "full second moment"),
    Optimizer("adamw8bit", "AdamW8bit", {"lr": 1e-3}, state=("state1", "state2"),
              library="bitsandbytes", state_bits=8,
              note=f"AdamW8bit (bitsandbytes; Dettmers et al., ICLR 2022) keeps both moments "
              f"in 8 bits, quantised blockwise: blocks of {BNB_BLOCK} elements, one fp32 "
              "absmax per block and moment, and two 256-entry fp32 quantile maps shared by "
              f"every tensor; a tensor under {BNB_MIN_8BIT:,} elements keeps fp32 moments; "
              "the step is a fused CUDA kernel that updates in place (no temporaries)"),
    Optimizer("paged_adamw", "PagedAdamW", {"lr": 1e-3}, state=("state1", "state2"),
              library="bitsandbytes", paged=True,
              note="PagedAdamW (bitsandbytes; QLoRA's paged_adamw_32bit) keeps fp32 moments; "
              f"each tensor of {BNB_PAGED_MIN:,} elements or more lives in CUDA unified "
              "memory, which the driver pages out to CPU RAM when the GPU runs short (a spike of "
              "activations then costs transfer time, not an out-of-memory error): counted "
              "here as GPU memory, where it stays when it fits"),
    Optimizer("paged_adamw8bit", "PagedAdamW8bit", {"lr": 1e-3}, state=("state1", "state2"),
              library="bitsandbytes", state_bits=8, paged=True,
              note="PagedAdamW8bit (bitsandbytes): AdamW8bit's blockwise 8-bit moments (blocks "
              f"of {BNB_BLOCK}, fp32 absmax per block), tensors of {BNB_PAGED_MIN:,} elements or "
              "more in CUDA "
              "unified memory that pages to CPU RAM under pressure (counted here as GPU "
              "memory)"),
)}


def state_formula(opt: Optimizer, pb: int, per_tensor_step: bool, names: bool = True) -> str:
    """``2 x N x 4 B (exp_avg, exp_avg_sq) + 4 B step per tensor``, for the table
    (``names=False``: the short form without the state's torch names)."""
    if not opt.state:
        return "none (plain SGD keeps no state)"
    step = " + 4 B step per tensor" if opt.step_counter and per_tensor_step else ""
    if opt.state_bits == 8:
        return (f"2 x N x 1 B + fp32 absmax per {BNB_BLOCK}" if not names else
                f"2 x N x 1 B + 2 x 4 B per {BNB_BLOCK}-block (fp32 under {BNB_MIN_8BIT})")
    if opt.factored:
        return (f"(rows + cols) x {pb} B per matrix" if not names else
                f"(rows + cols) x {pb} B per matrix, N x {pb} B per vector{step}")
    if opt.library != "torch":
        pb = 4  # bitsandbytes' 32-bit state is fp32 whatever the weights are
    count = f"{len(opt.state)} x " if len(opt.state) > 1 else ""
    named = f" ({', '.join(opt.state)})" if names else ""
    return f"{count}N x {pb} B{named}{step}"

