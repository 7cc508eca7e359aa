"""Activation functions: their curves, their derivatives, and a training race between them.

The derivative is what backpropagation multiplies by at every layer. Sigmoid's is at most
0.25 and tanh's at most 1, and both fall towards 0 once |x| is a few units (saturation).
ReLU passes a derivative of exactly 1 for positive inputs and 0 for negative ones; Leaky
ReLU, ELU, GELU and SiLU (Swish) keep a little gradient on the negative side too. The
derivatives here come from autograd on a grid, and the race trains the same MLP, from the
same initial weights, once per activation.
"""

from __future__ import annotations

import torch
from _kit import ACTIVATIONS, Log, accuracy, is_log_step, mlp, spirals
from torch import nn

META = {
    "name": "activations",
    "claim": "Sigmoid's derivative never exceeds 0.25 and vanishes for large |x|, while ReLU-like "
             "activations pass gradients of about 1; in a race on the same MLP sigmoid learns "
             "slowest.",
    "claim_ko": "시그모이드의 도함수는 최대 0.25이고 |x|가 크면 사라지지만, ReLU 계열은 약 1의 "
                "기울기를 전달한다. 같은 MLP로 경주하면 시그모이드가 가장 느리게 배운다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 150,
    "params": {
        "depth": {"default": 4, "help": "hidden layers of the race MLP", "min": 1, "max": 20},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
        "lr": {"default": 0.01, "help": "Adam learning rate", "min": 0, "max": 1},
        "target": {"default": 0.3, "help": "loss that counts as reached in the race",
                   "min": 0, "max": 10},
    },
}

NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"]


def curves(name: str, x: torch.Tensor) -> tuple[list[float], list[float]]:
    """f(x) and f'(x) on the grid x; the derivative comes from autograd, not a formula."""
    x = x.clone().requires_grad_(True)
    y = ACTIVATIONS[name]()(x)
    (dy,) = torch.autograd.grad(y.sum(), x)
    return y.detach().tolist(), dy.tolist()


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    grid = torch.linspace(-5, 5, 101)
    numbers: dict = {"grid": grid[::5].tolist(), "depth": p["depth"], "target": p["target"]}
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
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        reached = None
        for step in range(1, num_steps + 1):
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
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
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    s = n["sigmoid"]
    slopes = ", ".join(f"{a} {n[a]['max_derivative']:.2f}" for a in NAMES)
    first, last = n["ranking"][0], n["ranking"][-1]

    def where(a: str) -> str:
        got = n[a]["steps_to_target"]
        if lang == "ko":
            return f"{got}스텝에 도달" if got else "미도달"
        return f"reached at step {got}" if got else "not reached"

    if lang == "ko":
        return (f"최대 도함수: {slopes}. 시그모이드의 도함수는 x=4에서 {s['derivative_at_4']:.3f}"
                f"로 포화됩니다. 경주({n['depth']}개 은닉층, 목표 손실 {n['target']:g}): 1위 "
                f"{first} 손실 {n[first]['final_loss']:.3f}({where(first)}), 꼴찌 {last} 손실 "
                f"{n[last]['final_loss']:.3f}({where(last)}); 시그모이드는 "
                f"{n['ranking'].index('sigmoid') + 1}위.")
    return (f"Largest derivative: {slopes}. Sigmoid's derivative is {s['derivative_at_4']:.3f} at "
            f"x=4 (saturated). Race with {n['depth']} hidden layers to loss {n['target']:g}: "
            f"{first} won with loss {n[first]['final_loss']:.3f} ({where(first)}), {last} came "
            f"last with {n[last]['final_loss']:.3f} ({where(last)}); sigmoid placed "
            f"{n['ranking'].index('sigmoid') + 1} of {len(NAMES)}.")
