"""Learning rate: too small, good, too large and divergent on the same regression problem.

Gradient descent moves the weights by ``lr`` times the gradient. Too small a step and the
loss barely moves in the time available. A good step brings it down fast. Too large a step
overshoots the valley: the loss jumps up (here it spikes to several times its starting
value) and ends worse. Beyond the stability limit every step overshoots by more than the
last, so the weights and the loss grow geometrically to inf/NaN within a few steps.
All four runs start from the same weights and see the same data (full batch, plain SGD);
what happened to each is classified from its own loss curve, never from its parameter.
The control gives all four runs the same good rate: then they all end the same way.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, is_log_step, mlp, teacher_regression
from torch import nn

META = {
    "name": "learning-rate",
    "claim": "A too-small learning rate barely lowers the loss, a good one lowers it fast, "
             "a too-large one makes the loss jump up, and beyond a limit it explodes to inf/NaN.",
    "claim_ko": "학습률이 너무 작으면 손실이 거의 줄지 않고, 적당하면 빠르게 줄며, 너무 크면 "
                "손실이 오히려 튀어 오르고, 한계를 넘으면 inf/NaN으로 발산한다.",
    "cpu_seconds": 1.5,
    "metric": "loss",
    "steps": 150,
    "control": {"lr1": 0.1, "lr2": 0.1, "lr3": 0.1, "lr4": 0.1},
    "params": {
        "lr1": {"default": 0.001, "help": "learning rate of run 1", "min": 0, "max": 100},
        "lr2": {"default": 0.1, "help": "learning rate of run 2", "min": 0, "max": 100},
        "lr3": {"default": 0.7, "help": "learning rate of run 3", "min": 0, "max": 100},
        "lr4": {"default": 3.0, "help": "learning rate of run 4", "min": 0, "max": 100},
        "num_hiddens": {"default": 64, "help": "units per hidden layer (2 hidden layers)",
                        "min": 2, "max": 512},
    },
}
RATES = ("lr1", "lr2", "lr3", "lr4")


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = teacher_regression(n=512, dim=8, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.MSELoss()
    runs: dict = {}
    diverged: dict = {}
    for part, key in enumerate(RATES):
        lr = p[key]
        name = f"#{part + 1} lr={lr:g}"  # the number keeps equal rates apart
        torch.manual_seed(seed)  # same initial weights for every learning rate
        net = mlp(8, p["num_hiddens"], 1, depth=2, activation="relu").to(device)
        trainer = torch.optim.SGD(net.parameters(), lr=lr)
        losses = []
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X), y)
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                diverged[name] = step
                yield Log(name, step, step, {"loss": losses[-1]}, part, len(RATES))
                break  # the run ends here: nothing is learned from inf/NaN weights
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if is_log_step(step, num_steps):
                yield Log(name, step, num_steps, {"loss": losses[-1]}, part, len(RATES))
        finite = [v for v in losses if math.isfinite(v)]
        runs[key] = {"lr": lr, "name": name, "initial_loss": losses[0], "final_loss": losses[-1],
                     "max_loss": max(finite), "min_loss": min(finite),
                     "diverged_at": diverged.get(name), "outcome": _outcome(losses)}
    outcomes = {r["outcome"] for r in runs.values()}
    return {"runs": runs, "diverged": diverged, "num_steps": num_steps,
            "effect": "converged" in outcomes and bool({"went up", "diverged"} & outcomes)}


def _outcome(losses: list[float]) -> str:
    """Classify a loss curve: diverged, went up, unchanged, barely moved, or converged."""
    if not math.isfinite(losses[-1]):
        return "diverged"
    if losses[-1] == losses[0]:
        return "unchanged"
    if max(losses) > 2 * losses[0] or losses[-1] > losses[0]:
        return "went up"
    return "barely moved" if losses[-1] > 0.5 * losses[0] else "converged"


def _describe(r: dict, num_steps: int, ko: bool) -> str:
    start, end, top = r["initial_loss"], r["final_loss"], r["max_loss"]
    drop = 1 - end / start if start else 0.0
    if r["outcome"] == "diverged":
        return (f"손실이 {top:.2g}까지 커진 뒤 {r['diverged_at']}스텝에서 {end}(발산)" if ko
                else f"loss grew to {top:.2g}, then hit {end} at step {r['diverged_at']}")
    if r["outcome"] == "went up":
        return (f"손실이 {start:.3g}에서 최고 {top:.3g}까지 튀어 올랐고 최종 {end:.3g}" if ko
                else f"loss jumped from {start:.3g} up to {top:.3g} and ended at {end:.3g}")
    if r["outcome"] == "unchanged":
        return (f"손실이 {start:.3g}에서 전혀 변하지 않음" if ko
                else f"loss stayed at {start:.3g}, unchanged")
    barely = r["outcome"] == "barely moved"
    if ko:
        return (f"{num_steps}스텝 동안 손실 {start:.3g} → {end:.3g}({drop:.0%} 감소"
                f"{', 거의 제자리' if barely else ''})")
    return (f"loss {start:.3g} -> {end:.3g} in {num_steps} steps ({drop:.0%} lower"
            f"{', barely moved' if barely else ''})")


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    runs = sorted(n["runs"].values(), key=lambda r: r["lr"])
    count = {lr: [r["lr"] for r in runs].count(lr) for lr in {r["lr"] for r in runs}}
    text = "; ".join(f"lr={lr:g}{f' (×{count[lr]})' if count[lr] > 1 else ''}: "
                     f"{_describe(r, n['num_steps'], ko)}"
                     for lr, r in {r["lr"]: r for r in runs}.items()) + "."  # equal rates once
    moved = [r for r in runs if r["outcome"] not in ("diverged", "unchanged")]
    if not moved:
        return text + (" 손실을 낮춘 실행이 없어 가장 좋은 학습률은 없습니다." if ko
                       else " No run lowered its loss, so there is no best rate.")
    low = min(r["final_loss"] for r in moved)
    best = ", ".join(sorted({f"{r['lr']:g}" for r in moved if r["final_loss"] <= 1.01 * low},
                            key=float))
    failed = ", ".join(sorted({f"{r['lr']:g}" for r in runs
                               if r["outcome"] in ("went up", "diverged")}, key=float))
    if n["effect"]:
        cause = (f" 같은 가중치, 같은 데이터에서 학습률만 바꿨는데 lr={failed}에서는 손실이 "
                 f"튀어 오르거나 발산했습니다." if ko else f" Same weights, same data, only the "
                 f"rate differs: at lr={failed} the loss jumped up or diverged.")
    else:
        cause = (" 수렴한 실행과 실패한 실행이 함께 있지 않아, 적당한 학습률과 너무 큰 학습률의 "
                 "대비가 없습니다." if ko else " No run converged while another failed: the "
                 "good-versus-too-large contrast is absent here.")
    if ko:
        return text + f" 최종 손실이 가장 낮은 학습률: {best}." + cause
    return text + f" The lowest final loss came from lr={best}." + cause
