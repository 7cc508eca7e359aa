"""Optimizers: SGD, SGD with momentum, RMSprop and Adam, each at its own best learning rate.

One rate each would compare rates as much as optimizers, so each tries three rates (about
3x apart) and races with the one that first gets the training loss below the target (a
rate still short of it when a better rate had arrived is cut off there). Plain SGD's step
is capped by the sharpest curvature, so it crawls along flat, curved valleys; momentum
keeps moving in the consistent direction; RMSprop and Adam rescale each parameter's step.
AdamW (Loshchilov & Hutter, 2019) is about regularisation, not speed: it runs once, outside
the race, at Adam's best rate. The control removes the cause: linear regression on whitened
inputs is a quadratic with the same curvature in every direction, ideal for plain SGD.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, is_log_step, mlp, spirals
from _verdict import Statement, render
from torch import nn

META = {
    "name": "optimizers",
    "claim": "Even at its best learning rate, plain SGD needs several times the steps of "
             "momentum, RMSprop or Adam to reach a target loss on an MLP's curved landscape.",
    "claim_ko": "가장 좋은 학습률을 골라 줘도, MLP의 굽은 손실 지형에서 일반 SGD는 모멘텀, "
                "RMSprop, Adam보다 목표 손실까지 몇 배의 스텝이 필요하다.",
    "cpu_seconds": 3,
    "metric": "loss",
    "steps": 300,
    "control": {"problem": "quadratic"},
    "params": {
        "problem": {"default": "spirals", "choices": ["spirals", "quadratic"],
                    "help": "MLP on two spirals, or linear regression on whitened inputs"},
        "target_loss": {"default": 0.3, "help": "loss that counts as reached", "min": 0, "max": 1},
        "num_hiddens": {"default": 64, "help": "units per hidden layer", "min": 2, "max": 512},
    },
}
SWEEP = {  # name -> (optimizer, extra arguments, learning rates tried)
    "sgd": (torch.optim.SGD, {}, (0.3, 1.0, 3.0)),
    "momentum": (torch.optim.SGD, {"momentum": 0.9}, (0.1, 0.3, 1.0)),
    "rmsprop": (torch.optim.RMSprop, {}, (0.001, 0.003, 0.01)),
    "adam": (torch.optim.Adam, {}, (0.01, 0.03, 0.1)),
}
LABELS = {"sgd": "SGD", "momentum": "SGD+momentum", "rmsprop": "RMSprop", "adam": "Adam"}
SLOWER = 2.0  # tuned SGD must need this many times the fastest one's steps to count


def train(optimizer, extra: dict, lr: float, X, y, p: dict, num_steps: int, limit: int,
          seed: int, name: str, part: int, parts: int):
    """Update until the loss drops below the target or after ``limit`` updates; return
    (updates needed or None, last loss)."""
    torch.manual_seed(seed)  # every run starts from the same weights
    if p["problem"] == "spirals":
        net, loss_fn = mlp(2, p["num_hiddens"], 2, depth=2).to(X.device), nn.CrossEntropyLoss()
    else:
        net, loss_fn = nn.Linear(8, 1).to(X.device), nn.MSELoss()
    trainer = optimizer(net.parameters(), lr=lr, **extra)
    updates = 0
    while True:
        loss = loss_fn(net(X), y)
        value, step = loss.item(), updates + 1
        reached = value < p["target_loss"]
        done = reached or updates == limit or not math.isfinite(value)
        if done or is_log_step(step, num_steps, points=30):
            yield Log(name, step, step if done else num_steps, {"loss": value}, part, parts)
        if done:  # the race is over for this run (or it diverged)
            return (updates if reached else None), value
        trainer.zero_grad()
        loss.backward()
        trainer.step()
        updates += 1


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    if p["problem"] == "spirals":
        X, y = spirals(n=512, seed=seed)
    else:  # whitened inputs: the loss's curvature (Hessian 2 X^T X / n) is about 2 I
        g = torch.Generator().manual_seed(seed)
        X = torch.randn(512, 8, generator=g)
        y = X @ torch.randn(8, 1, generator=g)
    X, y = X.to(device), y.to(device)
    parts = sum(len(lrs) for *_, lrs in SWEEP.values()) + 1
    numbers: dict = {"target_loss": p["target_loss"], "num_steps": num_steps,
                     "problem": p["problem"]}
    part = 0
    for key, (optimizer, extra, lrs) in SWEEP.items():
        sweep, limit = {}, num_steps
        for lr in (lrs[1], lrs[0], lrs[2]):  # the middle rate first, then prune the others
            name = f"{LABELS[key]} lr={lr:g}"
            steps, loss = yield from train(optimizer, extra, lr, X, y, p, num_steps, limit,
                                           seed, name, part, parts)
            # A run cut off at another rate's count cannot be the best: it was "slower".
            sweep[f"{lr:g}"] = {"lr": lr, "steps": steps, "loss": loss,
                                "slower_than": limit if limit < num_steps else None}
            limit = min(limit, num_steps if steps is None else steps)
            part += 1
        sweep = dict(sorted(sweep.items(), key=lambda item: item[1]["lr"]))
        best = min(sweep.values(), key=_rank)
        numbers[key] = {"sweep": sweep, "best_lr": best["lr"], "steps": best["steps"],
                        "loss": best["loss"]}
    lr = numbers["adam"]["best_lr"]
    steps, loss = yield from train(torch.optim.AdamW, {"weight_decay": 0.01}, lr, X, y, p,
                                   num_steps, num_steps, seed, f"AdamW lr={lr:g}", part, parts)
    numbers["adamw"] = {"best_lr": lr, "steps": steps, "loss": loss}
    sgd = _rank(numbers["sgd"])[0]
    fastest = min(_rank(numbers[k])[0] for k in ("momentum", "rmsprop", "adam"))
    numbers["effect"] = fastest < math.inf and sgd >= SLOWER * max(1, fastest)
    return numbers


def _rank(r: dict) -> tuple[float, float]:
    """Fewest steps to the target first; among runs that never got there, the lowest loss."""
    return (math.inf if r["steps"] is None else r["steps"],
            r["loss"] if math.isfinite(r["loss"]) else math.inf)


def _reached(r: dict, budget: int, ko: bool) -> str:
    if r["steps"] is not None:
        return f"{r['steps']}"
    if r.get("slower_than") and math.isfinite(r["loss"]):
        return f"{r['slower_than']}보다 느림" if ko else f"slower than {r['slower_than']}"
    if math.isfinite(r["loss"]):
        return f"{budget}스텝 내 미도달" if ko else f"not within {budget}"
    return "발산" if ko else "diverged"


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    budget = n["num_steps"]
    tried = ["; ".join(f"{LABELS[k]} " + ", ".join(f"lr {r['lr']:g}: {_reached(r, budget, ko)}"
                                                  for r in n[k]["sweep"].values())
                       for k in SWEEP) for ko in (False, True)]
    where = {"spirals": ("MLP on two spirals", "두 나선 MLP"),
             "quadratic": ("linear regression, whitened inputs", "백색화 입력의 선형 회귀")}
    en, ko = where[n["problem"]]
    reached = [n[k]["steps"] for k in SWEEP if n[k]["steps"] is not None]
    best = min(reached, default=0)
    first = " = ".join(LABELS[k] for k in SWEEP if n[k]["steps"] == best)  # ties share it
    sgd = n["sgd"]["steps"]
    ratio = (budget if sgd is None else sgd) / max(1, best)
    bound = ("at least ", " 이상") if sgd is None else ("", "")
    a, w = n["adam"], n["adamw"]
    same = (a["steps"] is None) == (w["steps"] is None) and abs(
        (a["steps"] or 0) - (w["steps"] or 0)) <= max(2, 0.1 * (a["steps"] or 0))
    decay = w["best_lr"] * 0.01
    adamw = (f"Outside the race, AdamW (weight decay 0.01, Adam's lr {w['best_lr']:g}), steps "
             f"to the target: AdamW {_reached(w, budget, False)}, Adam "
             f"{_reached(a, budget, False)}", f"경주 밖의 AdamW(가중치 감쇠 0.01, Adam의 학습률 "
             f"{w['best_lr']:g}), 목표까지 스텝: AdamW {_reached(w, budget, True)}, Adam "
             f"{_reached(a, budget, True)}")
    return [
        Statement("tried", f"{en}, steps to loss {n['target_loss']:g}: {tried[0]}.",
                  f"{ko}, 손실 {n['target_loss']:g}까지 걸린 스텝: {tried[1]}.", True),
        Statement("none-reached", "No optimizer reached the target at any learning rate tried.",
                  "어떤 옵티마이저도 어느 학습률에서도 목표에 도달하지 못했습니다.", not reached),
        Statement("fastest", f"At each one's best rate the fastest was {first} "
                  f"({best} step{'s' * (best != 1)}).",
                  f"각자 최적 학습률에서 가장 빠른 것은 {first}({best}스텝)입니다.",
                  bool(reached)),
        Statement("sgd-slower", f"Plain SGD, at the best of its three rates, needed "
                  f"{bound[0]}{ratio:.1f}x as many ({SLOWER:g}x or more).", f"일반 SGD는 세 "
                  f"학습률 중 최적에서도 그 {ratio:.1f}배{bound[1]}({SLOWER:g}배 이상)의 스텝이 "
                  f"필요했습니다.", bool(n["effect"])),
        Statement("sgd-fastest", "Plain SGD was itself the fastest, so no optimizer advantage "
                  "here.", "일반 SGD가 바로 가장 빨라 옵티마이저의 이점이 없습니다.",
                  bool(reached) and sgd == best),
        Statement("sgd-within", f"Plain SGD ({_reached(n['sgd'], budget, False)}) stayed within "
                  f"{SLOWER:g}x, so no optimizer advantage here.", f"일반 SGD"
                  f"({_reached(n['sgd'], budget, True)})는 {SLOWER:g}배 안에 들어 옵티마이저의 "
                  f"이점이 없습니다.", bool(reached) and sgd != best and not n["effect"]),
        Statement("adamw-same", f"{adamw[0]}, about the same.", f"{adamw[1]}로 비슷합니다.", same),
        Statement("adamw-different", f"{adamw[0]}, different.", f"{adamw[1]}로 다릅니다.",
                  not same),
        Statement("adamw-decay", f"AdamW shrinks each weight by only {decay:.2g} of itself per "
                  f"step: its point is regularisation, not speed.", f"AdamW는 한 스텝에 가중치를 "
                  f"{decay:.2g}만큼만 줄이니, 목적은 속도가 아니라 규제입니다.", True),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
