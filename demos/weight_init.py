"""Weight initialisation: zero, constant, small normal, Xavier and He on deep tanh and ReLU nets.

Two things go wrong with a bad start. If every weight of a layer is equal (zero or any
constant), every unit computes the same function and receives the same gradient, so the
units stay copies of each other for ever: the symmetry is never broken. If the weights are
random but too small, each layer shrinks the signal and the activations fade to nothing a
few layers in. Xavier (std sqrt(2 / (fan_in + fan_out))) keeps tanh's activations at a
steady scale, He (std sqrt(2 / fan_in)) does the same for ReLU, which zeroes half its input.
"""

from __future__ import annotations

import torch
from _kit import Log, activation_stats, init_weights, is_log_step, mlp, spirals
from torch import nn

META = {
    "name": "weight-init",
    "claim": "Zero or constant init leaves every hidden unit identical for ever, small random "
             "init makes activations vanish layer by layer, and Xavier/He keep their scale.",
    "claim_ko": "0이나 상수로 초기화하면 은닉 유닛이 끝까지 모두 똑같고, 너무 작은 난수로 "
                "초기화하면 층을 지날수록 활성값이 사라지며, Xavier/He는 크기를 유지한다.",
    "cpu_seconds": 2.5,
    "metric": "loss",
    "steps": 100,
    "params": {
        "depth": {"default": 8, "help": "hidden layers", "min": 2, "max": 30},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
        "lr": {"default": 0.01, "help": "Adam learning rate", "min": 0, "max": 1},
        "value": {"default": 0.05, "help": "weight of the constant init", "min": -1, "max": 1},
        "std": {"default": 0.01, "help": "std of the small normal init", "min": 0, "max": 1},
    },
}

SCHEMES = ["zero", "constant", "normal", "xavier", "he"]
NETS = ["tanh", "relu"]


def unit_spread(net: nn.Sequential, X: torch.Tensor) -> float:
    """Largest difference between any hidden unit and the first unit of its layer, relative
    to the layer's largest activation: 0 means all units compute the same thing."""
    with torch.no_grad():
        spreads = [((h - h[:, :1]).abs().max() / (h.abs().max() + 1e-12)).item()
                   for h in activation_stats(net, X)]
    return max(spreads)


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=256, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    numbers: dict = {"depth": p["depth"], "num_hiddens": p["num_hiddens"], "std": p["std"]}
    parts = len(NETS) * len(SCHEMES)
    for i, activation in enumerate(NETS):
        numbers[activation] = {}
        for j, scheme in enumerate(SCHEMES):
            name = f"{activation}/{scheme}"
            torch.manual_seed(seed)
            net = mlp(2, p["num_hiddens"], 2, p["depth"], activation).to(device)
            init_weights(net, scheme, value=p["value"], std=p["std"])
            with torch.no_grad():
                stds = [h.std().item() for h in activation_stats(net, X)]
            trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
            for step in range(1, num_steps + 1):
                loss = loss_fn(net(X), y)
                trainer.zero_grad()
                loss.backward()
                trainer.step()
                if is_log_step(step, num_steps):
                    yield Log(name, step, num_steps, {"loss": loss.item()},
                              i * len(SCHEMES) + j, parts)
            numbers[activation][scheme] = {
                "activation_std_at_init": stds,
                "final_loss": loss_fn(net(X), y).item(),
                "unit_spread": unit_spread(net, X),
            }
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    t, r = n["tanh"], n["relu"]
    same = [f"{a}/{s}" for a in NETS for s in ("zero", "constant")
            if n[a][s]["unit_spread"] < 1e-6]
    worst = max(n[a][s]["unit_spread"] for a in NETS for s in ("zero", "constant"))
    small = t["normal"]["activation_std_at_init"]
    best = {a: min(SCHEMES, key=lambda s: n[a][s]["final_loss"]) for a in NETS}

    def std_range(a: str, s: str) -> str:
        stds = n[a][s]["activation_std_at_init"]
        return f"{min(stds):.2g}-{max(stds):.2g}"

    def losses(s: str) -> str:
        return f"{t[s]['final_loss']:.3f}/{r[s]['final_loss']:.3f}"

    if lang == "ko":
        return (f"0/상수 초기화: 4개 설정 중 {len(same)}개에서 학습 후에도 모든 은닉 유닛이 "
                f"같습니다(최대 상대 차이 {worst:.1e}). 최종 손실(tanh/ReLU)은 0 초기화 "
                f"{losses('zero')}, 상수 초기화 {losses('constant')}입니다. "
                f"작은 정규분포(가중치 std {n['std']:g}): tanh 활성값 "
                f"표준편차가 1층 {small[0]:.2g}에서 {n['depth']}층 {small[-1]:.1e}로 줄어듭니다. "
                f"Xavier는 tanh의 표준편차를 {std_range('tanh', 'xavier')}, He는 ReLU를 "
                f"{std_range('relu', 'he')}로 유지합니다. 최종 손실이 가장 낮은 초기화: "
                f"tanh {best['tanh']} {t[best['tanh']]['final_loss']:.3f}, "
                f"ReLU {best['relu']} {r[best['relu']]['final_loss']:.3f}.")
    return (f"Zero/constant init: in {len(same)} of 4 runs every hidden unit is still identical "
            f"after training (largest relative difference {worst:.1e}); final loss (tanh/ReLU) "
            f"zero {losses('zero')}, constant {losses('constant')}. Small normal (weight std "
            f"{n['std']:g}): tanh activation std falls from {small[0]:.2g} in layer 1 to "
            f"{small[-1]:.1e} in layer {n['depth']}. Xavier keeps tanh's std at "
            f"{std_range('tanh', 'xavier')}, He "
            f"keeps ReLU's at {std_range('relu', 'he')}. Lowest final loss: tanh with "
            f"{best['tanh']} ({t[best['tanh']]['final_loss']:.3f}), ReLU with {best['relu']} "
            f"({r[best['relu']]['final_loss']:.3f}).")
