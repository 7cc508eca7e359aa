"""Exploding gradients: a deep MLP whose initial weights are too large, with and without clipping.

With He initialisation scaled by a gain g, every ReLU layer multiplies the signal, forward
and backward, by about g. Twelve layers at g = 1.5 make the gradient with respect to the
first hidden layer's activations (dL/dh) about 1.5^11 = 86 times the last one's; one SGD
step with such a gradient throws the weights so far that the loss overflows to inf at the
next step. `clip_grad_norm_` rescales the whole gradient to a maximum norm before the step
(Pascanu, Mikolov & Bengio 2013), so the same network from the same seed stays finite and,
once its early huge gradients are tamed, trains. The control is plain He init (gain 1):
the gradient keeps its size across layers and nothing explodes at this learning rate.
The per-layer quantity is dL/dh, the activation gradient that backpropagation multiplies
up. The weight gradient dL/dW = dL/dh_out x h_in^T does not grow the same way: the forward
signal h_in grows towards the output by about the same factor, so the weight gradients do
not grow towards the input (at gain 1.5 the first layer's is even the smallest) and all of
them are huge; the verdict reports both.
"Grew" means more than 2x from the last hidden layer to the first (demos/_verdict.py).
"""

from __future__ import annotations

import math

import torch
from _kit import (
    Log,
    finite,
    forward_keeping_grads,
    grad_norms,
    init_weights,
    is_log_step,
    mlp,
    ratio,
    teacher_regression,
)
from _verdict import (
    LEVEL,
    Statement,
    broken_layers,
    causal,
    grew,
    learned_loss,
    render,
    trend,
    worst_gradient,
)
from torch import nn

