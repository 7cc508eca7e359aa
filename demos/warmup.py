"""Learning-rate warm-up: Adam at a high learning rate, with and without a linear warm-up,
and a cosine against a step schedule after it.

Adam's first steps are its least reliable: the second-moment estimate v has seen one or
two gradients, so every weight moves by about lr at once, in whatever direction the first
noisy gradients point (Liu et al. 2020, "On the Variance of the Adaptive Learning Rate and
Beyond", ICLR). At a high lr that throws the freshly initialised net far away and the loss
spikes above where it started. Warm-up (Goyal et al. 2017; Vaswani et al. 2017) ramps the
lr linearly from 0 over the first steps, while the statistics settle. After warm-up the
schedule decays the lr: cosine smoothly, step in two drops of 10x.

The spike is the highest loss in the first half of the warm-up divided by the loss at step 1.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, is_log_step, mlp, spirals
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

SPIKE = 1.25  # early peak / first loss that counts as a spike
CALM = 1.1  # at most this: no spike


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
    window = min(num_steps, max(5, p["warmup"] // 2))  # the first steps
    numbers: dict = {"lr": p["lr"], "warmup": p["warmup"], "window": window, "steps": num_steps}
    for part, schedule in enumerate(schedules):
        torch.manual_seed(seed)  # the same initial weights for every schedule
        net = mlp(2, p["num_hiddens"], 2, p["depth"]).to(device)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        first = peak = math.nan
        diverged = None
        for step in range(1, num_steps + 1):
            lr = lr_at(step, num_steps, p, schedule)
            for group in trainer.param_groups:
                group["lr"] = lr
            loss = loss_fn(net(X), y)
            value = loss.item()
            if step == 1:
                first = peak = value
            elif step <= window:
                peak = max(peak, value) if math.isfinite(value) else math.inf
            if not math.isfinite(value):
                diverged = step
            if is_log_step(step, num_steps) or diverged:
                yield Log(schedule, step, num_steps, {"loss": value, "lr": lr}, part, 3)
            if diverged:
                break
            trainer.zero_grad()
            loss.backward()
            trainer.step()
        with torch.no_grad():
            final = loss_fn(net(X), y).item()
        numbers[schedule] = {"first": first, "peak": peak, "spike": peak / first,
                             "final": final, "diverged_at": diverged}
    no, warm = numbers["no-warmup"], numbers["warmup+cosine"]
    numbers["diverged"] = {s: numbers[s]["diverged_at"] for s in schedules
                           if numbers[s]["diverged_at"]}
    numbers["effect"] = bool(no["spike"] > SPIKE and warm["spike"] <= CALM)  # inf > 1.5
    return numbers


def _spike(r: dict, ko: bool) -> str:
    if r["diverged_at"]:
        return (f"{r['diverged_at']}스텝에서 발산(inf/NaN)" if ko
                else f"diverged (inf/NaN) at step {r['diverged_at']}")
    return (f"최고 {r['peak']:.3g}(시작의 {r['spike']:.3g}배)" if ko
            else f"peak {r['peak']:.3g} ({r['spike']:.3g}x the start)")


def _final(r: dict) -> str:
    return f"{r['final']:.3f}" if math.isfinite(r["final"]) else "nan"


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    no, cos, step = n["no-warmup"], n["warmup+cosine"], n["warmup+step"]
    w = n["window"]
    if ko:
        head = (f"최고 학습률 {n['lr']:g}, 웜업 {n['warmup']}스텝. 처음 {w}스텝 손실: 웜업 없음 "
                f"{_spike(no, True)}, 웜업+코사인 {_spike(cos, True)}, 웜업+계단 "
                f"{_spike(step, True)}. {n['steps']}스텝 뒤 손실: {_final(no)} / {_final(cos)} / "
                f"{_final(step)}. ")
        if n["warmup"] == 0:
            return head + ("웜업 0스텝이면 세 일정 모두 처음부터 최고 학습률이라 비교가 "
                           "되지 않습니다.")
        if n["effect"]:
            return head + ("웜업 없이 시작한 Adam만 손실이 시작값보다 치솟았고, 웜업이 이를 "
                           "막았습니다.")
        if no["spike"] <= SPIKE:
            return head + (f"웜업 없이도 손실이 시작값의 {SPIKE:g}배를 넘지 않아, 이 학습률에서는 "
                           f"웜업이 막을 급등이 없습니다.")
        return head + (f"웜업을 해도 손실이 시작값의 {CALM:g}배를 넘었습니다: 웜업만으로는 이 "
                       f"학습률을 감당하지 못합니다.")
    head = (f"Peak lr {n['lr']:g}, warm-up {n['warmup']} steps. Loss in the first {w} steps: "
            f"no warm-up {_spike(no, False)}, warm-up+cosine {_spike(cos, False)}, "
            f"warm-up+step {_spike(step, False)}. Loss after {n['steps']} steps: {_final(no)} / "
            f"{_final(cos)} / {_final(step)}. ")
    if n["warmup"] == 0:
        return head + ("With 0 warm-up steps every schedule starts at the peak lr, so there is "
                       "nothing to compare.")
    if n["effect"]:
        return head + ("Only Adam without warm-up spiked above its starting loss; the warm-up "
                       "prevented it.")
    if no["spike"] <= SPIKE:
        return head + (f"Even without warm-up the loss stayed below {SPIKE:g}x its start: at "
                       f"this learning rate there is no spike for warm-up to prevent.")
    return head + (f"With warm-up too the loss rose above {CALM:g}x its start: warm-up alone "
                   f"does not tame this learning rate.")
