"""Dying ReLU: a too-large learning rate pushes ReLU units into a region where they never fire.

A ReLU unit whose pre-activation is negative for every input outputs 0 and passes back a
gradient of exactly 0, so no later step can revive it: it is dead. A big update (here Adam
at lr 0.1, 100x its usual rate) knocks many units there at once. Leaky ReLU keeps a slope
of 0.01 on the negative side: the same units still respond to their input and still get a
gradient, so they stay alive and can come back.

"Dead" is measured the same way for both: the unit's output is identical for every example
of a held-out batch (for ReLU, that output is 0).
"""

from __future__ import annotations

import torch
from _kit import Log, accuracy, is_log_step, linears, mlp, spirals
from torch import nn

META = {
    "name": "dying-relu",
    "claim": "With a too-large learning rate most ReLU units die (output 0 for every input), "
             "while Leaky ReLU under the same settings keeps its units alive.",
    "claim_ko": "학습률이 너무 크면 ReLU 유닛 대부분이 죽지만(모든 입력에 출력 0), "
                "같은 설정의 Leaky ReLU는 유닛이 살아 있다.",
    "cpu_seconds": 2,
    "metric": "dead",
    "steps": 300,
    "params": {
        "lr": {"default": 0.1, "help": "Adam learning rate (1e-3 is the usual one)",
               "min": 0, "max": 10},
        "bias": {"default": 0.0, "help": "initial bias of the hidden layers (negative kills)",
                 "min": -10, "max": 10},
        "depth": {"default": 4, "help": "hidden layers", "min": 1, "max": 20},
        "num_hiddens": {"default": 64, "help": "units per hidden layer", "min": 2, "max": 512},
    },
}


def dead_fraction(net: nn.Sequential, X: torch.Tensor) -> tuple[float, float]:
    """(dead, negative): units whose output is the same for every row of X, and units whose
    pre-activation is <= 0 for every row, as fractions of all hidden units."""
    dead = negative = units = 0
    h = X
    with torch.no_grad():
        for module in net[:-1]:
            z = h
            h = module(h)
            if not isinstance(module, nn.Linear):
                dead += (h.max(dim=0).values == h.min(dim=0).values).sum().item()
                negative += (z <= 0).all(dim=0).sum().item()
                units += h.shape[1]
    return dead / units, negative / units


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=1024, seed=seed)
    X_train, y_train = X[:512].to(device), y[:512].to(device)
    X_val, y_val = X[512:].to(device), y[512:].to(device)  # held-out batch for "dead"
    loss_fn = nn.CrossEntropyLoss()
    numbers: dict = {"lr": p["lr"], "bias": p["bias"], "units": p["depth"] * p["num_hiddens"]}
    for part, activation in enumerate(["relu", "leaky_relu"]):
        torch.manual_seed(seed)  # same initial weights for both activations
        net = mlp(2, p["num_hiddens"], 2, p["depth"], activation).to(device)
        for layer in linears(net)[:-1]:
            nn.init.constant_(layer.bias, p["bias"])
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        at_init, _ = dead_fraction(net, X_val)
        peak = at_init
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X_train), y_train)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if is_log_step(step, num_steps, points=20):  # measuring costs a forward pass
                dead, negative = dead_fraction(net, X_val)
                peak = max(peak, dead)
                yield Log(activation, step, num_steps,
                          {"dead": dead, "loss": loss.item(), "negative": negative},
                          part, 2)
        dead, negative = dead_fraction(net, X_val)
        with torch.no_grad():
            val_acc = accuracy(net(X_val), y_val)
        numbers[activation] = {"dead_at_init": at_init, "dead": dead, "peak_dead": peak,
                               "negative_side": negative, "val_accuracy": val_acc}
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    r, k = n["relu"], n["leaky_relu"]
    alive = round(n["units"] * (1 - r["dead"]))
    gap = k["val_accuracy"] - r["val_accuracy"]  # what the dead units cost, if anything
    if lang == "ko":
        if gap > 0.02:
            cost = f"잃어버린 용량이 드러나, ReLU의 검증 정확도가 {gap:.0%}p 낮습니다."
        else:
            cost = (f"죽은 유닛은 잃어버린 용량이지만, 이 작은 문제는 남은 {alive}개로도 "
                    f"풀 수 있어 정확도에서는 손해가 보이지 않습니다.")
        return (f"학습률 {n['lr']:g}로 학습한 뒤 ReLU 은닉 유닛의 {r['dead']:.0%}가 죽었고"
                f"(초기 {r['dead_at_init']:.0%}), Leaky ReLU에서 죽은 유닛은 "
                f"{k['dead']:.0%}입니다. ReLU 쪽은 {n['units']}개 중 {alive}개만 살아 있습니다. "
                f"Leaky ReLU 유닛의 {k['negative_side']:.0%}는 음수 영역에 있지만 기울기 0.01로 "
                f"여전히 신호와 기울기를 전달합니다. 검증 정확도: ReLU {r['val_accuracy']:.0%}, "
                f"Leaky ReLU {k['val_accuracy']:.0%}. {cost}")
    if gap > 0.02:
        cost = f"The lost capacity shows: ReLU's held-out accuracy is {gap:.0%} lower."
    else:
        cost = (f"Dead units are lost capacity, but this small task can be solved with the "
                f"{alive} left, so accuracy shows no loss here.")
    return (f"After training at lr {n['lr']:g}, {r['dead']:.0%} of the ReLU hidden units are dead "
            f"(output 0 for every held-out input; {r['dead_at_init']:.0%} at init), leaving "
            f"{alive} of {n['units']} alive, against {k['dead']:.0%} dead for Leaky ReLU. "
            f"{k['negative_side']:.0%} of the Leaky units sit on the negative side yet still pass "
            f"signal and gradient through their 0.01 slope. Held-out accuracy: ReLU "
            f"{r['val_accuracy']:.0%}, Leaky ReLU {k['val_accuracy']:.0%}. {cost}")
