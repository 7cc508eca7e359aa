"""Dying ReLU: a too-large learning rate pushes ReLU units where they never fire again.

A hidden unit is *stuck* when its pre-activation is <= 0 for every example of a held-out
batch. A stuck ReLU unit outputs 0 and passes back a gradient of exactly 0, so no later
step can revive it: it is dead. A big update (here Adam at lr 0.1, 100x its usual rate)
knocks many units there at once. Leaky ReLU keeps a slope of 0.01 on the negative side:
the same big steps push many of its units there too, but they still respond to their
input and still get a gradient. Both nets are measured the same way, layer by layer.
The control is the usual rate (lr 0.001), where training kills no units.

The per-layer record of step 1 is measured before any update (the nets at init); the last
record is measured after the last update (the trained nets the verdict speaks of); the
records between show the net each step starts from. A layer whose units are all stuck
passes no signal, whatever the average over layers says, so the verdict names it.
"""

from __future__ import annotations

import torch
from _kit import Log, accuracy, is_log_step, linears, mlp, spirals
from _verdict import (
    CLOSE,
    MARGIN,
    Statement,
    about_equal,
    dead_layers,
    killed,
    learned,
    render,
    worst_layer,
)
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


def _record(layers: list[float], loss: float, extra: dict | None = None) -> dict:
    metrics = {"stuck": sum(layers) / len(layers), "loss": loss, **(extra or {})}
    metrics.update({f"stuck/{i}": s for i, s in enumerate(layers, 1)})
    return metrics


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
            if step < num_steps and is_log_step(step, num_steps, points=20):
                # before this step's update: step 1 shows the net at init
                layers = at_init if step == 1 else stuck_per_layer(net, X_val)
                yield Log(activation, step, num_steps, _record(layers, loss.item()), part, 2)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
        layers = stuck_per_layer(net, X_val)
        with torch.no_grad():
            val_acc = accuracy(net(X_val), y_val)
        numbers[activation] = {"stuck_at_init": sum(at_init) / len(at_init),
                               "stuck_per_layer_at_init": at_init,
                               "stuck": sum(layers) / len(layers), "stuck_per_layer": layers,
                               "val_accuracy": val_acc}
        # The trained net, after the last update: what the verdict speaks of.
        yield Log(activation, num_steps, num_steps,
                  _record(layers, loss.item(), {"val_acc": val_acc}), part, 2)
    r = numbers["relu"]
    numbers["effect"] = killed(r["stuck_at_init"], r["stuck"])
    return numbers


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    r, k, lr = n["relu"], n["leaky_relu"], n["lr"]
    effect = killed(r["stuck_at_init"], r["stuck"])
    dead = dead_layers(r["stuck_per_layer"])
    alive = round(n["units"] * (1 - r["stuck"]))
    span = (f"the share stuck at or below 0 for every held-out input went from "
            f"{r['stuck_at_init']:.0%} at init to {r['stuck']:.0%} after {n['num_steps']} steps.",
            f"모든 검증 입력에서 0 이하에 갇힌 ReLU 유닛이 초기 {r['stuck_at_init']:.0%} → "
            f"{n['num_steps']}스텝 후 {r['stuck']:.0%}가 됐습니다.")
    per_layer = ", ".join(f"{s:.0%}" for s in r["stuck_per_layer"])
    diff = r["stuck"] - k["stuck"]
    leaky = (f"Leaky ReLU has {k['stuck']:.0%} stuck at or below 0 ({k['stuck_at_init']:.0%} at "
             f"init)", f"Leaky ReLU는 {k['stuck']:.0%}가 0 이하에 갇혀(초기 "
             f"{k['stuck_at_init']:.0%})")
    slope = ("they still pass signal and gradient through the 0.01 slope.",
             "갇힌 유닛도 기울기 0.01로 신호와 기울기를 전달합니다.")
    ra, ka, chance = r["val_accuracy"], k["val_accuracy"], n["chance"]
    some = learned(ra, chance) or learned(ka, chance)
    return [
        Statement("relu-killed", f"Training at lr {lr:g} killed ReLU units: {span[0]}",
                  f"학습률 {lr:g}의 학습이 ReLU 유닛을 죽였습니다. {span[1]}", effect),
        Statement("relu-not-killed", f"Training at lr {lr:g} did not kill ReLU units (no "
                  f"dying-ReLU effect): {span[0]}", f"학습률 {lr:g}의 학습은 ReLU 유닛을 죽이지 "
                  f"않았습니다(죽는 ReLU 효과 없음). {span[1]}", not effect),
        Statement("stuck-from-start", f"Most were stuck from the start, by the initial bias "
                  f"{n['bias']:g}.", f"대부분은 초기 편향 {n['bias']:g} 때문에 처음부터 갇혀 "
                  f"있었습니다.", not effect and r["stuck_at_init"] > 0.5),
        Statement("relu-per-layer", f"Per layer after training (input first): {per_layer}.",
                  f"학습 후 층별(입력 쪽부터): {per_layer}.", True),
        worst_layer("relu-dead-layer", r["stuck_per_layer"], "stuck (dead ReLU units)",
                    "갇힌 상태(죽은 ReLU 유닛)"),
        Statement("relu-alive", f"A stuck ReLU unit is dead (output 0, gradient 0), leaving "
                  f"{alive} of {n['units']} at work.", f"갇힌 ReLU 유닛은 죽은 것(출력 0, "
                  f"기울기 0)이라 {n['units']}개 중 {alive}개만 일합니다.", not dead),
        Statement("leaky-fewer", f"{leaky[0]}, fewer than ReLU's, and {slope[0]}",
                  f"{leaky[1]} ReLU보다 적고, {slope[1]}", diff > CLOSE),
        Statement("leaky-more", f"{leaky[0]}, more than ReLU's, but {slope[0]}",
                  f"{leaky[1]} ReLU보다 많지만, {slope[1]}", diff < -CLOSE),
        Statement("leaky-same", f"{leaky[0]}, about as many as ReLU's, but {slope[0]}",
                  f"{leaky[1]} ReLU와 비슷하지만, {slope[1]}", abs(diff) <= CLOSE),
        Statement("accuracies", f"Held-out accuracy: ReLU {ra:.0%}, Leaky ReLU {ka:.0%}.",
                  f"검증 정확도: ReLU {ra:.0%}, Leaky ReLU {ka:.0%}.", True),
        Statement("neither-learned", f"Neither net learned the task: both are less than "
                  f"{MARGIN * 100:.0f} points above chance ({chance:.0%}).", f"두 망 모두 과제를 "
                  f"배우지 못했습니다: 둘 다 우연 수준({chance:.0%})보다 {MARGIN * 100:.0f}%p 넘게 "
                  f"높지 않습니다.",
                  not some),
        Statement("relu-lower", f"ReLU ends {(ka - ra) * 100:.0f} points below Leaky ReLU.",
                  f"ReLU의 정확도가 Leaky ReLU보다 {(ka - ra) * 100:.0f}%p 낮습니다.",
                  some and ka - ra > CLOSE),
        Statement("leaky-lower", f"Leaky ReLU did worse here, {(ra - ka) * 100:.0f} points below "
                  f"ReLU: live units do not guarantee a better fit at this learning rate.",
                  f"이번에는 Leaky ReLU가 {(ra - ka) * 100:.0f}%p 더 나빴습니다: 유닛이 살아 "
                  f"있다고 이 학습률에서 더 잘 맞춘다는 보장은 없습니다.",
                  some and ra - ka > CLOSE),
        Statement("accuracies-close", "The accuracies are about equal: the ReLU units left were "
                  "enough for this small task.", "정확도가 비슷해, 남은 ReLU 유닛으로도 이 작은 "
                  "과제에는 충분했습니다.", some and about_equal(ra, ka) and learned(ra, chance)),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
