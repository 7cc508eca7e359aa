"""Residual connections: a deep plain MLP stops training, the same MLP with identity skips
does not (He et al. 2016, "Deep Residual Learning for Image Recognition", CVPR).

Both nets have the same layers and the same initial weights (PyTorch's default init); the
only difference is the skip. Plain block: h <- W relu(h) + b. Residual block (pre-activation,
He et al. 2016b): h <- h + W relu(h) + b. In the plain net the backward pass multiplies by
every layer's Jacobian, so through 20 layers the gradient reaching the first layer all but
vanishes and the training loss stays at chance. The residual block's Jacobian is
I + dF/dh: the identity carries the gradient back unchanged, whatever the branch does.

He et al. saw the plain net's training error *rise* with depth even with BatchNorm (the
degradation problem); here the depths are 2, a third of `depth`, and `depth`.

The condition matters: PyTorch's default Linear init shrinks the plain net's signal by
about 0.4x per layer, so at depth 20 the forward signal (and the gradient) is gone before
training starts. `--set init=he` (Kaiming normal for ReLU) keeps the signal's size, and the
plain 20-layer net then trains. The verdict reports the measured per-layer factor with the
init it used, and says so when the residual net also got worse with depth.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, is_log_step, ratio, spirals
from torch import nn

META = {
    "name": "residual",
    "claim": "A plain MLP's training loss gets worse with depth (at 20 layers it does not "
             "train at all), while the same MLP with identity skip connections still trains.",
    "claim_ko": "평범한 MLP는 깊어질수록 학습 손실이 나빠지지만(20층에서는 아예 학습되지 않음), "
                "같은 MLP에 항등 스킵 연결을 더하면 여전히 학습된다.",
    "cpu_seconds": 2.5,
    "metric": "loss",
    "steps": 120,
    "params": {
        "depth": {"default": 20, "help": "deepest hidden-layer count (also runs 2 and depth/3)",
                  "min": 1, "max": 64},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
        "lr": {"default": 0.005, "help": "Adam learning rate", "min": 0, "max": 1},
        "init": {"default": "default", "choices": ["default", "he"],
                 "help": "default: PyTorch's Linear init (shrinks the plain net's signal about "
                 "0.4x per layer); he: Kaiming normal for ReLU (keeps its size)"},
    },
    "control": {"depth": 2},
    "layers": {"prefix": "grad_norm/", "label": "weight-gradient norm per layer (input first)",
               "label_ko": "층별 가중치 기울기 노름(입력 쪽부터)",
               "verdict": "init"},
}

CHANCE = math.log(2)  # cross-entropy of a 50/50 guess on two classes
GAP = 0.1  # loss difference that counts as a real one (seed noise is about 0.05)


class Net(nn.Module):
    def __init__(self, num_hiddens: int, depth: int, skip: bool, init: str = "default"):
        super().__init__()
        self.inp = nn.Linear(2, num_hiddens)
        self.blocks = nn.ModuleList(nn.Linear(num_hiddens, num_hiddens) for _ in range(depth))
        self.out = nn.Linear(num_hiddens, 2)
        self.skip = skip
        if init == "he":
            for layer in [self.inp, *self.blocks, self.out]:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)

    def signal_per_layer(self, X) -> float:
        """Geometric-mean factor by which one block scales the signal before training: the
        spread across examples (what depends on the input), not the biases' constant part."""
        with torch.no_grad():
            h = self.inp(X)
            first = h.std(dim=0).mean().item()
            for block in self.blocks:
                h = h + block(torch.relu(h)) if self.skip else block(torch.relu(h))
            last = h.std(dim=0).mean().item()
        return ratio(last, first) ** (1 / max(1, len(self.blocks)))

    def forward(self, X):
        h = self.inp(X)
        for block in self.blocks:
            h = h + block(torch.relu(h)) if self.skip else block(torch.relu(h))
        return self.out(torch.relu(h))


def depths(deepest: int) -> list[int]:
    return sorted({min(2, deepest), max(1, deepest // 3), deepest})


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=128, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    runs = [(d, skip) for d in depths(p["depth"]) for skip in (False, True)]
    numbers: dict = {"depths": depths(p["depth"]), "lr": p["lr"], "steps": num_steps,
                     "init": p["init"]}
    for part, (depth, skip) in enumerate(runs):
        name = f"{'residual' if skip else 'plain'}-{depth}"
        torch.manual_seed(seed)  # the same weights with and without the skips
        net = Net(p["num_hiddens"], depth, skip, p["init"]).to(device)
        signal = net.signal_per_layer(X)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"],
                                   fused=device.type in ("cpu", "cuda"))
        at_init: list[float] = []
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X), y)
            trainer.zero_grad()
            loss.backward()
            if step == 1 or is_log_step(step, num_steps, points=25):
                norms = [m.weight.grad.norm().item()
                         for m in [net.inp, *net.blocks, net.out]]
                at_init = at_init or norms
                metrics = {"loss": loss.item(), "first/last": ratio(norms[0], norms[-1])}
                metrics.update({f"grad_norm/{i}": g for i, g in enumerate(norms, 1)})
                yield Log(name, step, num_steps, metrics, part, len(runs))
                if not math.isfinite(loss.item()):
                    break
            trainer.step()
        with torch.no_grad():
            final = loss_fn(net(X), y).item()
        numbers[name] = {"final_loss": final, "grad_norms_at_init": at_init,
                         "signal_per_layer": signal,
                         "first_last_at_init": ratio(at_init[0], at_init[-1])}
    shallow, deep = numbers["depths"][0], numbers["depths"][-1]
    ps, pd = numbers[f"plain-{shallow}"]["final_loss"], numbers[f"plain-{deep}"]["final_loss"]
    rd = numbers[f"residual-{deep}"]["final_loss"]
    # Degradation: the deep plain net trains worse than the shallow one and than the
    # residual net of the same depth (NaN compares False: a diverged run proves nothing).
    numbers["effect"] = bool(pd - ps > GAP and pd - rd > GAP)
    return numbers


