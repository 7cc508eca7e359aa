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
)}


def state_formula(opt: Optimizer, pb: int, per_tensor_step: bool, names: bool = True) -> str:
    """``2 x N x 4 B (exp_avg, exp_avg_sq) + 4 B step per tensor``, for the table
    (``names=False``: the short form without the state's torch names)."""
    if not opt.state:
        return "none (plain SGD keeps no state)"
    count = f"{len(opt.state)} x " if len(opt.state) > 1 else ""
    step = " + 4 B step per tensor" if opt.step_counter and per_tensor_step else ""
    named = f" ({', '.join(opt.state)})" if names else ""
    return f"{count}N x {pb} B{named}{step}"


def state_bytes_per_param(opt: Optimizer, pb: int) -> int:
    """Bytes of state per parameter element (step counters aside)."""
    return len(opt.state) * pb
