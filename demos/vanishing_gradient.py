"""Vanishing gradients: the same sigmoid MLP, shallow and deep, trained the same way.

The backward pass multiplies, layer after layer, by the activation's derivative times a
weight matrix. The sigmoid's derivative is at most 0.25, so every extra layer shrinks the
gradient that reaches the first layer (Hochreiter 1991; Bengio et al. 1994; Glorot &
Bengio 2010). To isolate depth, the two nets differ only in their number of hidden layers:
same activation, same Xavier init, same data (XOR), same plain SGD with momentum, whose
update is proportional to the gradient, so a layer whose gradient vanished barely moves.
We measure each layer's weight gradient at initialisation and how far each layer's
weights moved (relative to their initial norm). A third net, ReLU with He init at the deep
setting, shows the classic remedy (it uses its own learning rate: ReLU nets diverge at
the sigmoid's).
"""

from __future__ import annotations

import math

import torch
from _kit import Log, grad_norms, init_weights, is_log_step, linears, mlp, ratio, xor
from torch import nn

META = {
    "name": "vanishing-gradient",
    "claim": "With the same sigmoid MLP and SGD, adding layers shrinks the first layer's weight "
             "gradient by orders of magnitude, so the deep net's first layer barely moves and it "
             "learns far less than the shallow one; ReLU with He init keeps the gradient.",
    "claim_ko": "같은 시그모이드 MLP와 SGD에서 층을 늘리면 첫 층의 가중치 기울기가 몇 자릿수나 "
                "줄어들어, 깊은 신경망의 첫 층은 거의 움직이지 않고 얕은 신경망보다 훨씬 덜 "
                "학습한다. He 초기화를 쓴 ReLU는 기울기를 유지한다.",
    "cpu_seconds": 1.5,
    "metric": "loss",
    "steps": 300,
    "control": {"depth": 2},
    "layers": {"prefix": "grad_norm/", "label": "weight-gradient norm |dL/dW| per layer "
               "(input first)", "label_ko": "층별 가중치 기울기 노름 |dL/dW| (입력 쪽부터)",
               "verdict": "init"},
    "params": {
        "depth": {"default": 10, "help": "hidden layers of the deep net", "min": 1, "max": 40},
        "shallow": {"default": 2, "help": "hidden layers of the shallow net", "min": 1,
                    "max": 40},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 512},
        "lr": {"default": 0.5, "help": "SGD (momentum 0.9) learning rate of the two "
               "saturating nets", "min": 0, "max": 10},
        "relu_lr": {"default": 0.05, "help": "learning rate of the ReLU+He net", "min": 0,
                    "max": 10},
        "activation": {"default": "sigmoid", "choices": ["sigmoid", "tanh"],
                       "help": "saturating activation of the shallow and deep nets"},
    },
}

