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
from _verdict import Statement, causal, render, shrank, spiked
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
    # every outcome _outcome can return: a card's choices must offer them all
    "measures": {"runs.*.outcome": ["converged", "barely moved", "unchanged", "rose", "went up",
                                    "diverged"]},
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
        losses: list[float] = []
        peak = -math.inf  # the highest finite loss so far: "spiked" looks at the whole run
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X), y)
            losses.append(loss.item())
            if math.isfinite(losses[-1]):
                peak = max(peak, losses[-1])
            else:
                diverged[name] = step
                yield Log(name, step, step, {"loss": losses[-1], "peak": peak}, part, len(RATES))
                break  # the run ends here: nothing is learned from inf/NaN weights
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if is_log_step(step, num_steps):
                yield Log(name, step, num_steps, {"loss": losses[-1], "peak": peak}, part,
                          len(RATES))
        finite = [v for v in losses if math.isfinite(v)]
        runs[key] = {"lr": lr, "name": name, "initial_loss": losses[0], "final_loss": losses[-1],
                     "max_loss": max(finite), "min_loss": min(finite),
                     "diverged_at": diverged.get(name), "outcome": _outcome(losses)}
    outcomes = {r["outcome"] for r in runs.values()}
    return {"runs": runs, "diverged": diverged, "num_steps": num_steps,
            "effect": "converged" in outcomes and bool(set(FAILED) & outcomes)}


def _outcome(losses: list[float]) -> str:
    """Classify a loss curve: diverged, jumped up (spiked anywhere in the run), rose,
    unchanged, barely moved (did not shrink to half), or converged (shrank below half)."""
    if not math.isfinite(losses[-1]):
        return "diverged"
    if losses[-1] == losses[0]:
        return "unchanged"
    if spiked(losses):
        return "went up"
    if losses[-1] > losses[0]:
        return "rose"
    return "converged" if shrank(losses[0], losses[-1]) else "barely moved"


FAILED = ("went up", "rose", "diverged")


def _describe(r: dict, num_steps: int) -> dict[str, tuple[str, str]]:
    """The sentence for each outcome of one run, (en, ko) with the same numbers."""
    start, end, top = r["initial_loss"], r["final_loss"], r["max_loss"]
    drop = 1 - end / start if start else 0.0
    return {
        "diverged": (f"loss grew to {top:.2g}, then hit {end} at step {r['diverged_at']}",
                     f"손실이 {top:.2g}까지 커진 뒤 {r['diverged_at']}스텝에서 {end}(발산)"),
        "went up": (f"loss jumped from {start:.3g} up to {top:.3g} and ended at {end:.3g}",
                    f"손실이 {start:.3g}에서 최고 {top:.3g}까지 튀어 올랐고 최종 {end:.3g}"),
        "rose": (f"loss rose from {start:.3g} to {end:.3g} in {num_steps} steps",
                 f"{num_steps}스텝 동안 손실이 {start:.3g}에서 {end:.3g}로 올라감"),
        "unchanged": (f"loss stayed at {start:.3g}, unchanged",
                      f"손실이 {start:.3g}에서 전혀 변하지 않음"),
        "barely moved": (f"loss {start:.3g} -> {end:.3g} in {num_steps} steps ({drop:.0%} "
                         f"lower, barely moved: not below half)", f"{num_steps}스텝 동안 손실 "
                         f"{start:.3g} → {end:.3g}({drop:.0%} 감소, 절반 아래로 못 내려가 거의 "
                         f"제자리)"),
        "converged": (f"loss {start:.3g} -> {end:.3g} in {num_steps} steps ({drop:.0%} lower)",
                      f"{num_steps}스텝 동안 손실 {start:.3g} → {end:.3g}({drop:.0%} 감소)"),
    }


OUTCOMES = {"diverged": "diverged", "went up": "jumped", "rose": "rose",
            "unchanged": "unchanged", "barely moved": "barely", "converged": "fell"}


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    keys = sorted(RATES, key=lambda k: n["runs"][k]["lr"])  # stable: equal rates keep order
    lrs = [n["runs"][k]["lr"] for k in keys]
    said: list[Statement] = []
    for k in keys:
        r = n["runs"][k]
        times = lrs.count(r["lr"])
        label = f"lr={r['lr']:g}{f' (×{times})' if times > 1 else ''}: "
        first_of_rate = keys[lrs.index(r["lr"])] == k  # equal rates end alike: say it once
        for outcome, (en, ko) in _describe(r, n["num_steps"]).items():
            said.append(Statement(f"{k}-{OUTCOMES[outcome]}", f"{label}{en}.", f"{label}{ko}.",
                                  first_of_rate and r["outcome"] == outcome))
    runs = [n["runs"][k] for k in keys]
    moved = any(r["outcome"] not in ("diverged", "unchanged") for r in runs)
    finite = [r for r in runs if r["outcome"] != "diverged"]
    low = min((r["final_loss"] for r in finite), default=math.inf)
    best = ", ".join(sorted({f"{r['lr']:g}" for r in finite if r["final_loss"] <= 1.01 * low},
                            key=float))
    failed = ", ".join(sorted({f"{r['lr']:g}" for r in runs if r["outcome"] in FAILED},
                              key=float))
    fell = ", ".join(sorted({f"{r['lr']:g}" for r in runs if r["outcome"] == "converged"},
                            key=float))
    effect = bool(fell) and bool(failed)
    return [
        *said,
        Statement("no-best", "No run lowered its loss, so there is no best rate.",
                  "손실을 낮춘 실행이 없어 가장 좋은 학습률은 없습니다.", not moved),
        Statement("best", f"The lowest final loss came from lr={best}.",
                  f"최종 손실이 가장 낮은 학습률: {best}.", moved),
        causal("learning rate", ["learning rate"] if len(set(lrs)) > 1 else [], "contrast",
               f"Same weights, same data, only the rate differs: at lr={failed} the loss "
               f"jumped up, rose or diverged, while at lr={fell} it fell below half.",
               f"같은 가중치, 같은 데이터에서 학습률만 바꿨는데 lr={failed}에서는 손실이 튀어 "
               f"오르거나 올라가거나 발산했고, lr={fell}에서는 절반 아래로 내려갔습니다.",
               effect),
        Statement("no-contrast", "No run converged while another failed: the "
                  "good-versus-too-large contrast is absent here.", "수렴한 실행과 실패한 "
                  "실행이 함께 있지 않아, 적당한 학습률과 너무 큰 학습률의 대비가 없습니다.",
                  not effect),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
