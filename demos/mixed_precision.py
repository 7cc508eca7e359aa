"""Mixed precision: fp16 gradients underflow to zero, loss scaling brings them back, and bf16
has fp32's range (Micikevicius et al. 2018, "Mixed Precision Training", ICLR).

The recipe: keep fp32 master weights; copy them to fp16 for the forward and backward pass;
turn the gradients back into fp32 for the optimizer step. fp16's smallest positive number is
6e-8 (largest 65504): a gradient below it becomes exactly 0, and Adam does not move a weight
whose gradient is 0. Multiplying the loss by S before backward (loss scaling) shifts every
gradient up by S; dividing by S in fp32 undoes it. A static S can overflow to inf; the
dynamic scaler (`torch.amp.GradScaler`) skips such a step and halves S, and doubles it again
after a run of good steps. bf16 keeps fp32's 8 exponent bits (smallest normal 1e-38), so it
needs no scaling, but has only 8 bits of mantissa (fp16: 11).

The net regresses a smooth target to a small error, so late in training its gradients are
tiny - the regime where fp16 flushes them to zero. "Flushed" counts weight-gradient entries
that are 0 in the low-precision run but not in an fp32 backward at the same weights.
"""

from __future__ import annotations

import copy
import math

import torch
from _kit import Log, is_log_step, linears, mlp, teacher_regression
from _verdict import Statement, causal, layer_list, render
from torch import nn

META = {
    "name": "mixed-precision",
    "claim": "In fp16 small gradients flush to zero and training falls behind fp32; a static "
             "or dynamic loss scaler recovers fp32's result, and bf16 (fp32's range) flushes "
             "none.",
    "claim_ko": "fp16에서는 작은 기울기가 0으로 사라져 학습이 fp32보다 뒤처진다. 정적 또는 동적 "
                "손실 스케일링이 fp32의 결과를 되찾고, fp32와 범위가 같은 bf16은 사라지는 "
                "기울기가 없다.",
    "cpu_seconds": 3,
    "metric": "loss",
    "steps": 150,
    "params": {
        "dtype": {"default": "fp16", "choices": ["fp16", "bf16", "fp32"],
                  "help": "low precision under test (fp32: the control)"},
        "static_scale": {"default": 1024.0, "help": "the static loss scale S", "min": 1,
                         "max": 1e30},
        "lr": {"default": 0.003, "help": "Adam learning rate", "min": 0, "max": 1},
        "depth": {"default": 3, "help": "hidden layers", "min": 1, "max": 16},
        "loss_weight": {"default": 0.0001, "help": "factor on the loss, hence on every gradient "
                        "(1: few underflow)", "min": 1e-9, "max": 1e6},
    },
    "control": {"dtype": "fp32"},
    "layers": {"prefix": "flushed/", "label": "share of weight gradients flushed to zero, "
               "per layer", "label_ko": "층별로 0이 된 가중치 기울기 비율"},
}

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}
WORSE = 1.25  # final loss / fp32's above this: training suffered


def backward_low(net32, net_low, X, y, dtype, weight: float, scaled=lambda loss: loss):
    """Forward and backward in low precision from the fp32 master weights; returns the loss
    and the gradients as fp32 of ``scaled(loss)`` (the caller divides by the scale)."""
    with torch.no_grad():
        for p32, p_low in zip(net32.parameters(), net_low.parameters(), strict=True):
            p_low.copy_(p32)
    net_low.zero_grad()
    loss = weight * nn.functional.mse_loss(net_low(X.to(dtype)).float(), y)
    scaled(loss).backward()
    return loss.item(), [p.grad.float() for p in net_low.parameters()]