def _losses(n: dict, kind: str) -> str:
    return " / ".join(f"{n[f'{kind}-{d}']['final_loss']:.3f}" for d in n["depths"])


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    ds = n["depths"]
    shallow, deep = ds[0], ds[-1]
    at = " / ".join(map(str, ds))
    plain, res = n[f"plain-{deep}"], n[f"residual-{deep}"]
    ps, pd, rd = n[f"plain-{shallow}"]["final_loss"], plain["final_loss"], res["final_loss"]
    head = (f"Adam(학습률 {n['lr']:g}) {n['steps']}스텝 뒤 학습 손실(깊이 {at}): 평범한 MLP "
            f"{_losses(n, 'plain')}, 잔차 MLP {_losses(n, 'residual')}. " if ko else
            f"Training loss after {n['steps']} Adam steps (lr {n['lr']:g}) at depth {at}: plain "
            f"{_losses(n, 'plain')}, residual {_losses(n, 'residual')}. ")
    grads = (f"학습 시작 시 첫 층 기울기는 마지막 층의 {plain['first_last_at_init']:.1e}배(평범), "
             f"{res['first_last_at_init']:.2g}배(잔차)입니다" if ko else
             f"At init the first layer's weight gradient is {plain['first_last_at_init']:.1e} of "
             f"the last layer's in the plain net and {res['first_last_at_init']:.2g} with skips")
    stuck = abs(pd - CHANCE) < 0.01
    rs = n[f"residual-{shallow}"]["final_loss"]
    init = ("PyTorch 기본" if n["init"] == "default" else "He") if ko else (
        "PyTorch's default" if n["init"] == "default" else "He")
    factor = plain["signal_per_layer"]
    grads += (f". 이 {init} 초기화에서 평범한 MLP의 신호는 학습 전 층마다 약 {factor:.2g}배가 "
              f"됩니다" if ko else f". With {init} init the plain net's signal changes about "
              f"{factor:.2g}x per layer before any training")
    if len(ds) > 1 and rd - rs > GAP:
        grads += (f". 잔차 MLP도 깊어지며 나빠졌습니다({rs:.3f} → {rd:.3f})" if ko else
                  f". The residual net also got worse with depth ({rs:.3f} -> {rd:.3f})")
    if n["effect"]:
        if ko:
            state = f"우연 수준(ln 2 = {CHANCE:.3f})에 멈췄고" if stuck else f"{pd:.3f}에 그쳤고"
            return head + (f"깊이 {deep}의 평범한 MLP는 {state}, 얕은 것({ps:.3f})보다 나쁩니다: "
                           f"이 초기화에서 깊이 때문에 나빠지는 열화 문제입니다. 같은 깊이의 잔차 "
                           f"MLP는 {rd:.3f}까지 내려갑니다. {grads}.")
        state = f"stuck at chance (ln 2 = {CHANCE:.3f})" if stuck else f"only at {pd:.3f}"
        return head + (f"At depth {deep} the plain net is {state}, worse than at depth {shallow} "
                       f"({ps:.3f}): at this init, depth degrades it. The residual net of the "
                       f"same depth gets down to {rd:.3f}. {grads}.")
    if len(ds) == 1:
        if ko:
            return head + (f"깊이 {deep} 하나뿐이라 비교할 깊이가 없습니다. 두 망의 차이는 "
                           f"{abs(pd - rd):.3f}입니다. {grads}.")
        return head + (f"Only depth {deep} ran, so there is no deeper net to degrade; the two "
                       f"nets end {abs(pd - rd):.3f} apart. {grads}.")
    if ko:
        return head + (f"열화는 보이지 않습니다: 깊이 {deep}의 평범한 MLP({pd:.3f})가 얕은 것"
                       f"({ps:.3f})이나 잔차 MLP({rd:.3f})보다 {GAP:g} 넘게 나쁘지 않습니다. "
                       f"{grads}.")
    return head + (f"No degradation here: the plain net at depth {deep} ({pd:.3f}) is not more "
                   f"than {GAP:g} worse than at depth {shallow} ({ps:.3f}) and than the residual "
                   f"net ({rd:.3f}). {grads}.")
