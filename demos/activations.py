"""Activation functions: their curves, their derivatives, and a training race between them.

The derivative is what backpropagation multiplies by at every layer. Sigmoid's is at most
0.25 and tanh's at most 1, and both fall towards 0 once |x| is a few units (saturation).
ReLU passes a derivative of exactly 1 for positive inputs and 0 for negative ones; Leaky
ReLU, ELU, GELU and SiLU (Swish) keep a little gradient on the negative side too. The
derivatives here come from autograd on a grid, and the race trains the same MLP, from the
same initial weights, once per activation. Backpropagation multiplies one derivative per
layer, so sigmoid's handicap grows with depth; the control is a single hidden layer,
where sigmoid ends close to the others.

The optimizer matters. Adam (the default) divides each weight's step by the running size of
its own gradient, so a gradient shrunk by sigmoid's 0.25 per layer still makes a full-sized
step: what the Adam race shows is sigmoid's saturation and slower progress, not the 0.25
bound acting on the step itself, and with many more steps sigmoid catches up. `--set
optimizer=sgd` races with plain SGD (momentum 0.9), whose step is proportional to the
gradient; it needs a larger lr (e.g. 0.1). The verdict names the optimizer it ran.
"""

from __future__ import annotations

import torch
from _kit import ACTIVATIONS, Log, accuracy, is_log_step, mlp, spirals
from torch import nn

META = {
    "name": "activations",
    "claim": "Sigmoid's derivative never exceeds 0.25 and vanishes for large |x|, while ReLU-like "
             "activations pass gradients of about 1; in a race on the same deep MLP sigmoid "
             "falls far behind.",
    "claim_ko": "시그모이드의 도함수는 최대 0.25이고 |x|가 크면 사라지지만, ReLU 계열은 약 1의 "
                "기울기를 전달한다. 같은 깊은 MLP로 경주하면 시그모이드가 크게 뒤처진다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 150,
    "control": {"depth": 1},
    "params": {
        "depth": {"default": 4, "help": "hidden layers of the race MLP", "min": 1, "max": 20},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
        "lr": {"default": 0.01, "help": "learning rate (Adam's usual is 1e-3; SGD needs "
               "about 0.1 here)", "min": 0, "max": 1},
        "optimizer": {"default": "adam", "choices": ["adam", "sgd"],
                      "help": "adam rescales each step by the gradient's own size; sgd "
                      "(momentum 0.9) steps in proportion to the gradient"},
        "target": {"default": 0.3, "help": "loss that counts as reached in the race",
                   "min": 0, "max": 10},
    },
}

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"]
BEHIND = 2.0  # sigmoid's final loss over the others' median that counts as "far behind"