def flushed(net32, grads, X, y, weight: float) -> list[float]:
    """Per layer: weight-gradient entries that are 0 here but not in fp32 at these weights."""
    net32.zero_grad()
    (weight * nn.functional.mse_loss(net32(X), y)).backward()
    out, params = [], list(net32.parameters())
    for layer in linears(net32):
        i = next(k for k, p in enumerate(params) if p is layer.weight)
        lost = (grads[i] == 0) & (layer.weight.grad != 0)
        out.append(lost.float().mean().item())
    return out


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = teacher_regression(n=128, dim=8, noise=0.0, seed=seed)
    X, y = X.to(device), y.to(device)
    low, w = p["dtype"], p["loss_weight"]
    runs = ["fp32", low, f"{low}+static", f"{low}+dynamic"]
    numbers: dict = {"dtype": low, "static_scale": p["static_scale"], "steps": num_steps}
    for part, name in enumerate(runs):
        dtype = torch.float32 if part == 0 else DTYPES[low]
        torch.manual_seed(seed)  # the same fp32 master weights for every run
        net32 = mlp(8, 32, 1, p["depth"], "tanh").to(device)
        net_low = copy.deepcopy(net32).to(dtype)
        # eps tiny: in fp32, Adam's step then ignores the loss's scale, so only the
        # precision differs between the runs.
        trainer = torch.optim.Adam(net32.parameters(), lr=p["lr"], eps=1e-30)
        scaler = torch.amp.GradScaler(device.type, init_scale=2.0 ** 16, growth_interval=50,
                                      enabled=name.endswith("dynamic"))
        overflows, lost = 0, []
        for step in range(1, num_steps + 1):
            if name.endswith("dynamic"):
                loss, grads = backward_low(net32, net_low, X, y, dtype, w, scaler.scale)
                scale = scaler.get_scale()
            else:
                scale = p["static_scale"] if name.endswith("static") else 1.0
                loss, grads = backward_low(net32, net_low, X, y, dtype, w,
                                           lambda loss, s=scale: loss * s)
            finite = all(torch.isfinite(g).all() for g in grads)
            if is_log_step(step, num_steps, points=15):
                lost = flushed(net32, grads, X, y, w)  # uses net32's .grad, reset below
                metrics = {"loss": loss, "scale": scale, "flushed": sum(lost) / len(lost)}
                metrics.update({f"flushed/{i}": f for i, f in enumerate(lost, 1)})
                yield Log(name, step, num_steps, metrics, part, len(runs))
            for p32, g in zip(net32.parameters(), grads, strict=True):
                p32.grad = g  # still multiplied by the scale
            if name.endswith("dynamic"):
                scaler.step(trainer)  # unscales; skips the step if a gradient is inf/NaN
                overflows += int(scaler.get_scale() < scale or not finite)
                scaler.update()
            elif finite:
                for p32 in net32.parameters():
                    p32.grad /= scale
                trainer.step()
            else:
                overflows += 1  # static scale too big: this step's gradients overflowed
        with torch.no_grad():
            final = nn.functional.mse_loss(net32(X), y).item()  # unweighted: comparable
        numbers[name] = {"final_loss": final, "flushed_end": lost, "overflows": overflows}
        if part == 0:  # the range check uses fp32's own gradients at the end of training
            numbers["range"] = range_check(net32, X, y, w)
        if name.endswith("dynamic"):
            numbers[name]["final_scale"] = scaler.get_scale() if scaler.is_enabled() else 1.0
    for name in runs:
        numbers[name]["flushed"] = sum(numbers[name]["flushed_end"]) / (p["depth"] + 1)
    base = numbers["fp32"]["final_loss"]
    # The claim: gradients lost without scaling hurt training; the dynamic scaler repairs it.
    numbers["effect"] = bool(numbers[low]["flushed"] > 0.01
                             and numbers[low]["final_loss"] > WORSE * base
                             and numbers[f"{low}+dynamic"]["final_loss"] <= WORSE * base)
    return numbers