LEARNED = 0.1  # a loss drop (nats) below this counts as "did not learn"


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = xor(n=256, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    act = p["activation"]
    setups = [("shallow", act, p["shallow"], "xavier", p["lr"]),
              ("deep", act, p["depth"], "xavier", p["lr"]),
              ("relu+he", "relu", p["depth"], "he", p["relu_lr"])]
    numbers: dict = {"activation": act, "depth": p["depth"], "shallow_depth": p["shallow"],
                     "lr": p["lr"], "relu_lr": p["relu_lr"], "steps": num_steps, "diverged": {}}
    for part, (key, activation, depth, init, lr) in enumerate(setups):
        name = f"{'relu+he' if key == 'relu+he' else activation}-{depth}L"
        if key == "deep" and depth == p["shallow"]:  # the same net: run it once
            numbers["deep"] = dict(numbers["shallow"])
            continue
        torch.manual_seed(seed)  # every net starts from the same random stream
        net = mlp(2, p["num_hiddens"], 2, depth, activation).to(device)
        init_weights(net, init)
        start = [layer.weight.detach().clone() for layer in linears(net)]
        trainer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        first_norms: list[float] = []
        first_loss = math.nan
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X), y)
            trainer.zero_grad()
            loss.backward()
            bad = not math.isfinite(loss.item())
            if step == 1:
                first_norms, first_loss = grad_norms(net), loss.item()
            if bad or step == num_steps or is_log_step(step, num_steps):
                norms = grad_norms(net)
                metrics = {"loss": loss.item(), "first/last": ratio(norms[0], norms[-1])}
                metrics.update({f"grad_norm/{i + 1}": g for i, g in enumerate(norms)})
                if step < num_steps or bad:  # the last record comes after the last update
                    yield Log(name, step, num_steps, metrics, part, len(setups))
            if bad:
                numbers["diverged"][name] = step
                break
            trainer.step()
        with torch.no_grad():
            final_loss = loss_fn(net(X), y).item()
            moved = [ratio((layer.weight - w0).norm().item(), w0.norm().item())
                     for layer, w0 in zip(linears(net), start, strict=True)]
        if not bad:  # the trained net's loss: the figure the verdict quotes
            yield Log(name, num_steps, num_steps, {**metrics, "loss": final_loss},
                      part, len(setups))
        numbers[key] = {"name": name, "layers": depth + 1, "grad_norms_at_init": first_norms,
                        "first_last_ratio": ratio(first_norms[0], first_norms[-1]),
                        "first_loss": first_loss, "final_loss": final_loss,
                        "relative_change": moved}
    s, d = numbers["shallow"], numbers["deep"]
    # How much the extra layers shrank the first layer's share of the gradient.
    numbers["shrink"] = ratio(d["first_last_ratio"], s["first_last_ratio"])
    numbers["effect"] = bool(
        p["depth"] > p["shallow"] and numbers["shrink"] < 1e-2 and _learned(s)
        and _finite(d) and d["final_loss"] > s["final_loss"] + LEARNED)
    return numbers


def _finite(r: dict) -> bool:
    return math.isfinite(r["final_loss"])


def _learned(r: dict) -> bool:
    return _finite(r) and r["first_loss"] - r["final_loss"] >= LEARNED


def _compare(n: dict, ko: bool) -> str:
    """How the second net's learning compares with the first one's, from the losses."""
    s, d, other = n["shallow"], n["deep"], n["shallow_depth"]
    if not _finite(d) or not _finite(s):
        return "발산했습니다" if ko else "diverged"
    if d["final_loss"] > d["first_loss"] + LEARNED:
        return "손실이 오히려 올랐습니다" if ko else "got worse (its loss rose)"
    if not _learned(s) and not _learned(d):
        return (f"{other}층 신경망과 마찬가지로 학습하지 못했습니다" if ko
                else f"learned nothing, and neither did the {other}-layer net")
    gap = d["final_loss"] - s["final_loss"]
    if gap > LEARNED:
        return (f"{other}층 신경망보다 훨씬 덜 학습했습니다" if ko
                else f"learned far less than the {other}-layer net")
    if gap < -LEARNED:
        return (f"{other}층 신경망보다 더 학습했습니다" if ko
                else f"learned more than the {other}-layer net")
    return (f"{other}층 신경망과 비슷하게 학습했습니다" if ko
            else f"learned about as much as the {other}-layer net")


def _conclusion(n: dict, ko: bool) -> str:
    """Whether the depth effect appeared and, if not, which of its conditions failed."""
    if n["effect"]:
        return ("깊이 효과가 나타났습니다: 층을 더하자 첫 층의 기울기가 사라지고 깊은 신경망이 "
                "뒤처졌습니다." if ko else "The depth effect appeared: the extra layers made "
                "the first layer's gradient vanish and the deep net fell behind.")
    if n["depth"] <= n["shallow_depth"]:
        return ("깊이 효과 없음: 비교한 신경망이 더 깊지 않습니다." if ko
                else "No depth effect: the compared net is not deeper.")
    if n["shrink"] >= 1e-2:
        return ("깊이 효과 없음: 층을 더해도 첫 층의 기울기가 100분의 1 아래로 줄지 않았으니, "
                "학습 차이가 있다면 다른 원인입니다." if ko else
                "No depth effect: the extra layers did not shrink the first layer's gradient "
                "100-fold, so any gap in learning has another cause.")
    if not _learned(n["shallow"]):
        return ("효과를 보이지 못함: 얕은 신경망도 학습하지 못해 깊이 탓으로 돌릴 수 "
                "없습니다." if ko else "Not shown: the shallow net did not learn either, so "
                "depth cannot be blamed.")
    return ("효과를 보이지 못함: 기울기는 사라졌지만 깊은 신경망이 뒤처지지 않았습니다." if ko
            else "Not shown: the gradient vanished but the deep net did not fall behind.")


