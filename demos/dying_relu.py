"""Dying ReLU: a too-large learning rate pushes ReLU units where they never fire again.

A hidden unit is *stuck* when its pre-activation is <= 0 for every example of a held-out
batch. A stuck ReLU unit outputs 0 and passes back a gradient of exactly 0, so no later
step can revive it: it is dead. A big update (here Adam at lr 0.1, 100x its usual rate)
knocks many units there at once. Leaky ReLU keeps a slope of 0.01 on the negative side:
the same big steps push many of its units there too, but they still respond to their
input and still get a gradient. Both nets are measured the same way, layer by layer.
The control is the usual rate (lr 0.001), where training kills no units.
"""

from __future__ import annotations

import torch
from _kit import Log, accuracy, is_log_step, linears, mlp, spirals
from torch import nn

META = {
    "name": "dying-relu",
    "claim": "With a too-large learning rate most ReLU units die (stuck below zero for every "
             "input, output 0, gradient 0); Leaky ReLU under the same settings has fewer units "
             "stuck there, and they still pass a 0.01 gradient.",
    "claim_ko": "학습률이 너무 크면 ReLU 유닛 대부분이 죽는다(모든 입력에서 0 이하에 갇혀 출력 0, "
                "기울기 0). 같은 설정의 Leaky ReLU는 그렇게 갇힌 유닛이 더 적고, 갇힌 유닛도 "
                "기울기 0.01을 전달한다.",
    "cpu_seconds": 2,
    "metric": "stuck",
    "steps": 300,
    "control": {"lr": 0.001},
    "layers": {"prefix": "stuck/", "label": "share of units stuck below zero, per layer",
               "label_ko": "층별 0 이하에 갇힌 유닛 비율"},
    "params": {
        "lr": {"default": 0.1, "help": "Adam learning rate (1e-3 is the usual one)",
               "min": 0, "max": 10},
        "bias": {"default": 0.0, "help": "initial bias of the hidden layers (negative kills)",
                 "min": -10, "max": 10},
        "depth": {"default": 4, "help": "hidden layers", "min": 1, "max": 20},
        "num_hiddens": {"default": 64, "help": "units per hidden layer", "min": 2, "max": 512},
    },
}
DIED = 0.2  # training must add this share of stuck ReLU units to count as "dying"
SAME = 0.05  # shares or accuracies closer than this are reported as about equal