def range_check(net: nn.Module, X, y, weight: float) -> dict:
    """fp32 gradients cast to fp16 and to bf16: how many become 0, how much each rounds."""
    net.zero_grad()
    (weight * nn.functional.mse_loss(net(X), y)).backward()
    g = torch.cat([q.grad.reshape(-1) for q in net.parameters()])
    g = g[g != 0]
    out = {"smallest": g.abs().min().item(), "median": g.abs().median().item()}
    for name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
        cast = g.to(dtype).float()
        out[f"{name}_zero"] = (cast == 0).float().mean().item()
        out[f"{name}_rel_err"] = ((cast - g).abs() / g.abs()).median().item()
    return out


def _full(n: dict) -> tuple[str, str]:
    """Layers every weight gradient of which flushed to zero at the last step, per run."""
    low, en, ko = n["dtype"], [], []
    for name, label, label_ko in ((low, "without scaling", "스케일링 없음"),
                                  (f"{low}+static", "static scale", "정적 스케일"),
                                  (f"{low}+dynamic", "dynamic scaler", "동적 스케일러")):
        full = [i for i, share in enumerate(n[name]["flushed_end"], 1) if share >= 1.0]
        if full:
            en.append(f"{layer_list(full)} ({label})")
            ko.append(f"{layer_list(full, 'ko')}({label_ko})")
    return "; ".join(en), "; ".join(ko)


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    low, base, rng, s = n["dtype"], n["fp32"]["final_loss"], n["range"], n["static_scale"]
    plain, static, dyn = n[low], n[f"{low}+static"], n[f"{low}+dynamic"]
    ok = math.isfinite(base)
    mixed = low != "fp32"

    def loss(r: dict) -> str:
        return f"{r['final_loss']:.3g}" if math.isfinite(r["final_loss"]) else "nan"

    def within(r: dict) -> bool:
        return ok and r["final_loss"] <= WORSE * base  # NaN is never within

    times = static["final_loss"] / base if base > 0 else math.inf
    lost = plain["flushed"] > 0.01
    full_en, full_ko = _full(n)
    return [
        Statement("losses", f"Loss after {n['steps']} steps: fp32 {base:.3g}; {low} without "
                  f"scaling {loss(plain)} (on average {plain['flushed']:.0%} of a layer's weight "
                  f"gradients flushed to zero at the last step); {low} with a static scale of "
                  f"{s:g} {loss(static)} ({static['flushed']:.0%} flushed, "
                  f"{static['overflows']} steps skipped on overflow); dynamic scaler {loss(dyn)} "
                  f"({dyn['flushed']:.0%} flushed, {dyn['overflows']} steps skipped, scale now "
                  f"{dyn['final_scale']:g}).", f"{n['steps']}스텝 뒤 손실: fp32 {base:.3g}, "
                  f"스케일링 없는 {low} {loss(plain)}(마지막 스텝에서 층마다 평균 "
                  f"{plain['flushed']:.0%}의 가중치 기울기가 사라짐), 정적 스케일 {s:g}의 "
                  f"{low} {loss(static)}(사라짐 {static['flushed']:.0%}, 넘침으로 건너뛴 스텝 "
                  f"{static['overflows']}), 동적 스케일러 {loss(dyn)}(사라짐 {dyn['flushed']:.0%}, "
                  f"건너뛴 스텝 {dyn['overflows']}, 현재 스케일 {dyn['final_scale']:g}).", True),
        Statement("flushed-layers", f"Every weight gradient flushed to zero at the last step "
                  f"in {full_en}: such a layer no longer learns at all.", f"마지막 스텝에서 "
                  f"가중치 기울기가 모두 사라진 층: {full_ko}. 그런 층은 전혀 배우지 못합니다.",
                  bool(full_en)),
        Statement("range", f"Cast to fp16, {rng['fp16_zero']:.0%} of fp32's own final gradients "
                  f"(median {rng['median']:.2g}) become 0, in bf16 {rng['bf16_zero']:.0%}, with "
                  f"a median rounding error of {rng['bf16_rel_err']:.1e}.", f"fp32 학습 끝의 "
                  f"기울기(중앙값 {rng['median']:.2g})를 fp16으로 바꾸면 {rng['fp16_zero']:.0%}, "
                  f"bf16으로 바꾸면 {rng['bf16_zero']:.0%}가 0이 되고, bf16의 반올림 오차는 "
                  f"중앙값 {rng['bf16_rel_err']:.1e}입니다.", True),
        Statement("fp32-diverged", "fp32 itself ended at inf/NaN, so nothing is compared with "
                  "it.", "fp32 자체가 inf/NaN으로 끝나 아무것도 그것과 비교하지 않습니다.",
                  not ok),
        Statement("control", "Every run is fp32, so nothing flushes (the control).",
                  "모든 실행이 fp32라 사라지는 기울기가 없습니다(대조 실험).",
                  not mixed and all(n[r]["flushed"] == 0 for r in ("fp32", f"{low}+static",
                                                                    f"{low}+dynamic"))),
        causal("loss scaling", ["loss scaling"], "dynamic-recovers", f"The dynamic loss scaler "
               f"(GradScaler) keeps the small gradients {low} loses and recovers fp32's result: "
               f"scaling is the only difference between those two runs.", f"동적 손실 스케일러"
               f"(GradScaler)가 {low}이 잃는 작은 기울기를 지켜 fp32의 결과를 되찾습니다: 두 "
               f"실행의 차이는 스케일링뿐입니다.",
               n["effect"] and dyn["flushed"] < plain["flushed"]),
        Statement("dynamic-within", f"The dynamic loss scaler (GradScaler) gets back within "
                  f"{WORSE:g}x of fp32's loss, though it does not flush fewer gradients "
                  f"({dyn['flushed']:.0%} against {plain['flushed']:.0%}).", f"동적 손실 "
                  f"스케일러(GradScaler)는 fp32 손실의 {WORSE:g}배 안으로 돌아오지만, 사라지는 "
                  f"기울기는 줄지 않습니다({dyn['flushed']:.0%}, 스케일링 없음 "
                  f"{plain['flushed']:.0%}).",
                  n["effect"] and not dyn["flushed"] < plain["flushed"]),
        Statement("nothing-lost", f"{low} lost almost no gradients here (at most 1%), so there "
                  f"is nothing for scaling to fix.", f"{low}에서 사라진 기울기가 거의 없어(1% "
                  f"이하) 스케일링이 고칠 것이 없습니다.", ok and mixed and not lost),
        Statement("lost-but-within", f"{low} lost gradients, yet its loss stayed within "
                  f"{WORSE:g}x of fp32's.", f"{low}가 기울기를 잃었지만 손실은 fp32의 {WORSE:g}배 "
                  f"안에 있습니다.", mixed and lost and within(plain)),
        Statement("dynamic-failed", f"{low} lost gradients and fell behind fp32, and even the "
                  f"dynamic scaler did not get back within {WORSE:g}x of fp32's loss.",
                  f"{low}가 기울기를 잃고 fp32보다 뒤처졌고, 동적 스케일러도 fp32의 {WORSE:g}배 "
                  f"안으로 되돌리지 못했습니다.", ok and mixed and lost and not within(plain)
                  and not within(dyn)),
        Statement("static-within", f"The static scale of {s:g} got within {WORSE:g}x of "
                  f"fp32's loss ({times:.3g}x).", f"정적 스케일({s:g})은 fp32의 {WORSE:g}배 안으로 "
                  f"돌아왔습니다({times:.3g}배).", mixed and within(static)),
        Statement("static-not", f"The static scale of {s:g} did not get within {WORSE:g}x "
                  f"({times:.3g}x fp32's loss)"
                  f"{': only the dynamic scaler is shown to recover it' if n['effect'] else ''}.",
                  f"정적 스케일({s:g})은 {WORSE:g}배 안으로 돌아오지 못했습니다(fp32 손실의 "
                  f"{times:.3g}배){': 되찾는 것은 동적 스케일러뿐입니다' if n['effect'] else ''}.",
                  ok and mixed and not within(static)),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