META = {
    "name": "exploding-gradient",
    "claim": "With too-large initial weights, the gradient with respect to the activations "
             "(dL/dh) grows layer by layer towards the input and the loss reaches inf/NaN "
             "within a few steps; clipping the gradient norm keeps the same run finite.",
    "claim_ko": "초기 가중치가 너무 크면 활성값에 대한 기울기(dL/dh)가 입력 쪽으로 층마다 커져 "
                "몇 스텝 만에 손실이 inf/NaN이 되지만, 기울기 노름을 클리핑하면 같은 학습이 "
                "유한하게 유지된다.",
    "cpu_seconds": 1.5,
    "metric": "loss",
    "steps": 200,
    "control": {"gain": 1.0},
    "layers": {"prefix": "dL_dh/", "label": "activation-gradient norm |dL/dh| per hidden layer "
               "(input first)", "label_ko": "은닉층별 활성값 기울기 노름 |dL/dh| (입력 쪽부터)",
               "verdict": "init"},
    "params": {
        "gain": {"default": 1.5, "help": "multiplier on He init (1 = He)", "min": 0.1, "max": 10},
        "depth": {"default": 12, "help": "hidden layers", "min": 2, "max": 40},
        "num_hiddens": {"default": 64, "help": "units per hidden layer", "min": 2, "max": 512},
        "lr": {"default": 0.01, "help": "SGD learning rate", "min": 0, "max": 10},
        "max_norm": {"default": 20.0, "help": "clip_grad_norm_ threshold of the clipped run",
                     "min": 0.001, "max": 1000},
    },
}


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = teacher_regression(n=256, dim=8, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.MSELoss()
    numbers: dict = {"gain": p["gain"], "depth": p["depth"], "max_norm": p["max_norm"],
                     "lr": p["lr"], "num_steps": num_steps, "diverged": {},
                     # the MSE of always predicting the mean: what "learned something" must beat
                     "mean_baseline": y.var(unbiased=False).item()}
    for part, clip in enumerate([False, True]):
        name = "clipped" if clip else "unclipped"
        torch.manual_seed(seed)  # the same initial weights for both runs
        net = mlp(8, p["num_hiddens"], 1, p["depth"], "relu").to(device)
        init_weights(net, "he", gain=p["gain"])
        trainer = torch.optim.SGD(net.parameters(), lr=p["lr"])
        losses, first_norms, weight_norms, step = [], None, None, 0
        for step in range(1, num_steps + 1):
            y_hat, hiddens = forward_keeping_grads(net, X)
            loss = loss_fn(y_hat, y)
            trainer.zero_grad()
            loss.backward()
            # dL/dh for each hidden layer, input side first: what backprop multiplies up.
            norms = [h.grad.norm().item() for h in hiddens]
            first_norms = first_norms or norms
            weight_norms = weight_norms or grad_norms(net)[:-1]  # hidden layers' dL/dW at init
            total_norm = torch.stack([q.grad.norm() for q in net.parameters()]).norm().item()
            losses.append(loss.item())
            blown = not finite(losses[-1]) or not finite(total_norm)
            if blown or is_log_step(step, num_steps):
                metrics = {"loss": losses[-1], "|dL/dW|": total_norm,
                           "dh 1st/last": ratio(norms[0], norms[-1])}
                metrics.update({f"dL_dh/{i + 1}": g for i, g in enumerate(norms)})
                if step == 1:  # the weight gradients at init, for the dL/dW-vs-dL/dh sentence
                    metrics.update({f"dL_dW@init/{i + 1}": g for i, g in enumerate(weight_norms)})
                yield Log(name, step, num_steps, metrics, part, 2)
            if blown:
                numbers["diverged"][name] = step
                break
            if clip:
                nn.utils.clip_grad_norm_(net.parameters(), max_norm=p["max_norm"])
            trainer.step()
        finite_losses = [v for v in losses if finite(v)]
        numbers[name] = {
            "grad_norms_at_init": first_norms,
            "weight_grad_norms_at_init": weight_norms,
            "growth_per_layer": ratio(first_norms[0], first_norms[-1]) ** (1 / (p["depth"] - 1)),
            "first_loss": losses[0],
            "last_finite_loss": finite_losses[-1] if finite_losses else None,
            "steps_run": step,
        }
    grown = trend(numbers["unclipped"]["grad_norms_at_init"][::-1]) == "grew"
    numbers["effect"] = bool(grown and "unclipped" in numbers["diverged"])
    return numbers


def _loss(value: float | None) -> str:
    return "inf/NaN" if value is None else f"{value:.3g}"


def _fate(key: str, r: dict, at: int | None, who: tuple[str, str]) -> list[Statement]:
    """One run either hit inf/NaN at a step or stayed finite throughout."""
    span = f"{_loss(r['first_loss'])} -> {_loss(r['last_finite_loss'])}"
    return [Statement(f"{key}-diverged", f"{who[0]}, the loss hit inf/NaN at step {at}.",
                      f"{who[1]} {at}번째 스텝에서 손실이 inf/NaN이 됐습니다.", at is not None),
            Statement(f"{key}-finite", f"{who[0]}, the loss stayed finite for all "
                      f"{r['steps_run']} step{'s' if r['steps_run'] != 1 else ''} ({span}).",
                      f"{who[1]} {r['steps_run']}스텝 내내 손실이 유한했습니다({span}).",
                      at is None)]


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    u, c, at, lr = n["unclipped"], n["clipped"], n["diverged"], n["lr"]
    norms, weights = u["grad_norms_at_init"], u["weight_grad_norms_at_init"]
    kind = trend(norms[::-1])  # from the last hidden layer back to the first
    span = ratio(norms[0], norms[-1])
    rate = u["growth_per_layer"]
    setting = (f"With He init times {n['gain']:g} ({n['depth']} hidden layers), the activation "
               f"gradient |dL/dh| at initialisation", f"게인 {n['gain']:g}의 He 초기화"
               f"({n['depth']}개 은닉층) 직후 활성값 기울기 |dL/dh|는")
    ends = (f"(first hidden layer / last {span:.3g}x, about {rate:.3g}x per layer)",
            f"(첫 은닉층/마지막 {span:.3g}배, 층마다 약 {rate:.3g}배)")
    wratio = ratio(weights[0], weights[-1])
    clip_at, u_at = at.get("clipped"), at.get("unclipped")
    last = c["last_finite_loss"]
    came_down = last is not None and last < c["first_loss"]
    c_learned = came_down and learned_loss(last, n["mean_baseline"])
    times = ratio(last if last is not None else math.inf, n["mean_baseline"])
    return [
        Statement("dh-grew", f"{setting[0]} grew from the output back to the input {ends[0]}.",
                  f"{setting[1]} 출력 쪽에서 입력 쪽으로 커졌습니다{ends[1]}.", kind == "grew"),
        Statement("dh-shrank", f"{setting[0]} shrank from the output back to the input "
                  f"{ends[0]}.", f"{setting[1]} 출력 쪽에서 입력 쪽으로 줄었습니다{ends[1]}.",
                  kind == "shrank"),
        Statement("dh-level", f"{setting[0]} stayed about level (within {LEVEL:g}x) across "
                  f"all layers {ends[0]}.", f"{setting[1]} 모든 층에서 거의 그대로였습니다"
                  f"({LEVEL:g}배 이내){ends[1]}.", kind == "level"),
        Statement("dh-uneven", f"{setting[0]} varied across layers without a steady trend "
                  f"{ends[0]}.", f"{setting[1]} 층마다 일정한 경향 없이 달라졌습니다{ends[1]}.",
                  kind == "uneven"),
        Statement("dW-not-growing", f"The weight gradients |dL/dW|, by contrast, do not grow "
                  f"towards the input (first hidden layer / last {wratio:.3g}x, all between "
                  f"{min(weights):.3g} and {max(weights):.3g}): it is dL/dh that grows.",
                  f"반면 가중치 기울기 |dL/dW|는 입력 쪽으로 커지지 않습니다(첫 은닉층/마지막 "
                  f"{wratio:.3g}배, 모두 {min(weights):.3g}~{max(weights):.3g}): 커지는 것은 "
                  f"dL/dh입니다.", kind == "grew" and not broken_layers(weights)
                  and not grew(weights[-1], weights[0])),
        worst_gradient("dh-broken", norms, "|dL/dh| at init", "초기 |dL/dh|"),
        worst_gradient("dW-broken", weights, "|dL/dW| at init", "초기 |dL/dW|"),
        *_fate("unclipped", u, u_at, (f"Unclipped (SGD, lr {lr:g})",
                                      f"클리핑 없이(SGD 학습률 {lr:g})")),
        *_fate("clipped", c, clip_at, (f"Clipped to norm {n['max_norm']:g}",
                                       f"클리핑(최대 노름 {n['max_norm']:g})하면")),
        causal("clipping", ["clipping"], "clipping-kept-finite", "Clipping, the only "
               "difference between the two runs, kept the loss finite.", "두 학습의 유일한 "
               "차이인 클리핑이 손실을 유한하게 지켰습니다.", u_at is not None and clip_at is None),
        Statement("clipped-learned", f"It trained: its loss came down to {times:.2g}x that of "
                  f"predicting the mean ({n['mean_baseline']:.3g}).", f"손실이 평균값 예측"
                  f"({n['mean_baseline']:.3g})의 {times:.2g}배까지 내려와, 실제로 학습했습니다.",
                  clip_at is None and c_learned),
        Statement("clipped-not-learned", f"Finite is not trained, though: its loss ended at "
                  f"{times:.3g}x that of predicting the mean ({n['mean_baseline']:.3g})"
                  + ("." if came_down else ", no lower than where it started."),
                  f"다만 유한하다고 학습한 것은 아닙니다: 손실이 평균값 예측"
                  f"({n['mean_baseline']:.3g})의 {times:.3g}배로 끝났습니다"
                  + ("." if came_down else "(시작보다 낮아지지 않음)."),
                  clip_at is None and not c_learned),
        Statement("exploded", "Exploding gradients appeared: dL/dh grew layer by layer at "
                  "initialisation and the unclipped loss blew up to inf/NaN.", "기울기 폭발이 "
                  "나타났습니다: 초기화 시점에 dL/dh가 층마다 커졌고 클리핑 없는 손실이 inf/NaN"
                  "으로 터졌습니다.", n["effect"]),
        Statement("diverged-without-growth", f"No exploding gradients at initialisation "
                  f"(dL/dh did not grow layer by layer), yet the unclipped run diverged at lr "
                  f"{lr:g}; this run does not vary the learning rate, so rerun with a smaller "
                  f"one to see whether it is the cause.", f"초기화 시점의 기울기 폭발은 "
                  f"없었지만(dL/dh가 층마다 커지지 않음) 학습률 {lr:g}에서 클리핑 없는 학습이 "
                  f"발산했습니다. 이 실행은 학습률을 바꾸지 않으니, 원인인지 보려면 더 작은 "
                  f"학습률로 다시 돌려 보세요.", kind != "grew" and u_at is not None),
        Statement("grew-no-blowup", f"dL/dh grew layer by layer, but the unclipped run did "
                  f"not blow up in {u['steps_run']} steps at lr {lr:g}.", f"dL/dh는 층마다 "
                  f"커졌지만 학습률 {lr:g}에서 클리핑 없는 학습은 {u['steps_run']}스텝 동안 "
                  f"터지지 않았습니다.", kind == "grew" and u_at is None),
        Statement("no-explosion", "No exploding gradients: dL/dh did not grow layer by layer "
                  "and the loss stayed finite.", "기울기 폭발 없음: dL/dh가 층마다 커지지 않았고 "
                  "손실도 유한했습니다.", kind != "grew" and u_at is None),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