def curves(name: str, x: torch.Tensor) -> tuple[list[float], list[float]]:
    """f(x) and f'(x) on the grid x; the derivative comes from autograd, not a formula."""
    x = x.clone().requires_grad_(True)
    y = ACTIVATIONS[name]()(x)
    (dy,) = torch.autograd.grad(y.sum(), x)
    return y.detach().tolist(), dy.tolist()


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    grid = torch.linspace(-5, 5, 101)
    numbers: dict = {"grid": grid[::5].tolist(), "depth": p["depth"], "target": p["target"],
                     "optimizer": p["optimizer"], "lr": p["lr"], "steps": num_steps}
    for name in NAMES:
        values, slopes = curves(name, grid)
        numbers[name] = {
            "values": values[::5], "derivatives": slopes[::5],
            "max_derivative": max(slopes),
            "derivative_at_-4": slopes[10], "derivative_at_4": slopes[90],
        }
    X, y = spirals(n=512, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    for part, name in enumerate(NAMES):
        torch.manual_seed(seed)  # the same initial weights for every contestant
        net = mlp(2, p["num_hiddens"], 2, p["depth"], name).to(device)
        trainer = (torch.optim.Adam(net.parameters(), lr=p["lr"]) if p["optimizer"] == "adam"
                   else torch.optim.SGD(net.parameters(), lr=p["lr"], momentum=0.9))
        reached = None
        for step in range(1, num_steps + 1):
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
            if step == 1:
                numbers[name]["initial_loss"] = loss.item()
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if reached is None and loss.item() <= p["target"]:
                reached = step
            if is_log_step(step, num_steps):
                yield Log(name, step, num_steps, {"loss": loss.item(),
                                                  "acc": accuracy(y_hat, y)}, part, len(NAMES))
        with torch.no_grad():
            y_hat = net(X)
        numbers[name].update(final_loss=loss_fn(y_hat, y).item(),
                             accuracy=accuracy(y_hat, y), steps_to_target=reached)
    numbers["ranking"] = sorted(NAMES, key=lambda a: numbers[a]["final_loss"])
    others = sorted(numbers[a]["final_loss"] for a in NAMES if a != "sigmoid")
    numbers["behind"] = numbers["sigmoid"]["final_loss"] / others[len(others) // 2]
    numbers["effect"] = numbers["ranking"][-1] == "sigmoid" and numbers["behind"] >= BEHIND
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    s, ko = n["sigmoid"], lang == "ko"
    slopes = ", ".join(f"{a} {n[a]['max_derivative']:.2f}" for a in NAMES)
    head = (f"최대 도함수: {slopes}. 시그모이드의 도함수는 x=4에서 {s['derivative_at_4']:.3f}로 "
            f"포화됩니다. " if ko else f"Largest derivative: {slopes}. Sigmoid's derivative is "
            f"{s['derivative_at_4']:.3f} at x=4 (saturated). ")
    if all(n[a]["final_loss"] >= n[a]["initial_loss"] - 0.01 for a in NAMES):
        return head + ("경주에서는 어떤 활성화 함수도 손실을 낮추지 못해(학습 안 됨) 순위가 "
                       "없습니다." if ko else "In the race no activation lowered its loss "
                       "(nothing trained), so there is no ranking.")
    low, last = n[n["ranking"][0]]["final_loss"], n["ranking"][-1]
    first = " = ".join(a for a in n["ranking"] if n[a]["final_loss"] <= 1.01 * low)  # ties

    def where(a: str) -> str:
        got = n[a]["steps_to_target"]
        if ko:
            return f"{got}스텝에 도달" if got else "미도달"
        return f"reached at step {got}" if got else "not reached"

    place = n["ranking"].index("sigmoid") + 1
    adam = n["optimizer"] == "adam"
    how = ((f" Adam(학습률 {n['lr']:g})은 가중치마다 스텝을 그 기울기 크기로 나누므로, 층마다 "
            f"0.25배 이하로 줄어든 기울기로도 제 크기만큼 움직입니다. 여기서 보이는 것은 "
            f"포화로 인한 느린 진행이며, 스텝이 기울기에 비례하는 경주는 --set optimizer=sgd입니다."
            if adam else f" SGD(모멘텀 0.9, 학습률 {n['lr']:g})의 스텝은 기울기에 비례하므로, "
            f"층마다 0.25배 이하로 줄어드는 시그모이드의 기울기가 그대로 스텝을 줄입니다.")
           if ko else
           (f" The race used Adam (lr {n['lr']:g}), which divides each weight's step by its "
            f"gradient's own size, so gradients shrunk by up to 0.25x per layer still make "
            f"full-sized steps: what shows here is saturation slowing progress; --set "
            f"optimizer=sgd races with steps proportional to the gradient." if adam else
            f" The race used SGD (momentum 0.9, lr {n['lr']:g}), whose step is proportional "
            f"to the gradient, so sigmoid's gradients, shrunk by at most 0.25 per layer, "
            f"shrink its steps too."))
    if ko:
        gap = (f"다른 함수들의 중앙값의 {n['behind']:.1f}배로, 은닉층 {n['depth']}개에서 크게 "
               f"뒤처졌습니다" if n["effect"] else f"손실이 다른 함수들의 중앙값의 "
               f"{n['behind']:.1f}배뿐이라, 이번 실행에서는 시그모이드의 큰 불리함이 없습니다")
        return head + (f"경주(은닉층 {n['depth']}개, 목표 손실 {n['target']:g}): 우승 {first} "
                       f"손실 {low:.3f}({where(n['ranking'][0])}), 꼴찌 {last} 손실 "
                       f"{n[last]['final_loss']:.3f}({where(last)}). 시그모이드는 "
                       f"{len(NAMES)}개 중 {place}위이고 {gap}." + how)
    gap = (f"its loss is {n['behind']:.1f}x the others' median: far behind at this depth"
           if n["effect"] else f"its loss is only "
           f"{n['behind']:.1f}x the others' median: no large sigmoid handicap in this run")
    layers = "hidden layer" if n["depth"] == 1 else "hidden layers"
    return head + (f"Race with {n['depth']} {layers} to loss {n['target']:g}: {first} won "
                   f"with loss {low:.3f} ({where(n['ranking'][0])}), {last} came last with "
                   f"{n[last]['final_loss']:.3f} ({where(last)}); sigmoid placed {place} of "
                   f"{len(NAMES)} and {gap}." + how)
