"""Learning-rate warm-up: Adam at a high learning rate, with and without a linear warm-up,
and a cosine against a step schedule after it.

Adam's first steps are its least reliable: the second-moment estimate v has seen one or
two gradients, so every weight moves by about lr at once, in whatever direction the first
noisy gradients point (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and
Beyond", ICLR). At a high lr that throws the freshly initialised net far away and the loss
spikes above where it started. Warm-up (Goyal et al. 2017; Vaswani et al. 2017) ramps the
lr linearly from 0 over the first steps, while the statistics settle. After warm-up the
schedule decays the lr: cosine smoothly, step in two drops of 10x.

A run *spiked* when its loss, anywhere in the whole run (not only the first steps), rose
above 1.25x its value at step 1 or became inf/NaN: a late blow-up counts as much as an early
one. The no-warm-up run uses the same cosine decay as warm-up+cosine, so those two differ
only in the warm-up: that pair is the one the verdict's causal sentence compares.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, is_log_step, mlp, spirals
from _verdict import SPIKE, Statement, causal, render, spiked
from torch import nn

META = {
    "name": "warmup",
    "claim": "At a high learning rate Adam without warm-up makes the loss spike above its "
             "starting value in the first steps; a linear warm-up avoids the spike.",
    "claim_ko": "학습률이 높으면 웜업 없는 Adam은 처음 몇 스텝에서 손실이 시작값보다 치솟는다. "
                "선형 웜업을 하면 이 급등이 없다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 100,
    "params": {
        "lr": {"default": 0.02, "help": "peak Adam learning rate", "min": 0, "max": 10},
        "warmup": {"default": 20, "help": "linear warm-up steps", "min": 0, "max": 10000},
        "depth": {"default": 3, "help": "hidden layers", "min": 1, "max": 20},
        "num_hiddens": {"default": 128, "help": "units per hidden layer", "min": 2, "max": 512},
    },
    "control": {"lr": 0.001},
}


def lr_at(step: int, num_steps: int, p: dict, schedule: str) -> float:
    """The learning rate of step ``step`` (1-based) for one schedule."""
    warm = 0 if schedule == "no-warmup" else p["warmup"]
    if step <= warm:
        return p["lr"] * step / warm
    done = (step - warm - 1) / max(1, num_steps - warm)  # 0 -> 1 after warm-up
    if schedule == "warmup+step":
        return p["lr"] * (0.1 ** (int(done >= 0.5) + int(done >= 0.75)))
    return p["lr"] * 0.5 * (1 + math.cos(math.pi * done))  # cosine, also for no-warmup


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=256, seed=seed)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    schedules = ["no-warmup", "warmup+cosine", "warmup+step"]
    numbers: dict = {"lr": p["lr"], "warmup": p["warmup"], "steps": num_steps}
    for part, schedule in enumerate(schedules):
        torch.manual_seed(seed)  # the same initial weights for every schedule
        net = mlp(2, p["num_hiddens"], 2, p["depth"]).to(device)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        losses: list[float] = []
        diverged = None
        for step in range(1, num_steps + 1):
            lr = lr_at(step, num_steps, p, schedule)
            for group in trainer.param_groups:
                group["lr"] = lr
            loss = loss_fn(net(X), y)
            losses.append(loss.item() if math.isfinite(loss.item()) else math.inf)
            if not math.isfinite(losses[-1]):
                diverged = step
            if is_log_step(step, num_steps) or diverged:
                # "peak" is the highest loss so far: with sparse logging it still sees every step
                yield Log(schedule, step, num_steps,
                          {"loss": loss.item(), "lr": lr, "peak": max(losses)}, part, 3)
            if diverged:
                break
            trainer.zero_grad()
            loss.backward()
            trainer.step()
        with torch.no_grad():
            final = loss_fn(net(X), y).item()
        peak = max(losses)
        numbers[schedule] = {"first": losses[0], "peak": peak, "spike": peak / losses[0],
                             "peak_step": losses.index(peak) + 1, "spiked": spiked(losses),
                             "final": final, "diverged_at": diverged}
    numbers["diverged"] = {s: numbers[s]["diverged_at"] for s in schedules
                           if numbers[s]["diverged_at"]}
    no, warm = numbers["no-warmup"], numbers["warmup+cosine"]
    numbers["effect"] = bool(p["warmup"] > 0 and no["spiked"] and not warm["spiked"])
    return numbers


def _run(r: dict) -> tuple[str, str]:
    if r["diverged_at"]:
        return (f"diverged (inf/NaN) at step {r['diverged_at']}",
                f"{r['diverged_at']}스텝에서 발산(inf/NaN)")
    final = f"{r['final']:.3f}" if math.isfinite(r["final"]) else "nan"
    return (f"peak {r['peak']:.3g} at step {r['peak_step']} ({r['spike']:.3g}x the start), "
            f"final {final}", f"{r['peak_step']}스텝에서 최고 {r['peak']:.3g}(시작의 "
            f"{r['spike']:.3g}배), 최종 {final}")


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    no, cos, step = n["no-warmup"], n["warmup+cosine"], n["warmup+step"]
    a, b, c = _run(no), _run(cos), _run(step)
    warm = n["warmup"] > 0
    return [
        Statement("runs", f"Peak lr {n['lr']:g}, warm-up {n['warmup']} steps, {n['steps']} "
                  f"steps. Loss over the whole run: no warm-up {a[0]}; warm-up+cosine {b[0]}; "
                  f"warm-up+step {c[0]}.", f"최고 학습률 {n['lr']:g}, 웜업 {n['warmup']}스텝, "
                  f"{n['steps']}스텝. 전체 학습의 손실: 웜업 없음 {a[1]}; 웜업+코사인 {b[1]}; "
                  f"웜업+계단 {c[1]}.", True),
        Statement("nothing-to-compare", "With 0 warm-up steps every schedule starts at the "
                  "peak lr, so there is nothing to compare.", "웜업 0스텝이면 세 일정 모두 "
                  "처음부터 최고 학습률이라 비교가 되지 않습니다.", not warm),
        causal("warm-up", ["warm-up"] if warm else [], "warmup-prevented", "Only Adam without "
               "warm-up spiked above its starting loss; with the same cosine decay, the "
               "warm-up prevented it.", "웜업 없이 시작한 Adam만 손실이 시작값보다 "
               "치솟았습니다. 같은 코사인 감쇠에서 웜업이 이를 막았습니다.",
               no["spiked"] and not cos["spiked"]),
        Statement("no-spike", f"Even without warm-up the loss never rose above {SPIKE:g}x its "
                  f"start: at this learning rate there is no spike for warm-up to prevent.",
                  f"웜업 없이도 손실이 한 번도 시작값의 {SPIKE:g}배를 넘지 않아, 이 학습률에서는 "
                  f"웜업이 막을 급등이 없습니다.", warm and not no["spiked"]),
        Statement("warmup-also-spiked", f"With warm-up too the loss rose above {SPIKE:g}x its "
                  f"start at some step: warm-up alone does not tame this learning rate.",
                  f"웜업을 해도 어느 스텝에서 손실이 시작값의 {SPIKE:g}배를 넘었습니다: "
                  f"웜업만으로는 이 학습률을 감당하지 못합니다.",
                  warm and no["spiked"] and cos["spiked"]),
        Statement("step-spiked", f"The step schedule spiked above {SPIKE:g}x as well, after "
                  f"the same warm-up.", f"같은 웜업 뒤 계단 일정도 {SPIKE:g}배를 넘었습니다.",
                  warm and step["spiked"] and not cos["spiked"]),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
