"""Weight initialisation: zero, constant, small normal, Xavier and He on deep tanh and ReLU nets.

Two things go wrong with a bad start. If every weight of a layer is equal (zero or any
constant), every unit computes the same function and receives the same gradient, so the
units stay copies of each other for ever: the symmetry is never broken. If the weights are
random but too small, each layer shrinks the signal and the activations fade to nothing a
few layers in. Xavier (std sqrt(2 / (fan_in + fan_out))) keeps tanh's activations at a
steady scale, He (std sqrt(2 / fan_in)) does the same for ReLU, which zeroes half its input.
Xavier on a ReLU net halves the signal's variance at every layer, so its std shrinks by
about 1/sqrt(2) per layer: He et al. (2015)'s reason for the factor 2.
The control adds a little random jitter to the zero/constant inits (it breaks the
symmetry) and uses a small-normal std of the right order (no vanishing).
"""

from __future__ import annotations

import math

import torch
from _kit import Log, activation_stats, init_weights, is_log_step, linears, mlp, ratio, spirals
from _verdict import LEVEL, Statement, about_level, lowest, render, trend
from torch import nn

META = {
    "name": "weight-init",
    "claim": "Zero or constant init leaves every hidden unit identical for ever, small random "
             "init makes activations vanish layer by layer, and Xavier/He keep their scale.",
    "claim_ko": "0이나 상수로 초기화하면 은닉 유닛이 끝까지 모두 똑같고, 너무 작은 난수로 "
                "초기화하면 층을 지날수록 활성값이 사라지며, Xavier/He는 크기를 유지한다.",
    "cpu_seconds": 2.5,
    "metric": "loss",
    "steps": 100,
    "control": {"std": 0.2, "jitter": 0.01},
    "layers": {"prefix": "act_std/", "label": "activation std per hidden layer (input first)",
               "label_ko": "은닉층별 활성값 표준편차 (입력 쪽부터)", "verdict": "init"},
    "params": {
        "depth": {"default": 8, "help": "hidden layers", "min": 2, "max": 30},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
        "lr": {"default": 0.01, "help": "Adam learning rate", "min": 0, "max": 1},
        "value": {"default": 0.05, "help": "weight of the constant init", "min": -1, "max": 1},
        "std": {"default": 0.01, "help": "std of the small normal init", "min": 0, "max": 1},
        "jitter": {"default": 0.0, "help": "std of random noise added to the zero and "
                   "constant inits (breaks the symmetry)", "min": 0, "max": 1},
    },
}

SCHEMES = ["zero", "constant", "normal", "xavier", "he"]
SYMMETRIC = ("zero", "constant")
NETS = ["tanh", "relu"]
IDENTICAL = 1e-6  # largest relative difference between units that counts as "the same"
VANISHED = 1e-2  # last layer's std below this fraction of the first layer's
ROOT_HALF = 2 ** -0.5  # He et al. (2015): Xavier on ReLU keeps half the variance per layer
NEAR = 0.1  # a per-layer factor within this of 1/sqrt(2) is "about 1/sqrt(2)"


def layer_stds(net: nn.Sequential, X: torch.Tensor) -> list[float]:
    with torch.no_grad():
        return [h.std().item() for h in activation_stats(net, X)]


def _metrics(loss: float, net: nn.Sequential, X: torch.Tensor) -> dict[str, float]:
    return {"loss": loss, **{f"act_std/{k + 1}": v for k, v in enumerate(layer_stds(net, X))}}


