"""Optimizers: SGD, SGD with momentum, RMSprop, Adam and AdamW race on the same problem.

Every optimizer trains the same MLP (same initial weights, same two-spirals data, full
batch) and we count the steps until the training loss first drops below a target.
Plain SGD takes a fixed-size step along the current gradient, so it crawls along flat,
curved valleys. Momentum averages past gradients and keeps moving in the consistent
direction. RMSprop divides each parameter's step by a running average of its squared
gradients, so rarely-updated or flat directions still move. Adam combines both ideas
(plus bias correction); AdamW is Adam with weight decay applied directly to the weights
("decoupled"), which matters for generalisation more than for speed.
Each optimizer uses its customary learning rate: 0.1 for the SGD family, 0.01 for the
adaptive ones (their steps are already normalised per parameter).
"""

from __future__ import annotations

import torch
from _kit import Log, accuracy, is_log_step, mlp, spirals
from torch import nn

META = {
    "name": "optimizers",
    "claim": "On the same MLP and data, plain SGD is the slowest to reach a target loss; "
             "momentum and the adaptive optimizers (RMSprop, Adam, AdamW) get there in a "
             "fraction of the steps.",
    "claim_ko": "같은 MLP와 데이터에서 일반 SGD가 목표 손실에 가장 늦게 도달하고, "
                "모멘텀과 적응형 옵티마이저(RMSprop, Adam, AdamW)는 그 몇 분의 일의 "
                "스텝 만에 도달한다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 300,
    "params": {
        "lr": {"default": 0.1, "help": "learning rate of SGD and SGD+momentum",
               "min": 0, "max": 10},
        "adaptive_lr": {"default": 0.01, "help": "learning rate of RMSprop, Adam and AdamW",
                        "min": 0, "max": 1},
        "target_loss": {"default": 0.3, "help": "training loss that counts as reached",
                        "min": 0, "max": 1},
        "num_hiddens": {"default": 64, "help": "units per hidden layer (2 hidden layers)",
                        "min": 2, "max": 512},
    },
}

OPTIMIZERS = {  # name -> (class, which learning rate, extra keyword arguments)
    "sgd": (torch.optim.SGD, "lr", {}),
    "momentum": (torch.optim.SGD, "lr", {"momentum": 0.9}),
    "rmsprop": (torch.optim.RMSprop, "adaptive_lr", {}),
    "adam": (torch.optim.Adam, "adaptive_lr", {}),
    "adamw": (torch.optim.AdamW, "adaptive_lr", {"weight_decay": 0.01}),
}
LABELS = {"sgd": "SGD", "momentum": "SGD+momentum", "rmsprop": "RMSprop", "adam": "Adam",
          "adamw": "AdamW"}


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=512, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    numbers: dict = {"target_loss": p["target_loss"], "num_steps": num_steps}
    for part, (name, (optimizer, lr_key, extra)) in enumerate(OPTIMIZERS.items()):
        torch.manual_seed(seed)  # every optimizer starts from the same weights
        net = mlp(2, p["num_hiddens"], 2, depth=2, activation="relu").to(device)
        trainer = optimizer(net.parameters(), lr=p[lr_key], **extra)
        reached = None
        for step in range(1, num_steps + 1):
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            value = loss.item()
            if reached is None and value < p["target_loss"]:
                reached = step
            if is_log_step(step, num_steps):
                yield Log(name, step, num_steps, {"loss": value, "acc": accuracy(y_hat, y)},
                          part, len(OPTIMIZERS))
        with torch.no_grad():
            y_hat = net(X)
        numbers[name] = {"lr": p[lr_key], "steps_to_target": reached,
                         "final_loss": loss_fn(y_hat, y).item(), "accuracy": accuracy(y_hat, y)}
    return numbers


def _steps(r: dict, num_steps: int, never: str) -> str:
    return str(r["steps_to_target"]) if r["steps_to_target"] else never.format(num_steps)


def verdict(n: dict, lang: str = "en") -> str:
    runs = {name: n[name] for name in OPTIMIZERS}
    done = sorted((r["steps_to_target"], name) for name, r in runs.items() if r["steps_to_target"])
    ko = lang == "ko"
    never = "{}스텝 내 미도달" if ko else "not within {}"
    counts = ", ".join(f"{LABELS[k]} {_steps(r, n['num_steps'], never)}" for k, r in runs.items())
    if not done:
        if ko:
            return (f"어떤 옵티마이저도 {n['num_steps']}스텝 안에 "
                    f"손실 {n['target_loss']:g}에 도달하지 못했습니다.")
        return f"No optimizer reached loss {n['target_loss']:g} within {n['num_steps']} steps."
    best_steps, best = done[0]
    sgd = runs["sgd"]
    final = (f"{LABELS[best]} {runs[best]['final_loss']:.3f}, SGD {sgd['final_loss']:.3f}")
    head = (f"손실 {n['target_loss']:g}까지 걸린 스텝: {counts}." if ko
            else f"Steps to reach loss {n['target_loss']:g}: {counts}.")
    if best == "sgd":
        return head + (" 이 설정에서는 일반 SGD가 가장 빨랐습니다." if ko
                       else " Plain SGD was the fastest here.")
    # An SGD run that never arrived is at least num_steps long: the speed-up is a lower bound.
    sgd_steps = sgd["steps_to_target"] or n["num_steps"]
    speedup = sgd_steps / best_steps
    if ko:
        bound = "" if sgd["steps_to_target"] else " 이상"
        return (f"{head} 가장 빠른 옵티마이저({LABELS[best]})는 "
                f"일반 SGD보다 스텝 수가 {speedup:.1f}배{bound} 적었습니다. "
                f"{n['num_steps']}스텝 후 최종 손실: {final}.")
    bound = "" if sgd["steps_to_target"] else "at least "
    return (f"{head} The fastest, {LABELS[best]}, "
            f"needed {bound}{speedup:.1f}x fewer steps than plain SGD. Loss after "
            f"{n['num_steps']} steps: {final}.")
