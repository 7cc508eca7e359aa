"""Vanishing gradients: a deep sigmoid MLP against the same MLP with ReLU and He init.

The backward pass multiplies, layer after layer, by the activation's derivative times a
weight matrix. The sigmoid's derivative is at most 0.25, so after ten layers the gradient
reaching the first layer is many orders of magnitude smaller than at the last: the first
layers barely move and the network learns slowly or not at all. ReLU's derivative is 1 for
active units and He initialisation keeps the signal's scale, so gradients arrive intact.
Both nets train with Adam, which rescales every parameter's step; even so the sigmoid net
learns far less in the same number of steps.
"""

from __future__ import annotations

import torch
from _kit import Log, accuracy, grad_norms, init_weights, is_log_step, mlp, ratio, spirals
from torch import nn

META = {
    "name": "vanishing-gradient",
    "claim": "In a deep sigmoid MLP the first layer's gradient is orders of magnitude smaller "
             "than the last layer's, so it learns far less than a ReLU MLP with He init.",
    "claim_ko": "깊은 시그모이드 MLP에서는 첫 층의 기울기가 마지막 층보다 몇 자릿수나 작아서, "
                "He 초기화를 쓴 ReLU MLP보다 훨씬 덜 학습된다.",
    "cpu_seconds": 2.5,
    "metric": "loss",
    "steps": 300,
    "params": {
        "depth": {"default": 10, "help": "hidden layers", "min": 2, "max": 40},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 512},
        "lr": {"default": 0.002, "help": "Adam learning rate", "min": 0, "max": 1},
        "activation": {"default": "sigmoid", "choices": ["sigmoid", "tanh"],
                       "help": "saturating activation compared with ReLU+He"},
    },
}


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=512, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    setups = [(p["activation"], p["activation"], "xavier"), ("relu+he", "relu", "he")]
    numbers: dict = {"depth": p["depth"]}
    for part, (name, activation, init) in enumerate(setups):
        torch.manual_seed(seed)  # both nets start from the same random draw
        net = mlp(2, p["num_hiddens"], 2, p["depth"], activation).to(device)
        init_weights(net, init)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        first_norms: list[float] = []
        for step in range(1, num_steps + 1):
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
            trainer.zero_grad()
            loss.backward()
            if step == 1 or is_log_step(step, num_steps):
                norms = grad_norms(net)
                first_norms = first_norms or norms  # gradients of the untrained net
                metrics = {"loss": loss.item(), "acc": accuracy(y_hat, y),
                           "first/last": ratio(norms[0], norms[-1])}
                metrics.update({f"grad_norm/{i + 1}": g for i, g in enumerate(norms)})
                yield Log(name, step, num_steps, metrics, part, len(setups))
            trainer.step()
        with torch.no_grad():
            y_hat = net(X)
        numbers[name] = {
            "grad_norms_at_init": first_norms,
            "first_last_ratio": ratio(first_norms[0], first_norms[-1]),
            "final_loss": loss_fn(y_hat, y).item(),
            "accuracy": accuracy(y_hat, y),
        }
    numbers["saturating"] = p["activation"]
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    act = n["saturating"]
    s, r = n[act], n["relu+he"]
    name = act.capitalize()
    if lang == "ko":
        return (f"{name}: 학습 시작 시 첫 층 기울기 노름이 마지막 층의 "
                f"{s['first_last_ratio']:.1e}배, "
                f"ReLU+He는 {r['first_last_ratio']:.2g}배입니다. {n['depth']}개 은닉층 기준 "
                f"정확도는 {name} {s['accuracy']:.0%}, ReLU+He {r['accuracy']:.0%}입니다.")
    gap = r["accuracy"] - s["accuracy"]
    learned = ("learned far less than" if gap > 0.1 else "learned more than" if gap < -0.1
               else "learned about as much as")
    return (f"{name}: at initialisation the first layer's gradient norm is "
            f"{s['first_last_ratio']:.1e} of the last layer's; ReLU+He keeps "
            f"{r['first_last_ratio']:.2g}. With {n['depth']} hidden layers {name} reached "
            f"{s['accuracy']:.0%} accuracy (loss {s['final_loss']:.3f}) and {learned} "
            f"ReLU+He at {r['accuracy']:.0%} (loss {r['final_loss']:.3f}).")