def _layers(count: int) -> str:
    return f"{count} layer" if count == 1 else f"{count} layers"


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    act, s, d, r = n["activation"].capitalize(), n["shallow"], n["deep"], n["relu+he"]
    extra = n["depth"] - n["shallow_depth"]
    per = n["shrink"] ** (1 / abs(extra)) if extra and n["shrink"] > 0 else math.nan
    moved = d["relative_change"]
    losses = (f"{d['first_loss']:.3f} -> {d['final_loss']:.3f}",
              f"{s['first_loss']:.3f} -> {s['final_loss']:.3f}")
    at = n["diverged"].get(r["name"])
    if not _finite(r):
        relu = (f"{r['first_last_ratio']:.2g}배, {at}번째 스텝에서 발산" if ko
                else f"{r['first_last_ratio']:.2g}, diverged at step {at}")
    else:
        relu = (f"{r['first_last_ratio']:.2g}배, 손실 {r['final_loss']:.3f}" if ko else
                f"{r['first_last_ratio']:.2g}, loss {r['final_loss']:.3f}")
    if ko:
        head = (f"{act}, SGD(모멘텀 0.9, 학습률 {n['lr']:g}), XOR: 초기화 시점에 첫 층 가중치 "
                f"기울기는 마지막 층의 {s['first_last_ratio']:.1e}배(은닉층 "
                f"{n['shallow_depth']}개), {d['first_last_ratio']:.1e}배(은닉층 "
                f"{n['depth']}개)입니다. ")
        if extra == 0:
            mid = "두 신경망의 깊이가 같아 깊이의 효과는 비교할 수 없습니다. "
            learn = f"손실 {losses[0]}"
        else:
            verb = "늘리자" if extra > 0 else "줄이자"
            mid = (f"은닉층을 {abs(extra)}개 {verb} 이 비율이 {n['shrink']:.1e}배가 됐습니다"
                   f"(층마다 {per:.2g}배). ")
            learn = f"손실 {losses[0]}로 {_compare(n, True)}({n['shallow_depth']}층: {losses[1]})"
        return (head + mid + f"{n['steps']}스텝 뒤 {n['depth']}층 신경망의 첫 층 가중치는 "
                f"초기값 노름 대비 {moved[0]:.1e}만큼, 마지막 층은 {moved[-1]:.2g}만큼 움직였고, "
                f"{learn}. ReLU+He(은닉층 {n['depth']}개, 학습률 {n['relu_lr']:g}): 비율 "
                f"{relu}. " + _conclusion(n, True))
    head = (f"{act} nets, SGD (momentum 0.9, lr {n['lr']:g}) on XOR: at initialisation the first "
            f"layer's weight gradient is {s['first_last_ratio']:.1e} of the last layer's with "
            f"{n['shallow_depth']} hidden layers and {d['first_last_ratio']:.1e} with "
            f"{n['depth']}. ")
    if extra == 0:
        mid = "Both nets have the same depth, so there is no depth effect to compare. "
        learn = f"its loss went {losses[0]}"
    else:
        verb = "Adding" if extra > 0 else "Removing"
        mid = (f"{verb} {_layers(abs(extra))} multiplied that ratio by "
               f"{n['shrink']:.1e} ({per:.2g}x per layer). ")
        learn = (f"with loss {losses[0]} it {_compare(n, False)} ({n['shallow_depth']}-layer "
                 f"net: {losses[1]})")
    return (head + mid + f"After {n['steps']} steps the {n['depth']}-layer net's first layer "
            f"moved {moved[0]:.1e} of its initial weight norm and its last layer "
            f"{moved[-1]:.2g}; {learn}. ReLU+He with {n['depth']} hidden layers "
            f"(lr {n['relu_lr']:g}): ratio {relu}. " + _conclusion(n, False))
