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
from _verdict import Statement, causal, render, trend, worst_gradient
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

    def spread(self, X) -> tuple[float, float]:
        """The signal's spread across examples (what depends on the input, not the biases'
        constant part) after the input layer and after the last block, before training."""
        with torch.no_grad():
            h = self.inp(X)
            first = h.std(dim=0).mean().item()
            for block in self.blocks:
                h = h + block(torch.relu(h)) if self.skip else block(torch.relu(h))
        return first, h.std(dim=0).mean().item()

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
        spread = net.spread(X)
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
                if step == 1:  # the signal's spread at init, after the input and the last block
                    metrics.update({"spread_in": spread[0], "spread_out": spread[1]})
                metrics.update({f"grad_norm/{i}": g for i, g in enumerate(norms, 1)})
                yield Log(name, step, num_steps, metrics, part, len(runs))
                if not math.isfinite(loss.item()):
                    break
            trainer.step()
        with torch.no_grad():
            final = loss_fn(net(X), y).item()
        numbers[name] = {"final_loss": final, "grad_norms_at_init": at_init,
                         "spread_at_init": list(spread),
                         # geometric mean of one block's factor on the spread
                         "signal_per_layer": ratio(spread[1], spread[0]) ** (1 / depth),
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


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    ds = n["depths"]
    shallow, deep, at = ds[0], ds[-1], " / ".join(map(str, ds))
    plain, res = n[f"plain-{deep}"], n[f"residual-{deep}"]
    ps, pd = n[f"plain-{shallow}"]["final_loss"], plain["final_loss"]
    rs, rd = n[f"residual-{shallow}"]["final_loss"], res["final_loss"]
    runs = [f"{kind}-{d}" for d in ds for kind in ("plain", "residual")]
    bad = [r for r in runs if not math.isfinite(n[r]["final_loss"])]
    ok, several = not bad, len(ds) > 1
    worse = pd - ps > GAP  # the deep plain net against the shallow one
    init, init_ko = (("PyTorch's default", "PyTorch 기본") if n["init"] == "default"
                     else ("He", "He"))
    factor = plain["signal_per_layer"]
    a, b = plain["spread_at_init"]
    total = ratio(b, a)
    signal = trend([a, b])
    pg, rg = plain["first_last_at_init"], res["first_last_at_init"]
    steps = f"{n['steps']} Adam step{'s' * (n['steps'] > 1)}"
    blocks = f"{deep} block{'s' * (deep > 1)}"
    return [
        Statement("losses", f"Training loss after {steps} (lr {n['lr']:g}) at "
                  f"depth {at}: plain {_losses(n, 'plain')}, residual {_losses(n, 'residual')}.",
                  f"Adam(학습률 {n['lr']:g}) {n['steps']}스텝 뒤 학습 손실(깊이 {at}): 평범한 MLP "
                  f"{_losses(n, 'plain')}, 잔차 MLP {_losses(n, 'residual')}.", True),
        Statement("diverged", f"{', '.join(bad)} ended at inf/NaN, so no losses are compared.",
                  f"{', '.join(bad)}의 손실이 inf/NaN으로 끝나 손실을 비교하지 않습니다.", not ok),
        causal("depth", ["depth", "skip"] if several else ["skip"], "degraded",
               f"At depth {deep} the plain net is more than {GAP:g} worse than at depth "
               f"{shallow} ({ps:.3f}) and than the residual net of the same depth ({rd:.3f}): at "
               f"this init, depth degrades it, and the identity skips, the only difference "
               f"between the two nets, keep it from degrading as much.",
               f"깊이 {deep}의 평범한 MLP는 깊이 {shallow}({ps:.3f})보다도, 같은 깊이의 잔차 "
               f"MLP({rd:.3f})보다도 {GAP:g} 넘게 나쁩니다: 이 초기화에서 깊이 때문에 나빠지는 "
               f"열화 문제이고, 두 망의 유일한 차이인 항등 스킵이 그만큼 나빠지지 않게 합니다.",
               ok and worse and pd - rd > GAP),
        Statement("plain-at-chance", f"The plain net at depth {deep} ends at chance (ln 2 = "
                  f"{CHANCE:.3f}).", f"깊이 {deep}의 평범한 MLP는 우연 수준(ln 2 = {CHANCE:.3f})"
                  f"에 머뭅니다.", ok and abs(pd - CHANCE) < 0.01),
        Statement("no-skip-advantage", f"At depth {deep} the plain net is more than {GAP:g} "
                  f"worse than at depth {shallow} ({ps:.3f}), but not more than {GAP:g} worse "
                  f"than the residual net of the same depth ({rd:.3f}): here the skips did not "
                  f"rescue depth.", f"깊이 {deep}의 평범한 MLP는 깊이 {shallow}({ps:.3f})보다 "
                  f"{GAP:g} 넘게 나쁘지만, 같은 깊이의 잔차 MLP({rd:.3f})보다 {GAP:g} 넘게 "
                  f"나쁘지는 않습니다: 여기서는 스킵이 깊이의 문제를 구하지 못했습니다.",
                  ok and worse and not pd - rd > GAP),
        Statement("no-degradation", f"No degradation here: the plain net at depth {deep} "
                  f"({pd:.3f}) is not more than {GAP:g} worse than at depth {shallow} "
                  f"({ps:.3f}).", f"열화는 보이지 않습니다: 깊이 {deep}의 평범한 MLP({pd:.3f})가 "
                  f"깊이 {shallow}({ps:.3f})보다 {GAP:g} 넘게 나쁘지 않습니다.",
                  ok and several and not worse),
        Statement("single-depth", f"Only depth {deep} ran, so there is no deeper net to "
                  f"degrade; the two nets end {abs(pd - rd):.3f} apart.", f"깊이 {deep} 하나뿐"
                  f"이라 비교할 깊이가 없습니다. 두 망의 차이는 {abs(pd - rd):.3f}입니다.",
                  ok and not several),
        Statement("residual-worse", f"The residual net also got worse with depth ({rs:.3f} -> "
                  f"{rd:.3f}).", f"잔차 MLP도 깊어지며 나빠졌습니다({rs:.3f} → {rd:.3f}).",
                  ok and several and rd - rs > GAP),
        Statement("gradients", f"At init the first layer's weight gradient is {pg:.1e} of the "
                  f"last layer's in the plain net and {rg:.2g} with skips.", f"학습 시작 시 첫 층 "
                  f"기울기는 마지막 층의 {pg:.1e}배(평범), {rg:.2g}배(잔차)입니다.", True),
        worst_gradient("plain-gradient-break", plain["grad_norms_at_init"],
                       "the plain net's |dL/dW| at init", "평범한 MLP의 초기 |dL/dW|"),
        worst_gradient("residual-gradient-break", res["grad_norms_at_init"],
                       "the residual net's |dL/dW| at init", "잔차 MLP의 초기 |dL/dW|"),
        Statement("signal", f"With {init} init the plain net's signal changes about "
                  f"{factor:.2g}x per layer before any training.",
                  f"이 {init_ko} 초기화에서 평범한 MLP의 신호는 학습 전 층마다 약 "
                  f"{factor:.2g}배가 됩니다.", True),
        Statement("signal-shrank", f"Over its {blocks} it shrank to {total:.1e} of its "
                  f"spread after the input layer.", f"{deep}개 블록을 지나며 입력층 직후 퍼짐의 "
                  f"{total:.1e}배로 줄었습니다.", signal == "shrank"),
        Statement("signal-level", f"Over its {blocks} it stayed within 2x of its spread "
                  f"after the input layer ({total:.2g}x).", f"{deep}개 블록을 지나도 입력층 직후 "
                  f"퍼짐의 2배 안에 머물렀습니다({total:.2g}배).", signal == "level"),
        Statement("signal-grew", f"Over its {blocks} it grew to {total:.2g}x its spread "
                  f"after the input layer.", f"{deep}개 블록을 지나며 입력층 직후 퍼짐의 "
                  f"{total:.2g}배로 커졌습니다.", signal == "grew"),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
