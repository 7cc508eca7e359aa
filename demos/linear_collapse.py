"""Linear collapse: stacked linear layers without a nonlinearity are one matrix in disguise.

Linear(Linear(x)) = W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2): however many layers are
stacked, the network computes one affine map, and an affine map can only separate classes
with a straight line. XOR and two spirals need a curved boundary, so the deep linear net
stays near chance: on XOR the best straight line is no better than a coin, so its
cross-entropy stays at ln 2 = 0.693, the loss of predicting 50/50 for every point (a
better measure than accuracy, which can land anywhere near 50 % by chance). We multiply its
matrices out and check numerically that the single matrix gives the same outputs (up to
float32 rounding, which grows with the outputs' size: the gap is judged relative to the
largest output), then
train the same net with ReLU between the layers. The control relabels the same inputs by
the sign of their first coordinate, a straight-line boundary: the linear stack fits that.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, accuracy, is_log_step, linears, mlp, spirals, xor
from _verdict import SAME_REL, Statement, causal, render, same_outputs
from torch import nn

META = {
    "name": "linear-collapse",
    "claim": "Stacked linear layers without an activation equal a single matrix, so they cannot "
             "fit XOR (loss stays at ln 2, a coin flip) or two spirals; with ReLU the same "
             "network fits both.",
    "claim_ko": "활성화 함수 없이 쌓은 선형층은 행렬 하나와 같아서 XOR(손실이 동전 던지기 수준인 "
                "ln 2에 머묾)도 두 나선도 맞히지 못하지만, ReLU를 넣은 같은 신경망은 둘 다 "
                "맞힌다.",
    "cpu_seconds": 2,
    "metric": "acc",
    "steps": 200,
    "control": {"labels": "linear"},
    "params": {
        "labels": {"default": "nonlinear", "choices": ["nonlinear", "linear"],
                   "help": "nonlinear: XOR and two spirals; linear (control): the XOR inputs "
                   "labelled by the sign of x1, a straight-line boundary"},
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


FITS = 0.2  # ReLU accuracy minus linear accuracy that counts as "ReLU fits, linear cannot"


def tasks(labels: str, seed: int) -> dict:
    if labels == "linear":
        X, _ = xor(n=256, seed=seed)
        return {"halves": (X, (X[:, 0] > 0).long())}
    return {"xor": xor(n=256, seed=seed), "spirals": spirals(n=512, seed=seed)}


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    data = tasks(p["labels"], seed)
    loss_fn = nn.CrossEntropyLoss()
    numbers: dict = {"depth": p["depth"], "tasks": list(data), "ln2": math.log(2),
                     "steps": num_steps}
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
            if is_log_step(step, num_steps) and step < num_steps:  # before this update
                yield Log(name, step, num_steps, {"acc": accuracy(y_hat, y),
                                                  "loss": loss.item()}, part, len(runs))
        with torch.no_grad():
            y_hat = net(X)
            W, b = collapse(net)
            gap = (y_hat - (X @ W.T + b)).abs().max().item()
            scale = y_hat.abs().max().item()
        linear = activation == "identity"
        numbers[name] = {"accuracy": accuracy(y_hat, y), "final_loss": loss_fn(y_hat, y).item(),
                         "single_matrix_gap": gap if linear else None,
                         "output_scale": scale if linear else None}
        # The last record is the trained net: the figures the verdict quotes.
        last = {"acc": numbers[name]["accuracy"], "loss": numbers[name]["final_loss"]}
        if linear:
            last.update({"matrix_gap": gap, "output_max": scale})
        yield Log(name, num_steps, num_steps, last, part, len(runs))
    numbers["effect"] = all(
        numbers[f"{t}/relu"]["accuracy"] - numbers[f"{t}/linear"]["accuracy"] >= FITS
        for t in data)
    return numbers


NAMES = {"xor": ("XOR", "XOR"), "spirals": ("two spirals", "두 나선"),
         "halves": ("the sign of x1", "x1의 부호")}
COIN = 0.02  # a loss within this of ln 2 is "about ln 2": the 50/50 guess, nothing learned


def _loss(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 1000 else f"{value:.3g}"


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    tasks = n["tasks"]
    lin = {t: n[f"{t}/linear"] for t in tasks}
    gaps = [(lin[t]["single_matrix_gap"], lin[t]["output_scale"]) for t in tasks]
    same = all(same_outputs(gap, scale) for gap, scale in gaps)
    gap = max(g for g, _ in gaps)
    rel = max(g / s if s else (0.0 if g == 0 else float("inf")) for g, s in gaps)
    parts_en, parts_ko = [], []
    for t in tasks:
        relu = n[f"{t}/relu"]
        parts_en.append(f"{NAMES[t][0]}: linear {lin[t]['accuracy']:.0%} (loss "
                        f"{_loss(lin[t]['final_loss'])}), ReLU {relu['accuracy']:.0%} (loss "
                        f"{_loss(relu['final_loss'])})")
        parts_ko.append(f"{NAMES[t][1]}: 선형 {lin[t]['accuracy']:.0%}(손실 "
                        f"{_loss(lin[t]['final_loss'])}), ReLU {relu['accuracy']:.0%}(손실 "
                        f"{_loss(relu['final_loss'])})")
    coin = [t for t in tasks if abs(lin[t]["final_loss"] - n["ln2"]) < COIN]
    losses = " / ".join(f"{lin[t]['final_loss']:.3f}" for t in coin)
    where = (" and ".join(NAMES[t][0] for t in coin), ", ".join(NAMES[t][1] for t in coin))
    size = (f"(largest difference {gap:.1e}, {rel:.1e} of the largest output)",
            f"(최대 차이 {gap:.1e}, 최대 출력의 {rel:.1e})")
    return [
        Statement("accuracies", f"With {n['depth']} hidden layers, accuracy after {n['steps']} "
                  f"steps: " + "; ".join(parts_en) + ".", f"은닉층 {n['depth']}개, "
                  f"{n['steps']}스텝 학습 후 정확도: " + "; ".join(parts_ko) + ".", True),
        Statement("linear-at-coin", f"On {where[0]} the linear net's loss {losses} is about "
                  f"ln 2 = {n['ln2']:.3f}, the loss of saying 50/50 for every point: it learned "
                  f"nothing.", f"{where[1]}에서 선형 신경망의 손실 {losses}은 ln 2 = "
                  f"{n['ln2']:.3f}, 모든 점에 50/50을 말하는 손실과 거의 같으니 아무것도 배우지 "
                  f"못했습니다.", bool(coin)),
        Statement("same-outputs", f"The product of the linear layers, one matrix, gives the "
                  f"same outputs {size[0]}, within float32 rounding ({SAME_REL:g} of the "
                  f"outputs' size).", f"선형 층들을 곱한 행렬 하나는 같은 출력을 냅니다"
                  f"{size[1]}. float32 반올림 오차(출력 크기의 {SAME_REL:g}) 이내입니다.", same),
        Statement("different-outputs", f"The product of the linear layers, one matrix, does "
                  f"NOT give the same outputs {size[0]}: more than float32 rounding "
                  f"({SAME_REL:g} of the outputs' size).", f"선형 층들을 곱한 행렬 하나는 다른 "
                  f"출력을 냅니다{size[1]}. float32 반올림 오차(출력 크기의 {SAME_REL:g})보다 "
                  f"큽니다.", not same),
        causal("activation", ["activation"], "effect", "The effect appeared: ReLU, the only "
               "change, fits what the linear stack cannot (20 points better on every task).",
               "ReLU는 맞히고 선형은 못 맞히는 효과가 나타났습니다: 유일한 차이인 ReLU가 모든 "
               "과제에서 20%p 이상 낫습니다.", n["effect"]),
        Statement("no-effect", "No effect: ReLU did not beat the linear stack by 20 points on "
                  "every task.", "효과 없음: 모든 과제에서 ReLU가 선형보다 20%p 이상 낫지는 "
                  "않았습니다.", not n["effect"]),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