def unit_spread(net: nn.Sequential, X: torch.Tensor) -> float:
    """Largest difference between any hidden unit and the first unit of its layer, relative
    to the layer's largest activation: 0 means all units compute the same thing."""
    with torch.no_grad():
        spreads = [((h - h[:, :1]).abs().max() / (h.abs().max() + 1e-12)).item()
                   for h in activation_stats(net, X)]
    return max(spreads)


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=256, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    numbers: dict = {"depth": p["depth"], "num_hiddens": p["num_hiddens"], "std": p["std"],
                     "jitter": p["jitter"], "lr": p["lr"], "steps": num_steps}
    parts = len(NETS) * len(SCHEMES)
    for i, activation in enumerate(NETS):
        numbers[activation] = {}
        for j, scheme in enumerate(SCHEMES):
            name = f"{activation}/{scheme}"
            torch.manual_seed(seed)
            net = mlp(2, p["num_hiddens"], 2, p["depth"], activation).to(device)
            init_weights(net, scheme, value=p["value"], std=p["std"])
            if scheme in SYMMETRIC and p["jitter"] > 0:
                with torch.no_grad():
                    for layer in linears(net):
                        layer.weight.add_(p["jitter"] * torch.randn_like(layer.weight))
            stds = layer_stds(net, X)
            trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
            for step in range(1, num_steps + 1):
                loss = loss_fn(net(X), y)
                trainer.zero_grad()
                loss.backward()
                # 10 runs: keep the log light; measured before this step's update
                if is_log_step(step, num_steps, points=25) and step < num_steps:
                    yield Log(name, step, num_steps, _metrics(loss.item(), net, X),
                              i * len(SCHEMES) + j, parts)
                trainer.step()
            with torch.no_grad():
                final_loss = loss_fn(net(X), y).item()
            numbers[activation][scheme] = {"activation_std_at_init": stds, "final_loss": final_loss,
                                           "unit_spread": unit_spread(net, X)}
            # The last record is the trained net: the loss the verdict quotes.
            yield Log(name, num_steps, num_steps, _metrics(final_loss, net, X),
                      i * len(SCHEMES) + j, parts)
    same = [f"{a}/{s}" for a in NETS for s in SYMMETRIC
            if numbers[a][s]["unit_spread"] < IDENTICAL]
    numbers["identical"] = same
    # Vanished: the signal fell 100-fold from a non-zero first layer (std 0 has none to lose).
    numbers["vanished"] = [a for a in NETS if numbers[a]["normal"]["activation_std_at_init"][0]
                           and _shrink(numbers[a]["normal"]) < VANISHED]
    # He et al. (2015): Xavier on ReLU keeps only half the variance per layer.
    numbers["xavier_relu_per_layer"] = _shrink(numbers["relu"]["xavier"]) ** (
        1 / max(1, p["depth"] - 1))
    # "Identical for ever" is a claim about training: with lr 0 it is not tested.
    numbers["effect"] = (p["lr"] > 0 and len(same) == 2 * len(SYMMETRIC)
                         and len(numbers["vanished"]) == 2)
    return numbers


def _shrink(r: dict) -> float:
    stds = r["activation_std_at_init"]
    return ratio(stds[-1], stds[0])


def _small(n: dict, a: str) -> list[Statement]:
    """How the small normal init's activation std changed from layer 1 to the last."""
    stds, depth = n[a]["normal"]["activation_std_at_init"], n["depth"]
    ends = (f"from {stds[0]:.2g} in layer 1 to {stds[-1]:.1e} in layer {depth}",
            f"1층 {stds[0]:.2g}에서 {depth}층 {stds[-1]:.1e}로")
    words = {"shrank": ("shrank", "줄었습니다"), "grew": ("grew", "커졌습니다"),
             "level": (f"stayed about level (within {LEVEL:g}x)",
                       f"거의 그대로였습니다({LEVEL:g}배 이내)"),
             "uneven": ("varied without a steady trend", "일정한 경향 없이 달라졌습니다")}
    head = (f"Small normal (weight std {n['std']:g}, at init): {a} activation std",
            f"작은 정규분포(가중치 std {n['std']:g}, 초기화 시점): {a} 활성값 표준편차가")
    zero = not any(stds)  # std 0: every weight 0, no signal at all, so no trend either
    return [Statement(f"{a}-small-{k}", f"{head[0]} {en} {ends[0]}.", f"{head[1]} {ends[1]} "
                      f"{ko}.", trend(stds) == k and not zero) for k, (en, ko) in words.items()] + [
        Statement(f"{a}-small-zero", f"{head[0]} is 0 in every layer: no signal at all.",
                  f"{head[1]} 모든 층에서 0입니다: 신호가 전혀 없습니다.", zero)]


