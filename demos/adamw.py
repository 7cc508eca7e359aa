"""AdamW: weight decay decoupled from Adam's adaptive step, against L2 in the loss
(Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization", ICLR).

torch's `Adam(weight_decay=wd)` adds wd * w to the gradient (L2 in the loss). That term then
goes through Adam's division by sqrt(v), the running RMS of each weight's gradient, so a
weight whose gradients are large is decayed *less*: its effective decay per step is
lr * wd / (sqrt(v) + eps), different for every weight. `AdamW` subtracts lr * wd * w
directly, outside the adaptive step: every weight shrinks by the same fraction.

All three runs (Adam without decay, Adam+L2, AdamW, with the same wd) train the same wide
MLP on a small noisy training set, where regularisation matters, and are scored on held-out
data. The effective decay of Adam+L2 is read from its own optimizer state at the end.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, accuracy, is_log_step, linears, mlp, spirals
from _verdict import LEVEL, Statement, render
from torch import nn

META = {
    "name": "adamw",
    "claim": "With L2 in the loss (Adam's weight_decay) the decay is divided by Adam's adaptive "
             "denominator, so it differs by over 10x between weights and is far from lr x wd; "
             "AdamW decays every weight by the same lr x wd.",
    "claim_ko": "손실에 L2를 넣으면(Adam의 weight_decay) 감쇠가 Adam의 적응 분모로 나뉘어 "
                "가중치마다 10배 넘게 달라지고 lr x wd와도 크게 어긋난다. "
                "AdamW는 모든 가중치를 똑같이 lr x wd만큼 줄인다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 200,
    "params": {
        "wd": {"default": 0.01, "help": "weight decay (the same for Adam+L2 and AdamW)",
               "min": 0, "max": 100},
        "lr": {"default": 0.01, "help": "learning rate", "min": 0, "max": 1},
        "num_train": {"default": 64, "help": "training examples (few: regularisation matters)",
                      "min": 8, "max": 2048},
        "num_hiddens": {"default": 128, "help": "units per hidden layer", "min": 2, "max": 512},
    },
    "control": {"wd": 0},
    "layers": {"prefix": "decay/", "label": "Adam+L2's effective decay per layer, median, "
               "relative to AdamW's lr x wd", "label_ko": "층별 Adam+L2 실효 감쇠(중앙값, "
               "AdamW의 lr x wd 대비)"},
}

SPREAD = 10.0  # 90th / 10th percentile of the effective decay that counts as non-uniform


def effective_decay(trainer: torch.optim.Adam, layer: nn.Linear, lr: float, wd: float,
                    eps: float = 1e-8) -> torch.Tensor:
    """The fraction of each weight that Adam+L2's decay term removes per step."""
    state = trainer.state[layer.weight]
    if not state:
        return torch.zeros_like(layer.weight)
    step = float(state["step"])
    v_hat = state["exp_avg_sq"] / (1 - trainer.defaults["betas"][1] ** step)
    return lr * wd / (v_hat.sqrt() + eps)


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=p["num_train"] + 512, noise=0.3, seed=seed)
    X_train, y_train = X[:p["num_train"]].to(device), y[:p["num_train"]].to(device)
    X_test, y_test = X[p["num_train"]:].to(device), y[p["num_train"]:].to(device)
    loss_fn = nn.CrossEntropyLoss()
    lr, wd = p["lr"], p["wd"]
    setups = {"adam": (torch.optim.Adam, 0.0), "adam+l2": (torch.optim.Adam, wd),
              "adamw": (torch.optim.AdamW, wd)}
    numbers: dict = {"lr": lr, "wd": wd, "steps": num_steps, "num_train": p["num_train"]}
    for part, (name, (optim, decay)) in enumerate(setups.items()):
        torch.manual_seed(seed)  # the same initial weights for all three
        net = mlp(2, p["num_hiddens"], 2, 2).to(device)
        trainer = optim(net.parameters(), lr=lr, weight_decay=decay)
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X_train), y_train)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if is_log_step(step, num_steps, points=25):
                norm = math.sqrt(sum(m.weight.detach().pow(2).sum().item() for m in linears(net)))
                metrics = {"loss": loss.item(), "weight_norm": norm}
                if name == "adam+l2":
                    for i, m in enumerate(linears(net), 1):
                        rate = effective_decay(trainer, m, lr, wd)
                        metrics[f"decay/{i}"] = (rate.median().item() / (lr * wd)
                                                 if lr * wd else 0.0)
                yield Log(name, step, num_steps, metrics, part, len(setups))
        with torch.no_grad():
            out = {"train_loss": loss_fn(net(X_train), y_train).item(),
                   "test_acc": accuracy(net(X_test), y_test),
                   "weight_norm": math.sqrt(sum(m.weight.pow(2).sum().item()
                                                for m in linears(net)))}
        if name == "adam+l2":
            rates = torch.cat([effective_decay(trainer, m, lr, wd).reshape(-1)
                               for m in linears(net)])
            lo, mid, hi = (torch.quantile(rates, q).item() for q in (0.1, 0.5, 0.9))
            out["decay_per_layer"] = [
                effective_decay(trainer, m, lr, wd).median().item() / (lr * wd) if lr * wd
                else 0.0 for m in linears(net)]  # as the last decay/ record shows it
            out.update({"decay_p10": lo, "decay_median": mid, "decay_p90": hi,
                        "decay_spread": hi / lo if lo > 0 else (0.0 if hi == 0 else math.inf)})
        numbers[name] = out
    numbers["adamw"]["decay_per_step"] = lr * wd
    spread = numbers["adam+l2"]["decay_spread"]
    numbers["effect"] = bool(lr * wd > 0 and spread > SPREAD)
    return numbers


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    a, l2, w = n["adam"], n["adam+l2"], n["adamw"]
    per = n["lr"] * n["wd"]
    lo, hi, spread = l2["decay_p10"], l2["decay_p90"], l2["decay_spread"]
    readable = per > 0 and math.isfinite(lo) and math.isfinite(hi) and lo > 0
    rel = (f"{lo / per:.2g}x", f"{hi / per:.2g}x") if readable else ("", "")
    layers = ", ".join(f"{v:.2g}x" for v in l2["decay_per_layer"])
    scores = (f"Adam {a['test_acc']:.0%}, Adam+L2 {l2['test_acc']:.0%}, AdamW "
              f"{w['test_acc']:.0%}")
    norms = f"{a['weight_norm']:.3g} / {l2['weight_norm']:.3g} / {w['weight_norm']:.3g}"
    return [
        Statement("no-decay", f"lr x wd = {per:g}: with no decay all three are the same Adam.",
                  f"학습률 x 감쇠 = {per:g}: 감쇠가 없으니 세 옵티마이저는 같은 Adam입니다.",
                  per == 0),
        Statement("adamw-rate", f"AdamW shrinks every weight by {per:.2g} (lr x wd) per step.",
                  f"AdamW는 모든 가중치를 스텝마다 {per:.2g}(학습률 x 감쇠)만큼 줄입니다.",
                  0 < per < 1),
        Statement("adamw-flips", f"lr x wd = {per:g} is at least 1: AdamW's decay multiplies "
                  f"every weight by 1 - lr x wd = {1 - per:g} each step, which zeroes it (at 1) "
                  f"or flips its sign (above 1) instead of shrinking it.", f"학습률 x 감쇠 = "
                  f"{per:g}가 1 이상이라, AdamW의 감쇠는 스텝마다 모든 가중치에 "
                  f"1 - 학습률 x 감쇠 = {1 - per:g}를 곱합니다: 줄이는 대신 값을 "
                  f"없애거나(1일 때) 부호를 뒤집습니다(1보다 클 때).", per >= 1),
        Statement("l2-unreadable", "Adam+L2's optimizer state is not finite (inf/NaN) or its "
                  "decay is 0 somewhere: its effective decay cannot be compared.",
                  "Adam+L2의 옵티마이저 상태가 유한하지 않거나(inf/NaN) 감쇠가 0인 곳이 있어 "
                  "실효 감쇠를 비교할 수 없습니다.", per > 0 and not readable),
        Statement("l2-spread", f"Adam+L2's effective decay is {rel[0]} to {rel[1]} that (10th "
                  f"to 90th percentile over the weights, a {spread:.3g}x spread).",
                  f"Adam+L2의 실효 감쇠는 가중치마다 그 {rel[0]} ~ {rel[1]}(10번째~90번째 "
                  f"백분위, 차이 {spread:.3g}배)입니다.", readable),
        Statement("l2-uneven", f"Over {SPREAD:g}x: one decay rate per weight, smallest where "
                  f"the running gradient size is largest.", f"{SPREAD:g}배를 넘어, 가중치마다 "
                  f"감쇠율이 다르며 기울기의 누적 크기가 큰 가중치일수록 작습니다.",
                  readable and spread > SPREAD),
        Statement("l2-moderate", f"Uneven, but not over the {SPREAD:g}x the claim speaks of.",
                  f"고르지는 않지만 주장이 말하는 {SPREAD:g}배를 넘지는 않습니다.",
                  readable and LEVEL < spread <= SPREAD),
        Statement("l2-level", f"Within {LEVEL:g}x of each other: about level over the weights "
                  f"here, like AdamW's single rate.", f"서로 {LEVEL:g}배 안이라, 여기서는 "
                  f"AdamW의 단일 감쇠율처럼 가중치 전체에 걸쳐 거의 같습니다.",
                  readable and spread <= LEVEL),
        Statement("l2-far", f"At least 90% of the weights decay more than {LEVEL:g}x as fast as "
                  f"under AdamW.", f"가중치의 90% 이상이 AdamW보다 {LEVEL:g}배 넘게 빨리 "
                  f"감쇠합니다.", readable and lo > LEVEL * per),
        Statement("l2-slow", f"At least 90% of the weights decay less than 1/{LEVEL:g} as fast "
                  f"as under AdamW.", f"가중치의 90% 이상이 AdamW의 1/{LEVEL:g}보다 느리게 "
                  f"감쇠합니다.", readable and hi < per / LEVEL),
        Statement("l2-per-layer", f"Median per layer, relative to lr x wd (input first): "
                  f"{layers}.", f"층별 중앙값(lr x wd 대비, 입력 쪽부터): {layers}.",
                  readable),
        Statement("norms", f"Weight norm after {n['steps']} steps (Adam / Adam+L2 / AdamW): "
                  f"{norms}.", f"{n['steps']}스텝 뒤 가중치 노름(Adam / Adam+L2 / AdamW): "
                  f"{norms}.", True),
        Statement("accuracies", f"Test accuracy with {n['num_train']} training examples: "
                  f"{scores}.", f"학습 예제 {n['num_train']}개, 테스트 정확도: {scores}.", True),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
