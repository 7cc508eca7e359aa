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


def _conclusion(n: dict, ko: bool) -> str:
    low, base = n["dtype"], n["fp32"]["final_loss"]
    plain = n[low]
    if n["effect"]:
        return (f"동적 손실 스케일러(GradScaler)가 {low}이 잃는 작은 기울기를 지켜 fp32의 결과를 "
                f"되찾습니다. " if ko else f"The dynamic loss scaler (GradScaler) keeps the small "
                f"gradients {low} loses and recovers fp32's result. ") + _static(n, ko)
    if low == "fp32":
        return ("모든 실행이 fp32라 사라지는 기울기가 없습니다(대조 실험)." if ko else
                "Every run is fp32, so nothing flushes (the control).")
    if plain["flushed"] <= 0.01:
        return (f"{low}에서 사라진 기울기가 거의 없어 스케일링이 필요 없습니다." if ko else
                f"{low} lost almost no gradients here, so there is nothing for scaling to fix.")
    if not plain["final_loss"] > WORSE * base:
        return (f"{low}가 기울기를 잃었지만 손실은 fp32의 {WORSE:g}배 안에 있습니다." if ko else
                f"{low} lost gradients, yet its loss stayed within {WORSE:g}x of fp32's.")
    return (f"동적 스케일러도 fp32의 {WORSE:g}배 안으로 되돌리지 못했습니다." if ko else
            f"Even the dynamic scaler did not get back within {WORSE:g}x of fp32's loss.")


def _static(n: dict, ko: bool) -> str:
    """The static scale is judged on its own: the dynamic scaler's success says nothing of it."""
    low, base = n["dtype"], n["fp32"]["final_loss"]
    static, scale = n[f"{low}+static"], n["static_scale"]
    times = static["final_loss"] / base if base > 0 else math.inf
    if math.isfinite(static["final_loss"]) and static["final_loss"] <= WORSE * base:
        return (f"정적 스케일({scale:g})도 fp32의 {WORSE:g}배 안으로 되찾았습니다({times:.3g}배)."
                if ko else f"The static scale of {scale:g} also got within {WORSE:g}x of fp32's "
                f"loss ({times:.3g}x).")
    return (f"정적 스케일({scale:g})은 그렇지 못했습니다(fp32 손실의 {times:.3g}배)." if ko else
            f"The static scale of {scale:g} did not ({times:.3g}x fp32's loss): only the dynamic "
            f"scaler is shown to recover it.")


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    low, base, rng = n["dtype"], n["fp32"]["final_loss"], n["range"]
    plain, static, dyn = n[low], n[f"{low}+static"], n[f"{low}+dynamic"]

    def loss(r: dict) -> str:
        return f"{r['final_loss']:.3g}" if math.isfinite(r["final_loss"]) else "nan"

    if ko:
        return (f"{n['steps']}스텝 뒤 손실: fp32 {base:.3g}, 스케일링 없는 {low} {loss(plain)} "
                f"(마지막 스텝에서 층마다 평균 {plain['flushed']:.0%}의 가중치 기울기가 0으로 "
                f"사라짐), 정적 스케일 "
                f"{n['static_scale']:g}의 {low} {loss(static)}(사라짐 {static['flushed']:.0%}, "
                f"넘침으로 건너뛴 스텝 {static['overflows']}), 동적 스케일러 {loss(dyn)}(사라짐 "
                f"{dyn['flushed']:.0%}, 건너뛴 스텝 {dyn['overflows']}, 현재 스케일 "
                f"{dyn['final_scale']:g}). fp32 학습 끝의 기울기(중앙값 {rng['median']:.2g})를 "
                f"fp16으로 바꾸면 {rng['fp16_zero']:.0%}, bf16으로 바꾸면 {rng['bf16_zero']:.0%}가 "
                f"0이 되고, bf16의 반올림 오차는 중앙값 {rng['bf16_rel_err']:.1e}입니다. "
                + _conclusion(n, True))
    return (f"Loss after {n['steps']} steps: fp32 {base:.3g}; {low} without scaling "
            f"{loss(plain)} (on average {plain['flushed']:.0%} of a layer's weight gradients "
            f"flushed to zero at the last step); "
            f"{low} with a static scale of {n['static_scale']:g} {loss(static)} ("
            f"{static['flushed']:.0%} flushed, {static['overflows']} steps skipped on overflow); "
            f"dynamic scaler {loss(dyn)} ({dyn['flushed']:.0%} flushed, {dyn['overflows']} steps "
            f"skipped, scale now {dyn['final_scale']:g}). Cast to fp16, {rng['fp16_zero']:.0%} "
            f"of fp32's own final gradients (median {rng['median']:.2g}) become 0, in bf16 "
            f"{rng['bf16_zero']:.0%}, with a median rounding error of {rng['bf16_rel_err']:.1e}. "
            + _conclusion(n, False))
