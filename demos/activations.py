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
gradient; it needs a larger lr (e.g. 0.1). The verdict names the optimizer it ran, and
each net's step-1 record carries its weight-gradient norms at init (``grad_norm/``), so the
sigmoid net's first/last ratio is measured, not quoted from the 0.25 bound. A contestant
whose loss turns inf/NaN is named and ranked last; "far behind" is 2x the median of the
others' final losses or more.
"""

from __future__ import annotations

import math
import statistics

import torch
from _kit import ACTIVATIONS, Log, accuracy, grad_norms, is_log_step, mlp, spirals
from _verdict import Statement, render, shrank
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
    "measures": {"ranking.*": ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu"]},
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

NAMES = META["measures"]["ranking.*"]  # the contestants: the ranking is of them only
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
                metrics = {"loss": loss.item(), "acc": accuracy(y_hat, y)}
                if step == 1:  # |dL/dW| per layer at the initial weights (input first)
                    numbers[name]["grad_norms_at_init"] = grad_norms(net)
                    metrics.update({f"grad_norm/{i}": g for i, g in
                                    enumerate(numbers[name]["grad_norms_at_init"], 1)})
                yield Log(name, step, num_steps, metrics, part, len(NAMES))
        with torch.no_grad():
            y_hat = net(X)
        numbers[name].update(final_loss=loss_fn(y_hat, y).item(),
                             accuracy=accuracy(y_hat, y), steps_to_target=reached)
    finite = [a for a in NAMES if math.isfinite(numbers[a]["final_loss"])]
    numbers["diverged"] = [a for a in NAMES if a not in finite]
    numbers["ranking"] = sorted(finite, key=lambda a: numbers[a]["final_loss"]) + numbers[
        "diverged"]  # inf/NaN last
    others = [numbers[a]["final_loss"] for a in finite if a != "sigmoid"]
    numbers["behind"] = (numbers["sigmoid"]["final_loss"] / statistics.median(others)
                         if "sigmoid" in finite and others and statistics.median(others) > 0
                         else math.nan)
    numbers["effect"] = bool(numbers["ranking"][-1] == "sigmoid" and numbers["behind"] >= BEHIND
                             and not numbers["diverged"])
    return numbers


def _trained(n: dict) -> bool:
    """Some activation lowered its loss by more than 0.01 (a finite one)."""
    return any(n[a]["final_loss"] < n[a]["initial_loss"] - 0.01 for a in NAMES
               if math.isfinite(n[a]["final_loss"]))


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    s, depth, lr = n["sigmoid"], n["depth"], n["lr"]
    slopes = ", ".join(f"{a} {n[a]['max_derivative']:.2f}" for a in NAMES)
    trained, ranked = _trained(n), [a for a in n["ranking"] if a not in n["diverged"]]
    low = n[ranked[0]]["final_loss"] if ranked else math.nan
    first = " = ".join(a for a in ranked if n[a]["final_loss"] <= 1.01 * low)  # ties
    last = ranked[-1] if ranked else "sigmoid"
    place = n["ranking"].index("sigmoid") + 1
    behind = n["behind"]
    worse = ", ".join(a for a in n["ranking"][place:])

    def where(a: str) -> tuple[str, str]:
        got = n[a]["steps_to_target"]
        return ((f"reached at step {got}", f"{got}스텝에 도달") if got else
                ("not reached", "미도달"))

    sig = s["grad_norms_at_init"]
    ratio = sig[0] / sig[-1] if sig[-1] > 0 else math.inf
    layers = "hidden layer" if depth == 1 else "hidden layers"
    sgd, adam = n["optimizer"] == "sgd", n["optimizer"] == "adam"
    shrinks = shrank(sig[-1], sig[0])
    return [
        Statement("derivatives", f"Largest derivative: {slopes}. Sigmoid's derivative is "
                  f"{s['derivative_at_4']:.3f} at x=4 (saturated: under 1/10 of its peak).",
                  f"최대 도함수: {slopes}. 시그모이드의 도함수는 x=4에서 "
                  f"{s['derivative_at_4']:.3f}로 포화됩니다(최댓값의 1/10 미만).",
                  s["derivative_at_4"] < 0.1 * s["max_derivative"]),
        Statement("sigmoid-grad-shrank", f"At init, the sigmoid net's first-layer weight "
                  f"gradient |dL/dW| is {ratio:.2g}x its last layer's: it shrank on the way "
                  f"back.", f"초기화 때 시그모이드 망의 첫 층 가중치 기울기 |dL/dW|는 마지막 "
                  f"층의 {ratio:.2g}배로, 역전파를 거치며 줄었습니다.", shrinks),
        Statement("sigmoid-grad-not-shrank", f"At init, the sigmoid net's first-layer weight "
                  f"gradient |dL/dW| is {ratio:.2g}x its last layer's: not below half, so it "
                  f"did not shrink on the way back.", f"초기화 때 시그모이드 망의 첫 층 가중치 "
                  f"기울기 |dL/dW|는 마지막 층의 {ratio:.2g}배로, 절반 아래가 아니어서 역전파를 "
                  f"거치며 줄지 않았습니다.", not shrinks),
        Statement("diverged", f"The loss of {', '.join(n['diverged'])} hit inf/NaN.",
                  f"{', '.join(n['diverged'])}의 손실이 inf/NaN이 됐습니다.",
                  bool(n["diverged"])),
        Statement("nothing-trained", "In the race no activation lowered its loss by more than "
                  "0.01 (nothing trained), so there is no ranking.", "경주에서는 어떤 활성화 "
                  "함수도 손실을 0.01 넘게 낮추지 못해(학습 안 됨) 순위가 없습니다.",
                  not trained),
        Statement("race", f"Race with {depth} {layers} to loss {n['target']:g}: {first} won "
                  f"with loss {low:.3f} ({where(ranked[0])[0] if ranked else ''}), {last} came "
                  f"last with {n[last]['final_loss']:.3f} ({where(last)[0]}); sigmoid placed "
                  f"{place} of {len(NAMES)}.", f"경주(은닉층 {depth}개, 목표 손실 "
                  f"{n['target']:g}): 우승 {first} 손실 {low:.3f}"
                  f"({where(ranked[0])[1] if ranked else ''}), 꼴찌 {last} 손실 "
                  f"{n[last]['final_loss']:.3f}({where(last)[1]}). 시그모이드는 "
                  f"{len(NAMES)}개 중 {place}위입니다.", trained),
        Statement("far-behind", f"Sigmoid's loss is {behind:.1f}x the others' median: far "
                  f"behind ({BEHIND:g}x or more) with {depth} {layers}.", f"시그모이드의 "
                  f"손실은 다른 함수들의 중앙값의 {behind:.1f}배로, 은닉층 {depth}개에서 크게 "
                  f"뒤처졌습니다({BEHIND:g}배 이상).", trained and n["effect"]),
        Statement("behind-not-last", f"Sigmoid's loss is {behind:.1f}x the others' median, "
                  f"but it did not come last: {worse} did worse.", f"시그모이드의 손실은 다른 "
                  f"함수들의 중앙값의 {behind:.1f}배지만 꼴찌는 아닙니다: {worse}가 더 "
                  f"나빴습니다.", trained and behind >= BEHIND and not n["effect"]),
        Statement("no-handicap", f"Sigmoid's loss is only {behind:.1f}x the others' median "
                  f"(under {BEHIND:g}x): no large sigmoid handicap in this run.", f"시그모이드의 "
                  f"손실이 다른 함수들의 중앙값의 {behind:.1f}배뿐이라({BEHIND:g}배 미만), 이번 "
                  f"실행에서는 시그모이드의 큰 불리함이 없습니다.", trained and behind < BEHIND),
        Statement("adam", f"The race used Adam (lr {lr:g}), which divides each weight's step by "
                  f"its gradient's own running size, so a gradient shrunk on the way back still "
                  f"makes a full-sized step: this race does not isolate the 0.25 bound; --set "
                  f"optimizer=sgd races with steps proportional to the gradient.", f"경주는 "
                  f"Adam(학습률 {lr:g})을 썼습니다. Adam은 가중치마다 스텝을 그 기울기의 누적 "
                  f"크기로 나누므로, 역전파에서 줄어든 기울기로도 제 크기만큼 움직입니다: 이 "
                  f"경주는 0.25 상한만을 떼어 보지 못하며, 스텝이 기울기에 비례하는 경주는 --set "
                  f"optimizer=sgd입니다.", adam),
        Statement("sgd", f"The race used SGD (momentum 0.9, lr {lr:g}), whose step is "
                  f"proportional to the gradient, so the sigmoid net's first layer steps "
                  f"{ratio:.2g}x as far as its last at the start.", f"경주는 SGD(모멘텀 0.9, "
                  f"학습률 {lr:g})를 썼습니다. SGD의 스텝은 기울기에 비례하므로, 시그모이드 망의 "
                  f"첫 층은 처음에 마지막 층의 {ratio:.2g}배만큼 움직입니다.", sgd),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
