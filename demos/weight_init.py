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

import torch
from _kit import Log, activation_stats, init_weights, is_log_step, linears, mlp, ratio, spirals
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
               "label_ko": "은닉층별 활성값 표준편차 (입력 쪽부터)",
               "verdict": "init"},
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


def layer_stds(net: nn.Sequential, X: torch.Tensor) -> list[float]:
    with torch.no_grad():
        return [h.std().item() for h in activation_stats(net, X)]


def _metrics(loss: float, net: nn.Sequential, X: torch.Tensor) -> dict[str, float]:
    metrics = {"loss": loss}
    metrics.update({f"act_std/{k + 1}": v for k, v in enumerate(layer_stds(net, X))})
    return metrics


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
            numbers[activation][scheme] = {
                "activation_std_at_init": stds,
                "final_loss": final_loss,
                "unit_spread": unit_spread(net, X),
            }
            # The last record is the trained net: the loss the verdict quotes.
            yield Log(name, num_steps, num_steps, _metrics(final_loss, net, X),
                      i * len(SCHEMES) + j, parts)
    same = [f"{a}/{s}" for a in NETS for s in SYMMETRIC
            if numbers[a][s]["unit_spread"] < IDENTICAL]
    numbers["identical"] = same
    numbers["vanished"] = [a for a in NETS if _shrink(numbers[a]["normal"]) < VANISHED]
    # He et al. (2015): Xavier on ReLU keeps only half the variance per layer.
    numbers["xavier_relu_per_layer"] = _per_layer(numbers["relu"]["xavier"])
    # "Identical for ever" is a claim about training: with lr 0 it is not tested.
    numbers["effect"] = (p["lr"] > 0 and len(same) == 2 * len(SYMMETRIC)
                         and len(numbers["vanished"]) == 2)
    return numbers


def _shrink(r: dict) -> float:
    stds = r["activation_std_at_init"]
    return ratio(stds[-1], stds[0])


def _per_layer(r: dict) -> float:
    stds = r["activation_std_at_init"]
    return _shrink(r) ** (1 / max(1, len(stds) - 1))


def _trend(r: dict, ko: bool) -> str:
    """The verb for how the std changed from layer 1 to the last, read off the numbers."""
    change = _shrink(r)
    if change < 0.8:
        return "줄어듭니다" if ko else "falls"
    if change > 1.25:
        return "커집니다" if ko else "rises"
    return "거의 그대로입니다" if ko else "stays about the same"


def _best(r: dict) -> tuple[list[str], float]:
    """The init(s) with the lowest final loss; several when they tie within 0.005."""
    low = min(r[s]["final_loss"] for s in SCHEMES)
    return [s for s in SCHEMES if r[s]["final_loss"] <= low + 0.005], low


