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
up, not the weight gradient dL/dW that vanishing-gradient shows.
"""

from __future__ import annotations

import torch
from _kit import (
    Log,
    explain_divergence,
    finite,
    forward_keeping_grads,
    init_weights,
    is_log_step,
    mlp,
    ratio,
    teacher_regression,
)
from torch import nn

GROWS = 1.25  # dL/dh growth per layer (towards the input) that counts as exploding

META = {
    "name": "exploding-gradient",
    "claim": "With too-large initial weights, gradient norms grow layer by layer and the loss "
             "reaches inf/NaN within a few steps; clipping the gradient norm keeps the same "
             "run finite.",
    "claim_ko": "초기 가중치가 너무 크면 기울기 노름이 층마다 커져 몇 스텝 만에 손실이 "
                "inf/NaN이 되지만, 기울기 노름을 클리핑하면 같은 학습이 유한하게 유지된다.",
    "cpu_seconds": 1.5,
    "metric": "loss",
    "steps": 200,
    "control": {"gain": 1.0},
    "layers": {"prefix": "dL_dh/", "label": "activation-gradient norm |dL/dh| per hidden layer "
               "(input first)", "label_ko": "은닉층별 활성값 기울기 노름 |dL/dh| (입력 쪽부터)"},
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
                     "lr": p["lr"],
                     "diverged": {},
                     # the MSE of always predicting the mean: what "learned something" must beat
                     "mean_baseline": y.var(unbiased=False).item()}
    for part, clip in enumerate([False, True]):
        name = "clipped" if clip else "unclipped"
        torch.manual_seed(seed)  # the same initial weights for both runs
        net = mlp(8, p["num_hiddens"], 1, p["depth"], "relu").to(device)
        init_weights(net, "he", gain=p["gain"])
        trainer = torch.optim.SGD(net.parameters(), lr=p["lr"])
        losses, first_norms, last_norms, step = [], None, [], 0
        for step in range(1, num_steps + 1):
            y_hat, hiddens = forward_keeping_grads(net, X)
            loss = loss_fn(y_hat, y)
            trainer.zero_grad()
            loss.backward()
            # dL/dh for each hidden layer, input side first: what backprop multiplies up.
            norms = [h.grad.norm().item() for h in hiddens]
            first_norms = first_norms or norms
            total_norm = torch.stack([q.grad.norm() for q in net.parameters()]).norm().item()
            losses.append(loss.item())
            blown = not finite(losses[-1]) or not finite(total_norm)
            if blown or is_log_step(step, num_steps):
                metrics = {"loss": losses[-1], "|dL/dW|": total_norm,
                           "dh 1st/last": ratio(norms[0], norms[-1])}
                metrics.update({f"dL_dh/{i + 1}": g for i, g in enumerate(norms)})
                yield Log(name, step, num_steps, metrics, part, 2)
            if blown:
                numbers["diverged"][name] = step
                numbers["cause"] = explain_divergence(last_norms or norms, p["lr"], grows=GROWS)
                numbers["cause_ko"] = explain_divergence(last_norms or norms, p["lr"], "ko", GROWS)
                break
            last_norms = norms
            if clip:
                nn.utils.clip_grad_norm_(net.parameters(), max_norm=p["max_norm"])
            trainer.step()
        finite_losses = [v for v in losses if finite(v)]
        numbers[name] = {
            "grad_norms_at_init": first_norms,
            "growth_per_layer": ratio(first_norms[0], first_norms[-1]) ** (1 / (p["depth"] - 1)),
            "first_loss": losses[0],
            "last_finite_loss": finite_losses[-1] if finite_losses else None,
            "steps_run": step,
        }
    growth = numbers["unclipped"]["growth_per_layer"]
    numbers["effect"] = bool(growth >= GROWS and "unclipped" in numbers["diverged"])
    return numbers


def _growth(g: float, ko: bool) -> str:
    if g >= GROWS:
        return f"층마다 약 {g:.2g}배 커집니다" if ko else f"grows about {g:.2g}x per layer"
    if g <= 1 / GROWS:
        return f"층마다 약 {g:.2g}배로 줄어듭니다" if ko else f"shrinks to about {g:.2g}x per layer"
    return (f"층마다 약 {g:.2g}배로 거의 그대로입니다" if ko
            else f"stays about level ({g:.2g}x per layer)")


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    u, c, at = n["unclipped"], n["clipped"], n["diverged"]
    norms = u["grad_norms_at_init"]
    overall = ratio(norms[0], norms[-1])
    if ko:
        head = (f"게인 {n['gain']:g}의 He 초기화({n['depth']}개 은닉층) 직후, 활성값 기울기 "
                f"|dL/dh|의 노름은 출력 쪽에서 입력 쪽으로 {_growth(u['growth_per_layer'], ko)}"
                f"(첫 층/마지막 층 {overall:.2g}배). ")
        left = (f"클리핑 없이(SGD 학습률 {n['lr']:g}) {at['unclipped']}번째 스텝에서 손실이 "
                f"inf/NaN이 됐습니다. 추정 원인: {n.get('cause_ko')}. "
                if "unclipped" in at else
                f"클리핑 없이도(SGD 학습률 {n['lr']:g}) {u['steps_run']}스텝 동안 유한했습니다"
                f"(손실 {u['first_loss']:.3g} -> {u['last_finite_loss']:.3g}). ")
        right = (f"클리핑(최대 노름 {n['max_norm']:g})해도 {at['clipped']}번째 스텝에서 "
                 f"발산했습니다." if "clipped" in at else
                 f"클리핑(최대 노름 {n['max_norm']:g})하면 {c['steps_run']}스텝 내내 "
                 f"유한했습니다(손실 {c['first_loss']:.3g} -> {c['last_finite_loss']:.3g}).")
        return head + left + right + _after_clipping(n, c, at, lang) + _conclusion(n, ko)
    head = (f"With He init times {n['gain']:g} ({n['depth']} hidden layers), the activation "
            f"gradient |dL/dh| at initialisation {_growth(u['growth_per_layer'], ko)} from the "
            f"output back to the input (first/last {overall:.2g}x). ")
    if "unclipped" in at:
        left = (f"Unclipped (SGD, lr {n['lr']:g}), the loss hit inf/NaN at step "
                f"{at['unclipped']}. Likely cause: {n['cause']}. ")
    else:
        left = (f"Unclipped (SGD, lr {n['lr']:g}), the loss stayed finite for all "
                f"{u['steps_run']} steps ({u['first_loss']:.3g} -> {u['last_finite_loss']:.3g}). ")
    if "clipped" in at:
        right = f"Clipped to norm {n['max_norm']:g}, it still diverged at step {at['clipped']}."
    else:
        right = (f"Clipped to norm {n['max_norm']:g}, it stayed finite for all "
                 f"{c['steps_run']} steps (loss {c['first_loss']:.3g} -> "
                 f"{c['last_finite_loss']:.3g}).")
    return head + left + right + _after_clipping(n, c, at, lang) + _conclusion(n, ko)


def _conclusion(n: dict, ko: bool) -> str:
    grew = n["unclipped"]["growth_per_layer"] >= GROWS
    if n["effect"]:
        return (" 기울기 폭발이 나타났습니다: 층마다 커진 기울기가 손실을 inf/NaN으로 "
                "만들었습니다." if ko else " Exploding gradients appeared: the gradient grew "
                "layer by layer and blew the loss up to inf/NaN.")
    if grew:
        return (f" 기울기는 층마다 커졌지만 클리핑 없는 학습이 발산하지 않았습니다(학습률 "
                f"{n['lr']:g})." if ko else f" The gradient grew layer by layer, but the "
                f"unclipped run did not blow up (lr {n['lr']:g}).")
    cause = ((f" 발산은 업데이트가 시작된 뒤에 일어났으니(학습률 {n['lr']:g}) 초기화가 아니라 "
              f"학습률 탓입니다." if ko else f" The divergence began with the updates (lr "
              f"{n['lr']:g}), so the learning rate, not the init, caused it.")
             if "unclipped" in n["diverged"] else "")
    return (" 초기화 시점의 기울기 폭발 없음: 기울기가 층마다 커지지 않았습니다." if ko else
            " No exploding gradients at initialisation: the gradient did not grow layer by "
            "layer.") + cause


def _after_clipping(n: dict, c: dict, at: dict, lang: str) -> str:
    """Finite is not trained: compare the clipped run's loss with predicting the mean."""
    if "clipped" in at or c["last_finite_loss"] is None:
        return ""
    times = c["last_finite_loss"] / n["mean_baseline"]
    if n["lr"] == 0:
        return (" 학습률이 0이라 어느 쪽도 학습하지 않았습니다." if lang == "ko"
                else " With lr 0 neither run trained.")
    if 0.9 <= times <= 1.1:
        if lang == "ko":
            return (f" 손실은 평균값 예측({n['mean_baseline']:.3g})의 {times:.2g}배로, 평균만 "
                    f"맞히는 수준에 머물렀습니다.")
        return (f" Its loss is {times:.2g}x that of predicting the mean "
                f"({n['mean_baseline']:.3g}): it learned no more than the mean.")
    if times > 1:
        if lang == "ko":
            return (f" 다만 클리핑은 스텝 크기만 제한할 뿐이라, 손실은 여전히 평균값 예측"
                    f"({n['mean_baseline']:.3g})의 {times:.3g}배입니다. 근본 해결책은 적절한 "
                    f"초기화(게인 1 = He)입니다.")
        return (f" Clipping only caps each step, though: the loss is still {times:.3g}x that of "
                f"predicting the mean ({n['mean_baseline']:.3g}); the cure for the cause is a "
                f"sane init (gain 1 = He).")
    if lang == "ko":
        return (f" 손실은 평균값 예측({n['mean_baseline']:.3g})의 {times:.2g}배까지 내려와, "
                f"실제로 학습했습니다.")
    return (f" It trained: its loss came down to {times:.2g}x that of predicting the mean "
            f"({n['mean_baseline']:.3g}).")
