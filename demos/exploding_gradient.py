"""Exploding gradients: a deep MLP whose initial weights are too large, with and without clipping.

With He initialisation scaled by a gain g, every ReLU layer multiplies the signal, forward
and backward, by about g. Twelve layers at g = 2.5 make the gradient reaching the first
layer thousands of times larger than the last layer's; one SGD step with such a gradient
throws the weights so far that the next forward pass overflows to inf, and inf - inf
gives NaN. `clip_grad_norm_` rescales the whole gradient to a maximum norm before the
step, so the same network from the same seed stays finite.
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
    "params": {
        "gain": {"default": 2.5, "help": "multiplier on He init (1 = He)", "min": 0.1, "max": 10},
        "depth": {"default": 12, "help": "hidden layers", "min": 2, "max": 40},
        "num_hiddens": {"default": 64, "help": "units per hidden layer", "min": 2, "max": 512},
        "lr": {"default": 0.01, "help": "SGD learning rate", "min": 0, "max": 10},
        "max_norm": {"default": 1.0, "help": "clip_grad_norm_ threshold of the clipped run",
                     "min": 0.001, "max": 1000},
    },
}


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = teacher_regression(n=256, dim=8, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.MSELoss()
    numbers: dict = {"gain": p["gain"], "depth": p["depth"], "max_norm": p["max_norm"],
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
                yield Log(name, step, num_steps,
                          {"loss": losses[-1], "grad_norm": total_norm,
                           "first/last": ratio(norms[0], norms[-1])}, part, 2)
            if blown:
                numbers["diverged"][name] = step
                numbers["cause"] = explain_divergence(last_norms or norms, p["lr"])
                numbers["cause_ko"] = explain_divergence(last_norms or norms, p["lr"], "ko")
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
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    u, c, at = n["unclipped"], n["clipped"], n["diverged"]
    growth = u["growth_per_layer"]
    if lang == "ko":
        head = (f"게인 {n['gain']:g}의 He 초기화 직후 기울기 노름은 출력층에서 입력층으로 갈수록 "
                f"층마다 약 {growth:.2g}배 커집니다. ")
        left = (f"클리핑 없음: {at['unclipped']}번째 스텝에서 손실이 inf/NaN이 됐습니다. "
                f"추정 원인: {n.get('cause_ko')}."
                if "unclipped" in at else f"클리핑 없음: {u['steps_run']}스텝 동안 유한했습니다.")
        right = (f" 클리핑(최대 노름 {n['max_norm']:g}): {at['clipped']}번째 스텝에서 발산했습니다."
                 if "clipped" in at else
                 f" 클리핑(최대 노름 {n['max_norm']:g}): {c['steps_run']}스텝 내내 유한했습니다"
                 f"(손실 {c['first_loss']:.3g} -> {c['last_finite_loss']:.3g}).")
        return head + left + right + _after_clipping(n, c, at, lang)
    head = (f"With He init times {n['gain']:g}, the gradient norm at initialisation grows about "
            f"{growth:.2g}x per layer from the output back to the input. ")
    if "unclipped" in at:
        left = (f"Unclipped, the loss hit inf/NaN at step {at['unclipped']}. "
                f"Likely cause: {n['cause']}.")
    else:
        left = f"Unclipped, the loss stayed finite for all {u['steps_run']} steps."
    if "clipped" in at:
        right = f" Clipped to norm {n['max_norm']:g}, it still diverged at step {at['clipped']}."
    else:
        right = (f" Clipped to norm {n['max_norm']:g}, it stayed finite for all "
                 f"{c['steps_run']} steps (loss {c['first_loss']:.3g} -> "
                 f"{c['last_finite_loss']:.3g}).")
    return head + left + right + _after_clipping(n, c, at, lang)


def _after_clipping(n: dict, c: dict, at: dict, lang: str) -> str:
    """Finite is not trained: compare the clipped run's loss with predicting the mean."""
    if "clipped" in at or c["last_finite_loss"] is None:
        return ""
    times = c["last_finite_loss"] / n["mean_baseline"]
    if times > 2:
        if lang == "ko":
            return (f" 다만 클리핑은 스텝 크기만 제한할 뿐이라, 손실은 여전히 평균값 예측"
                    f"({n['mean_baseline']:.3g})의 {times:.3g}배입니다. 근본 해결책은 적절한 "
                    f"초기화(게인 1 = He)입니다.")
        return (f" Clipping only caps each step, though: the loss is still {times:.3g}x that of "
                f"predicting the mean ({n['mean_baseline']:.3g}); the cure for the cause is a "
                f"sane init (gain 1 = He).")
    if lang == "ko":
        return (f" 손실은 평균값 예측({n['mean_baseline']:.3g})의 {times:.2g}배까지 내려왔습니다.")
    return (f" Its loss came down to {times:.2g}x that of predicting the mean "
            f"({n['mean_baseline']:.3g}).")