def stuck_per_layer(net: nn.Sequential, X: torch.Tensor) -> list[float]:
    """Per hidden layer: the share of units whose pre-activation is <= 0 for every row of X."""
    shares = []
    with torch.no_grad():
        h = X
        for module in net[:-1]:
            if isinstance(module, nn.Linear):
                h = module(h)
                shares.append((h <= 0).all(dim=0).float().mean().item())
            else:
                h = module(h)
    return shares


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=1024, seed=seed)
    X_train, y_train = X[:512].to(device), y[:512].to(device)
    X_val, y_val = X[512:].to(device), y[512:].to(device)  # held-out batch for "stuck"
    loss_fn = nn.CrossEntropyLoss()
    chance = y_val.bincount().max().item() / len(y_val)
    numbers: dict = {"lr": p["lr"], "bias": p["bias"], "units": p["depth"] * p["num_hiddens"],
                     "num_steps": num_steps, "chance": chance}
    for part, activation in enumerate(["relu", "leaky_relu"]):
        torch.manual_seed(seed)  # same initial weights for both activations
        net = mlp(2, p["num_hiddens"], 2, p["depth"], activation).to(device)
        for layer in linears(net)[:-1]:
            nn.init.constant_(layer.bias, p["bias"])
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        at_init = stuck_per_layer(net, X_val)
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X_train), y_train)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if is_log_step(step, num_steps, points=20):  # measuring costs a forward pass
                layers = stuck_per_layer(net, X_val)
                metrics = {"stuck": sum(layers) / len(layers), "loss": loss.item()}
                metrics.update({f"stuck/{i}": s for i, s in enumerate(layers, 1)})
                yield Log(activation, step, num_steps, metrics, part, 2)
        layers = stuck_per_layer(net, X_val)
        with torch.no_grad():
            val_acc = accuracy(net(X_val), y_val)
        numbers[activation] = {"stuck_at_init": sum(at_init) / len(at_init),
                               "stuck": sum(layers) / len(layers), "stuck_per_layer": layers,
                               "val_accuracy": val_acc}
    r = numbers["relu"]
    numbers["effect"] = r["stuck"] - r["stuck_at_init"] >= DIED
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    r, k, ko, lr = n["relu"], n["leaky_relu"], lang == "ko", n["lr"]
    alive = round(n["units"] * (1 - r["stuck"]))
    span = (f"모든 검증 입력에서 0 이하에 갇힌 ReLU 유닛이 초기 {r['stuck_at_init']:.0%} → "
            f"{n['num_steps']}스텝 후 {r['stuck']:.0%}" if ko
            else f"the share stuck below zero for every held-out input went from "
            f"{r['stuck_at_init']:.0%} at init to {r['stuck']:.0%} after {n['num_steps']} steps")
    if n["effect"]:
        died = (f"학습률 {lr:g}의 학습이 ReLU 유닛을 죽였습니다. {span}" if ko
                else f"Training at lr {lr:g} killed ReLU units: {span}")
    else:
        died = (f"학습률 {lr:g}의 학습은 ReLU 유닛을 죽이지 않았습니다(죽는 ReLU 효과 없음). {span}"
                if ko else f"Training at lr {lr:g} did not kill ReLU units (no dying-ReLU "
                f"effect): {span}")
        if r["stuck_at_init"] >= DIED:  # e.g. a negative initial bias: dead before any step
            died += (f"; 초기 편향 {n['bias']:g} 때문에 처음부터 갇혀 있었습니다" if ko
                     else f"; they were stuck from the start by the initial bias {n['bias']:g}")
    diff = r["stuck"] - k["stuck"]
    than = ("ReLU보다 적습니다" if diff > SAME else "ReLU보다 많습니다" if diff < -SAME
            else "ReLU와 비슷합니다") if ko else ("fewer than ReLU's" if diff > SAME
                                             else "more than ReLU's" if diff < -SAME
                                             else "about as many as ReLU's")
    ra, ka, chance = r["val_accuracy"], k["val_accuracy"], n["chance"]
    gap = ka - ra
    if max(ra, ka) < chance + SAME:
        cost = (f"두 망 모두 과제를 배우지 못했습니다(우연 수준 {chance:.0%})." if ko else
                f"Neither net learned the task: both are at chance ({chance:.0%}).")
    elif gap > SAME / 2:
        cost = (f"죽은 유닛만큼 용량을 잃어 ReLU의 정확도가 {gap * 100:.0f}%p 낮습니다." if ko else
                f"The lost capacity shows: ReLU is {gap * 100:.0f} points lower.")
    elif gap < -SAME / 2:
        cost = (f"이번에는 Leaky ReLU가 {-gap * 100:.0f}%p 더 나빴습니다: 유닛이 살아 있다고 이 "
                f"학습률에서 더 잘 맞춘다는 보장은 없습니다." if ko else f"Leaky ReLU did worse "
                f"here, {-gap * 100:.0f} points below ReLU: live units do not guarantee a better "
                f"fit at this learning rate.")
    else:
        cost = (f"정확도가 비슷해, 남은 ReLU 유닛 {alive}개로도 이 작은 과제에는 충분했습니다."
                if ko
                else f"The accuracies are close: the {alive} ReLU units left were enough for "
                f"this small task.")
    if ko:
        return (f"{died}. 갇힌 ReLU 유닛은 죽은 것(출력 0, 기울기 0)이라 {n['units']}개 중 "
                f"{alive}개만 일합니다. Leaky ReLU는 {k['stuck']:.0%}가 0 이하에 갇혀(초기 "
                f"{k['stuck_at_init']:.0%}) {than}. 갇힌 Leaky 유닛도 기울기 0.01로 신호와 "
                f"기울기를 전달합니다. 검증 정확도: ReLU {ra:.0%}, Leaky ReLU {ka:.0%}. {cost}")
    return (f"{died}. A stuck ReLU unit is dead: output 0, "
            f"gradient 0, leaving {alive} of {n['units']} at work. Leaky ReLU has "
            f"{k['stuck']:.0%} stuck ({k['stuck_at_init']:.0%} at init), {than}, and they still "
            f"pass signal and gradient through the 0.01 slope. Held-out accuracy: ReLU {ra:.0%}, "
            f"Leaky ReLU {ka:.0%}. {cost}")
