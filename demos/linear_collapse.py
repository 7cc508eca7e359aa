"""Linear collapse: stacked linear layers without a nonlinearity are one matrix in disguise.

Linear(Linear(x)) = W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): however many layers are
stacked, the network computes one affine map, and an affine map can only separate classes
with a straight line. XOR and two spirals need a curved boundary, so the deep linear net
stays near chance. We multiply its matrices out and check numerically that the single
matrix gives the same outputs, then train the same net with ReLU between the layers.
"""

from __future__ import annotations

import torch
from _kit import Log, accuracy, is_log_step, linears, mlp, spirals, xor
from torch import nn

META = {
    "name": "linear-collapse",
    "claim": "Stacked linear layers without an activation equal a single matrix, so they cannot "
             "fit XOR (accuracy near chance) or two spirals; with ReLU the same network fits both.",
    "claim_ko": "활성화 함수 없이 쌓은 선형층은 행렬 하나와 같아서 XOR(정확도가 찍기 수준)도 두 "
                "나선도 맞히지 못하지만, ReLU를 넣은 같은 신경망은 둘 다 맞힌다.",
    "cpu_seconds": 2,
    "metric": "acc",
    "steps": 200,
    "params": {
        "depth": {"default": 4, "help": "hidden layers", "min": 1, "max": 20},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
        "lr": {"default": 0.01, "help": "Adam learning rate", "min": 0, "max": 1},
    },
}


def collapse(net: nn.Sequential) -> tuple[torch.Tensor, torch.Tensor]:
    """Multiply the layers out: the (W, b) with net(X) == X @ W.T + b for a linear-only net."""
    layers = linears(net)
    W = torch.eye(layers[0].in_features, device=layers[0].weight.device)
    b = torch.zeros(layers[0].in_features, device=W.device)
    for layer in layers:
        W, b = layer.weight @ W, layer.weight @ b + layer.bias
    return W, b


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    data = {"xor": xor(n=256, seed=seed), "spirals": spirals(n=512, seed=seed)}
    loss_fn = nn.CrossEntropyLoss()
    numbers: dict = {"depth": p["depth"]}
    runs = [(d, a) for d in data for a in ("identity", "relu")]
    for part, (dataset, activation) in enumerate(runs):
        name = f"{dataset}/{'linear' if activation == 'identity' else 'relu'}"
        X, y = (t.to(device) for t in data[dataset])
        torch.manual_seed(seed)
        net = mlp(2, p["num_hiddens"], 2, p["depth"], activation).to(device)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        for step in range(1, num_steps + 1):
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if is_log_step(step, num_steps):
                yield Log(name, step, num_steps, {"acc": accuracy(y_hat, y),
                                                  "loss": loss.item()}, part, len(runs))
        with torch.no_grad():
            y_hat = net(X)
            W, b = collapse(net)
            gap = (y_hat - (X @ W.T + b)).abs().max().item()
        numbers[name] = {"accuracy": accuracy(y_hat, y), "final_loss": loss_fn(y_hat, y).item(),
                         "single_matrix_gap": gap if activation == "identity" else None}
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    xl, xr, sl, sr = (n[k] for k in ("xor/linear", "xor/relu", "spirals/linear", "spirals/relu"))
    gap = max(xl["single_matrix_gap"], sl["single_matrix_gap"])
    same = gap < 1e-4
    if lang == "ko":
        check = "같은" if same else "다른"
        return (f"활성화 없는 {n['depth']}개 은닉층 신경망의 정확도는 XOR {xl['accuracy']:.0%}, "
                f"두 나선 {sl['accuracy']:.0%}(찍기: 50%)이고, "
                f"ReLU를 넣으면 XOR {xr['accuracy']:.0%}, "
                f"두 나선 {sr['accuracy']:.0%}입니다. 선형 층들을 곱한 행렬 하나는 "
                f"{check} 출력을 냅니다(최대 차이 {gap:.1e}).")
    check = "gives the same outputs" if same else "does NOT give the same outputs"
    return (f"Without an activation, {n['depth']} hidden layers reach {xl['accuracy']:.0%} on XOR "
            f"and {sl['accuracy']:.0%} on two spirals (chance: 50%); with ReLU the same net "
            f"reaches "
            f"{xr['accuracy']:.0%} and {sr['accuracy']:.0%}. The product of the linear layers, "
            f"one matrix, {check} (largest difference {gap:.1e}).")