def _keeps(n: dict, a: str, s: str, ko: bool) -> str:
    stds = n[a][s]["activation_std_at_init"]
    span = f"{min(stds):.2g}-{max(stds):.2g}"
    if ratio(max(stds), min(stds)) <= 10:
        return f"{span}로 유지합니다" if ko else f"keeps {a}'s std within {span}"
    return (f"{span}로 10배 넘게 벌어지게 둡니다" if ko
            else f"lets {a}'s std spread over {span} (more than 10x)")


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    t, r = n["tanh"], n["relu"]
    worst = max(n[a][s]["unit_spread"] for a in NETS for s in SYMMETRIC)
    per = n["xavier_relu_per_layer"]
    jit = (f" + 지터 {n['jitter']:g}" if ko else f" plus jitter {n['jitter']:g}") \
        if n["jitter"] > 0 else ""

    def losses(s: str) -> str:
        return f"{t[s]['final_loss']:.3f}/{r[s]['final_loss']:.3f}"

    def small(a: str) -> str:
        stds = n[a]["normal"]["activation_std_at_init"]
        if ko:
            return (f"{a} 활성값 표준편차는 1층 {stds[0]:.2g}에서 {n['depth']}층 "
                    f"{stds[-1]:.1e}로 {_trend(n[a]['normal'], ko)}")
        return (f"{a} activation std {_trend(n[a]['normal'], ko)} from {stds[0]:.2g} in layer 1 "
                f"to {stds[-1]:.1e} in layer {n['depth']}")

    def best(a: str) -> str:
        names, low = _best(n[a])
        tie = ("(동률)" if ko else " (tied)") if len(names) > 1 else ""
        return f"{a} {'/'.join(names)}{tie} {low:.3f}"

    last = _shrink(r["xavier"])
    still = (("학습 후에도" if ko else "after training") if n["lr"] > 0 else
             (f"학습률 0이라 {n['steps']}스텝 동안 아무것도 학습하지 않았으니 초기화 그대로"
              if ko else f"with lr 0 (nothing trained in {n['steps']} steps, so not a test "
              f"of training)"))
    if ko:
        sym = (f"0/상수 초기화{jit}: 4개 설정 중 {len(n['identical'])}개에서 {still} 모든 은닉 "
               f"유닛이 같습니다(최대 상대 차이 {worst:.1e}). 최종 손실(tanh/ReLU)은 0 초기화 "
               f"{losses('zero')}, 상수 초기화 {losses('constant')}입니다. ")
        vanish = (f"작은 정규분포(가중치 std {n['std']:g}, 초기화 시점): {small('tanh')}. "
                  f"{small('relu')}. ")
        keep = (f"Xavier는 tanh의 표준편차를 {_keeps(n, 'tanh', 'xavier', ko)}. He는 ReLU의 "
                f"표준편차를 {_keeps(n, 'relu', 'he', ko)}. ReLU에 Xavier를 쓰면 표준편차가 "
                f"층마다 {per:.2f}배가 되어(He 등 2015: 분산이 층마다 절반, 1/√2 ≈ 0.71) "
                f"{n['depth']}층에서는 1층의 {last:.2g}배입니다. ")
        end = (f"최종 손실이 가장 낮은 초기화: {best('tanh')}, {best('relu')}. "
               + ("두 실패(대칭이 깨지지 않음, 작은 초기화에서 신호 소멸)가 모두 나타났습니다."
                  if n["effect"] else _missing(n, ko)))
        return sym + vanish + keep + end
    sym = (f"Zero (0)/constant init{jit}: in {len(n['identical'])} of 4 runs every hidden unit is "
           f"still identical {still} (largest relative difference {worst:.1e}); final "
           f"loss (tanh/ReLU) zero {losses('zero')}, constant {losses('constant')}. ")
    vanish = (f"Small normal (weight std {n['std']:g}, at init): {small('tanh')}; "
              f"{small('relu')}. ")
    keep = (f"Xavier {_keeps(n, 'tanh', 'xavier', ko)}, He {_keeps(n, 'relu', 'he', ko)}. "
            f"Xavier on ReLU multiplies the std by {per:.2f} per layer (He et al. 2015: half "
            f"the variance per layer, 1/√2 ≈ 0.71), leaving layer {n['depth']} at {last:.2g} "
            f"of layer 1's. ")
    end = (f"Lowest final loss: {best('tanh')}, {best('relu')}. "
           + ("Both failures appeared: unbroken symmetry and a vanishing signal."
              if n["effect"] else _missing(n, ko)))
    return sym + vanish + keep + end


def _missing(n: dict, ko: bool) -> str:
    """Which half of the claim did not appear in this run."""
    parts = []
    if n["lr"] == 0:
        parts.append("학습률 0이라 학습이 없었습니다" if ko else "nothing trained (lr 0)")
    if len(n["identical"]) < 2 * len(SYMMETRIC):
        parts.append("대칭이 깨졌습니다" if ko else "the symmetry was broken")
    if len(n["vanished"]) < len(NETS):
        kept = [a for a in NETS if a not in n["vanished"]]
        parts.append(f"{'/'.join(kept)}에서 신호가 100분의 1 아래로 사라지지 않았습니다" if ko
                     else f"the signal did not vanish 100-fold in {'/'.join(kept)}")
    if ko:
        return "효과가 나타나지 않았습니다: " + ", ".join(parts) + "."
    return "The effect did not appear: " + " and ".join(parts) + "."
