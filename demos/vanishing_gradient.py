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
from _verdict import Statement, causal, render, worst_gradient
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
        first_norms, first_loss = [], math.nan  # set at step 1, the gradient at init
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


def _learned(r: dict) -> bool:  # a finite loss that dropped by LEARNED or more
    return _finite(r) and r["first_loss"] - r["final_loss"] >= LEARNED


def _learning(n: dict) -> list[Statement]:
    """How the deep net's learning compares with the shallow one's, from the losses."""
    s, d, other = n["shallow"], n["deep"], n["shallow_depth"]
    extra, neither = n["depth"] - other, not _learned(s) and not _learned(d)
    finite, worse = _finite(d) and _finite(s), d["final_loss"] > d["first_loss"] + LEARNED
    gap = d["final_loss"] - s["final_loss"]
    compared = bool(extra) and finite and not worse and not neither
    loss = (f"{d['first_loss']:.3f} -> {d['final_loss']:.3f}",
            f"{s['first_loss']:.3f} -> {s['final_loss']:.3f}")
    head = f"The {n['depth']}-layer net's loss went {loss[0]}"
    head_ko = f"{n['depth']}층 신경망의 손실은 {loss[0]}"
    tail, tail_ko = f" ({other}-layer net: {loss[1]}).", f"({other}층: {loss[1]})."
    return [
        Statement("diverged", f"{head}: training diverged (inf/NaN){tail}", f"{head_ko}로 "
                  f"학습이 발산했습니다(inf/NaN){tail_ko}", not finite),
        Statement("got-worse", f"{head}: it got worse (its loss rose by more than "
                  f"{LEARNED:g}){tail}", f"{head_ko}로 오히려 나빠졌습니다(손실이 {LEARNED:g} "
                  f"넘게 오름){tail_ko}", finite and worse),
        Statement("neither-learned", f"{head}: it learned nothing (a drop under {LEARNED:g}), "
                  f"and neither did the {other}-layer net{tail}", f"{head_ko}로 {other}층 "
                  f"신경망과 마찬가지로 학습하지 못했습니다(감소 {LEARNED:g} 미만){tail_ko}",
                  bool(extra) and finite and not worse and neither),
        Statement("same-net", f"{head}.", f"{head_ko}입니다.",
                  not extra and finite and not worse),
        Statement("far-less", f"{head}: it learned far less than the {other}-layer net{tail}",
                  f"{head_ko}로 {other}층 신경망보다 훨씬 덜 학습했습니다{tail_ko}",
                  compared and gap > LEARNED),
        Statement("more", f"{head}: it learned more than the {other}-layer net{tail}",
                  f"{head_ko}로 {other}층 신경망보다 더 학습했습니다{tail_ko}",
                  compared and gap < -LEARNED),
        Statement("as-much", f"{head}: it learned about as much as the {other}-layer net{tail}",
                  f"{head_ko}로 {other}층 신경망과 비슷하게 학습했습니다{tail_ko}",
                  compared and abs(gap) <= LEARNED),
    ]


def _moved(n: dict) -> list[Statement]:
    """How far each layer of the deep net moved: under SGD, the first layer least."""
    moved, steps, lr = n["deep"]["relative_change"], n["steps"], n["lr"]
    ok = all(math.isfinite(m) for m in moved)
    still, least = ok and max(moved) == 0, moved.index(min(moved)) + 1 if ok else 0
    sgd = (f"After {steps} step{'s' if steps != 1 else ''} of SGD (momentum 0.9, lr {lr:g}) the "
           f"{n['depth']}-layer net's first layer moved {moved[0]:.1e} of its initial weight "
           f"norm and its last layer {moved[-1]:.2g}", f"SGD(모멘텀 0.9, 학습률 {lr:g}) "
           f"{steps}스텝 뒤 {n['depth']}층 신경망의 첫 층 가중치는 초기값 노름 대비 "
           f"{moved[0]:.1e}만큼, 마지막 층은 {moved[-1]:.2g}만큼 움직였습니다")
    # A condition, not a cause this run varies: it trains with SGD only (issue 20 item 5).
    why = ("That holds under SGD, whose step is proportional to the gradient; this run does not "
           "try Adam, which rescales each weight's step and can move the first layer the most.",
           "이는 보폭이 기울기에 비례하는 SGD에서 성립합니다. 이 실행은 가중치마다 보폭을 다시 "
           "맞추는 Adam을 쓰지 않았는데, Adam에서는 첫 층이 가장 많이 움직일 수도 있습니다.")
    return [
        Statement("first-least", f"{sgd[0]}: of its {len(moved)} layers the first moved least. "
                  f"{why[0]}", f"{sgd[1]}. {len(moved)}개 층 중 첫 층이 가장 적게 "
                  f"움직였습니다. {why[1]}", ok and not still and least == 1),
        Statement("first-not-least", f"{sgd[0]}: the first layer did not move least (layer "
                  f"{least} did, {min(moved or [0]):.1e}).", f"{sgd[1]}. 가장 적게 움직인 층은 "
                  f"첫 층이 아니라 {least}번째 층입니다({min(moved or [0]):.1e}).",
                  ok and not still and least != 1),
        Statement("none-moved", f"{sgd[0]}: no layer moved at all.", f"{sgd[1]}. 어느 층도 "
                  f"전혀 움직이지 않았습니다.", still),
    ]