def _keeps(n: dict, a: str, s: str, label: str) -> list[Statement]:
    """Whether the init made for this activation keeps its std about level over every layer."""
    stds = n[a][s]["activation_std_at_init"]
    span = f"{min(stds):.2g}-{max(stds):.2g}"
    return [Statement(f"{s}-kept", f"{label} keeps {a}'s std about level over all {n['depth']} "
                      f"layers (within {LEVEL:g}x: {span}).", f"{label}는 {a}의 표준편차를 "
                      f"{n['depth']}개 층 모두에서 거의 그대로 유지합니다({LEVEL:g}배 이내: "
                      f"{span}).", about_level(stds)),
            Statement(f"{s}-not-kept", f"{label} does not keep {a}'s std about level over "
                      f"{n['depth']} layers: it spans {span}, more than {LEVEL:g}x.",
                      f"{label}는 {n['depth']}개 층에서 {a}의 표준편차를 거의 그대로 유지하지 "
                      f"못합니다: {span}로 {LEVEL:g}배 넘게 벌어집니다.", not about_level(stds))]


def _missing(n: dict) -> list[Statement]:
    """Whether both failures appeared and, if not, which part did not."""
    kept = [a for a in NETS if a not in n["vanished"]]
    spreads = {f"{a}/{s}": n[a][s]["unit_spread"] for a in NETS for s in SYMMETRIC}
    # inf activations leave no measurable spread (NaN): neither identical nor broken
    overflow = ", ".join(k for k, v in spreads.items() if not math.isfinite(v))
    broken = sum(v >= IDENTICAL for v in spreads.values() if math.isfinite(v))
    return [
        Statement("both-failures", "Both failures appeared: unbroken symmetry and a vanishing "
                  "signal.", "두 실패(대칭이 깨지지 않음, 작은 초기화에서 신호 소멸)가 모두 "
                  "나타났습니다.", n["effect"]),
        Statement("no-effect", "The effect did not appear.", "효과가 나타나지 않았습니다.",
                  not n["effect"]),
        Statement("untrained", "Nothing was trained (lr 0).", "학습률 0이라 학습이 없었습니다.",
                  n["lr"] == 0),
        Statement("symmetry-broken", f"The symmetry was broken in {broken} of "
                  f"{2 * len(SYMMETRIC)} zero (0)/constant runs.", f"0/상수 초기화 "
                  f"{2 * len(SYMMETRIC)}개 중 {broken}개에서 대칭이 깨졌습니다.", broken > 0),
        Statement("overflowed", f"In {overflow} the activations overflowed (inf/NaN), so "
                  f"whether their units stayed identical cannot be measured.", f"{overflow}에서는 "
                  f"활성값이 넘쳐(inf/NaN) 유닛이 같은지 잴 수 없습니다.", bool(overflow)),
        Statement("no-vanish", f"The signal did not vanish 100-fold in {'/'.join(kept)}.",
                  f"{'/'.join(kept)}에서 신호가 100배 넘게 줄어 사라지지는 않았습니다.",
                  bool(kept)),
    ]


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    t, r, same = n["tanh"], n["relu"], len(n["identical"])
    worst = max([n[a][s]["unit_spread"] for a in NETS for s in SYMMETRIC
                 if math.isfinite(n[a][s]["unit_spread"])] or [0.0])
    per, last = n["xavier_relu_per_layer"], _shrink(r["xavier"])
    jit = (f" plus jitter {n['jitter']:g}", f" + 지터 {n['jitter']:g}") if n["jitter"] > 0 \
        else ("", "")

    def losses(s: str) -> str:
        return f"{t[s]['final_loss']:.3f}/{r[s]['final_loss']:.3f}"

    def best(a: str, ko: bool) -> str:  # ties: within 0.005 of the lowest finite loss
        names, low = lowest({s: n[a][s]["final_loss"] for s in SCHEMES}, 0.005)
        if not names:
            return f"{a} 없음(모두 inf/NaN)" if ko else f"{a} none (all inf/NaN)"
        tie = ("(동률)" if ko else " (tied)") if len(names) > 1 else ""
        return f"{a} {'/'.join(names)}{tie} {low:.3f}"

    final = (f"final loss (tanh/ReLU) zero {losses('zero')}, constant {losses('constant')}",
             f"최종 손실(tanh/ReLU)은 0 초기화 {losses('zero')}, 상수 초기화 "
             f"{losses('constant')}입니다")
    xavier = (f"Xavier on ReLU multiplies the std by {per:.2f} per layer, leaving layer "
              f"{n['depth']} at {last:.2g} of layer 1's", f"ReLU에 Xavier를 쓰면 표준편차가 "
              f"층마다 {per:.2f}배가 되어 {n['depth']}층에서는 1층의 {last:.2g}배입니다")
    near = abs(per - ROOT_HALF) <= NEAR
    finite = any(math.isfinite(n[a][s]["final_loss"]) for a in NETS for s in SCHEMES)
    return [
        Statement("symmetric-trained", f"Zero (0)/constant init{jit[0]}: in {same} of 4 runs "
                  f"every hidden unit is still identical after training (largest relative "
                  f"difference {worst:.1e}); {final[0]}.", f"0/상수 초기화{jit[1]}: 4개 설정 중 "
                  f"{same}개에서 학습 후에도 모든 은닉 유닛이 같습니다(최대 상대 차이 "
                  f"{worst:.1e}). {final[1]}.", n["lr"] > 0),
        Statement("symmetric-untrained", f"Zero (0)/constant init{jit[0]}: in {same} of 4 runs "
                  f"every hidden unit is still identical with lr 0 (nothing trained in "
                  f"{n['steps']} steps, so not a test of training; largest relative difference "
                  f"{worst:.1e}); {final[0]}.", f"0/상수 초기화{jit[1]}: 4개 설정 중 {same}개에서 "
                  f"학습률 0이라 {n['steps']}스텝 동안 아무것도 학습하지 않았으니 초기화 그대로 "
                  f"모든 은닉 유닛이 같습니다(최대 상대 차이 {worst:.1e}). {final[1]}.",
                  n["lr"] == 0),
        *_small(n, "tanh"),
        *_small(n, "relu"),
        *_keeps(n, "tanh", "xavier", "Xavier"),
        *_keeps(n, "relu", "he", "He"),
        Statement("xavier-relu-halves", f"{xavier[0]}: about 1/√2 ≈ 0.71, as He et al. (2015) "
                  f"predict (half the variance per layer).", f"{xavier[1]}. He 등(2015)의 예측"
                  f"(층마다 분산이 절반)대로 약 1/√2 ≈ 0.71입니다.", near),
        Statement("xavier-relu-other", f"{xavier[0]}: not the 1/√2 ≈ 0.71 that He et al. (2015) "
                  f"derive for wide layers (half the variance per layer).", f"{xavier[1]}. He "
                  f"등(2015)이 넓은 층에서 유도한 1/√2 ≈ 0.71(층마다 분산 절반)과 다릅니다.",
                  not near),
        Statement("best", f"Lowest final loss: {best('tanh', False)}, {best('relu', False)}.",
                  f"최종 손실이 가장 낮은 초기화: {best('tanh', True)}, {best('relu', True)}.",
                  finite),
        Statement("no-finite", "Every run's final loss is inf/NaN: no init has a lowest loss.",
                  "모든 실행의 최종 손실이 inf/NaN이라 가장 낮은 초기화가 없습니다.", not finite),
        *_missing(n),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