def _conclusion(n: dict) -> list[Statement]:
    """Whether the depth effect appeared and, if not, which of its conditions failed."""
    effect, deeper, shrunk = n["effect"], n["depth"] > n["shallow_depth"], n["shrink"] < 1e-2
    return [
        causal("depth", ["depth"], "effect", "The depth effect appeared: the extra layers, the "
               "only difference between the two nets, made the first layer's gradient vanish "
               "and the deep net fell behind.", "깊이 효과가 나타났습니다: 두 신경망의 유일한 "
               "차이인 추가 층이 첫 층의 기울기를 사라지게 했고 깊은 신경망이 뒤처졌습니다.",
               effect),
        Statement("not-deeper", "No depth effect: the compared net is not deeper.",
                  "깊이 효과 없음: 비교한 신경망이 더 깊지 않습니다.", not deeper),
        Statement("no-shrink", "No depth effect: the extra layers did not shrink the first "
                  "layer's gradient 100-fold, so any gap in learning has another cause.",
                  "깊이 효과 없음: 층을 더해도 첫 층의 기울기가 100배 넘게 줄지 않았으니, "
                  "학습 차이가 있다면 다른 원인입니다.", deeper and not shrunk),
        Statement("shallow-stuck", "Not shown: the shallow net did not learn either, so depth "
                  "cannot be blamed.", "효과를 보이지 못함: 얕은 신경망도 학습하지 못해 깊이 "
                  "탓으로 돌릴 수 없습니다.", deeper and shrunk and not _learned(n["shallow"])),
        Statement("not-behind", "Not shown: the gradient vanished but the deep net did not fall "
                  "behind.", "효과를 보이지 못함: 기울기는 사라졌지만 깊은 신경망이 뒤처지지 "
                  "않았습니다.", deeper and shrunk and _learned(n["shallow"]) and not effect),
    ]


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    act, s, d, r = n["activation"].capitalize(), n["shallow"], n["deep"], n["relu+he"]
    extra = n["depth"] - n["shallow_depth"]
    per = n["shrink"] ** (1 / abs(extra)) if extra and n["shrink"] > 0 else math.nan
    per = (f" ({per:.2g}x per layer)", f"(층마다 {per:.2g}배)") if math.isfinite(per) and per \
        else ("", "")
    verb = ("Adding", "늘리자") if extra > 0 else ("Removing", "줄이자")
    layers = f"{abs(extra)} layer{'s' if abs(extra) != 1 else ''}"
    at = n["diverged"].get(r["name"])
    relu = (f"ReLU+He with {n['depth']} hidden layers (lr {n['relu_lr']:g}): first/last "
            f"ratio {r['first_last_ratio']:.2g}", f"ReLU+He(은닉층 {n['depth']}개, 학습률 "
            f"{n['relu_lr']:g}): 첫 층/마지막 층 비율 {r['first_last_ratio']:.2g}배")
    return [
        Statement("ratios", f"{act} nets on XOR: at initialisation the first layer's weight "
                  f"gradient is {s['first_last_ratio']:.1e} of the last layer's with "
                  f"{n['shallow_depth']} hidden layers and {d['first_last_ratio']:.1e} with "
                  f"{n['depth']}.", f"{act}, XOR: 초기화 시점에 첫 층 가중치 기울기는 마지막 "
                  f"층의 {s['first_last_ratio']:.1e}배(은닉층 {n['shallow_depth']}개), "
                  f"{d['first_last_ratio']:.1e}배(은닉층 {n['depth']}개)입니다."),
        Statement("same-depth", "Both nets have the same depth, so there is no depth effect to "
                  "compare.", "두 신경망의 깊이가 같아 깊이의 효과는 비교할 수 없습니다.",
                  not extra),
        Statement("depth-changed", f"{verb[0]} {layers} multiplied that ratio by "
                  f"{n['shrink']:.1e}{per[0]}.", f"은닉층을 {abs(extra)}개 "
                  f"{verb[1]} 이 비율이 {n['shrink']:.1e}배가 됐습니다{per[1]}.",
                  bool(extra)),
        worst_gradient("deep-broken", d["grad_norms_at_init"], "|dL/dW| at init",
                       "초기 |dL/dW|"),
        *_moved(n),
        *_learning(n),
        Statement("relu-trained", f"{relu[0]}, loss {r['final_loss']:.3f}.",
                  f"{relu[1]}, 손실 {r['final_loss']:.3f}.", _finite(r)),
        Statement("relu-diverged", f"{relu[0]}, diverged at step {at}.",
                  f"{relu[1]}, {at}번째 스텝에서 발산.", not _finite(r)),
        *_conclusion(n),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
