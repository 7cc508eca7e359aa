"""Batch size: 1, 8, 64 and the full data set, trained for the same number of epochs.

A mini-batch gradient is a noisy estimate of the full gradient, the noisier the smaller
the batch, so an update often points the wrong way for the data as a whole. We measure
that: after every update we compute the loss on the *full* training set and count the
updates that made it worse. Small batches also mean many updates per epoch, each paying
Python and kernel-launch overhead. Learning rates follow the linear scaling rule (Goyal
et al., 2017): ``lr = base_lr * B / base_batch``. With a fixed epoch budget the full batch
gets only ``num_epochs`` updates; if it ends behind with a high training loss, that is
under-training, not the large-batch generalisation gap (Keskar et al., 2017).
The control, ``batch`` = the full batch, leaves only exact-gradient updates.

Not every update that raises the loss is noise: the full batch's gradient is exact, yet with
momentum 0.9 it still overshoots (at 40 epochs about 30 % of its updates raise the loss).
So the full batch is the baseline: the verdict attributes to mini-batch noise only the
excess of the small batch over it, and says what the full batch's own share is. With
momentum on, the full batch also trains once without it (run "full, momentum 0", same rate
and weights): momentum is blamed for the full batch's raised updates only when that arm
raises the loss at least 10 points less often. ``--set momentum=0`` removes the overshoot.

Every record streams the run's running shares (``raised``, ``changed``: of the updates so
far), so the last record of a run holds its final shares at any ``--steps``.
"""

from __future__ import annotations

import time

import torch
from _kit import Log, accuracy, circles, is_log_step, mlp
from _verdict import MARGIN, Statement, causal, render
from torch import nn

META = {
    "name": "batch-size",
    "claim": "The smaller the batch, the more of its updates make the full training loss worse "
             "(batch 1 the most, the full batch almost none), and the slower each epoch; the "
             "linear scaling rule sets lr proportional to the batch size.",
    "claim_ko": "배치가 작을수록 전체 학습 손실을 오히려 키우는 갱신이 많고(배치 1이 가장 많고 "
                "전체 배치는 거의 없다) 에폭도 느려진다. 선형 스케일링 규칙은 학습률을 배치 크기에 "
                "비례하게 정한다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 5,
    "control": {"batch": 512},
    "params": {
        "batch": {"default": 1, "help": "smallest batch (then 8, 64, full)", "min": 1, "max": 4096},
        "base_lr": {"default": 0.1, "help": "learning rate at base_batch (SGD, momentum 0.9)",
                    "min": 0, "max": 10},
        "base_batch": {"default": 64, "help": "batch base_lr is meant for", "min": 1, "max": 4096},
        "momentum": {"default": 0.9, "help": "SGD momentum (its overshoot raises the loss "
                     "even with the exact gradient)", "min": 0, "max": 0.99},
        "num_train": {"default": 512, "help": "training examples", "min": 64, "max": 4096},
    },
}
NOISIER = 0.1  # the smallest batch must raise the loss this much more often than the full one


def _train(name: str, batch_size: int, lr: float, momentum: float, data: tuple, seed: int,
           num_epochs: int, part: int, parts: int, out: dict):
    """Train one net, yield its records, and fill ``out`` with the run's numbers."""
    X, y, X_test, y_test = data
    n, loss_fn = len(X), nn.CrossEntropyLoss()
    torch.manual_seed(seed)  # same initial weights and shuffling for every batch size
    net = mlp(2, 32, 2, depth=2, activation="relu").to(X.device)
    trainer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    with torch.no_grad():
        start_loss = loss = loss_fn(net(X), y).item()
    total = num_epochs * -(-n // batch_size)
    updates = raised = changed = 0
    seconds = 0.0
    for _ in range(num_epochs):
        for idx in torch.randperm(n).split(batch_size):
            start = time.perf_counter()
            idx = idx.to(X.device)
            batch_loss = loss_fn(net(X[idx]), y[idx])
            trainer.zero_grad()
            batch_loss.backward()
            trainer.step()
            seconds += time.perf_counter() - start  # training only, not our measuring
            with torch.no_grad():
                before, loss = loss, loss_fn(net(X), y).item()  # the full training loss
            updates += 1
            raised += loss > before
            changed += loss != before
            if is_log_step(updates, total):
                metrics = {"loss": loss, "raised": raised / updates, "changed": changed / updates}
                if updates == 1:
                    metrics["start_loss"] = start_loss
                yield Log(name, updates, total, metrics, part, parts)
    with torch.no_grad():
        test_acc = accuracy(net(X_test), y_test)
    out.update({"batch_size": batch_size, "lr": lr, "momentum": momentum, "updates": updates,
                "ms_per_epoch": 1000 * seconds / num_epochs, "raised": raised / updates,
                "changed": changed / updates, "start_loss": start_loss, "train_loss": loss,
                "test_accuracy": test_acc})


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    num_epochs, n = num_steps, p["num_train"]  # --steps counts epochs here
    X_all, y_all = circles(n=n + 512, noise=0.1, seed=seed)
    data = (X_all[:n].to(device), y_all[:n].to(device), X_all[n:].to(device),
            y_all[n:].to(device))
    batch_sizes = sorted({b for b in (min(p["batch"], n), 8, 64, n) if min(p["batch"], n) <= b})
    numbers: dict = {"num_epochs": num_epochs, "num_train": n, "base_lr": p["base_lr"],
                     "base_batch": p["base_batch"], "momentum": p["momentum"], "runs": {}}
    parts = len(batch_sizes) + (p["momentum"] > 0)
    for part, batch_size in enumerate(batch_sizes):
        lr = p["base_lr"] * batch_size / p["base_batch"]  # linear scaling rule
        name = "full" if batch_size == n else f"batch {batch_size}"
        numbers["runs"][name] = {}
        yield from _train(name, batch_size, lr, p["momentum"], data, seed, num_epochs, part,
                          parts, numbers["runs"][name])
    if p["momentum"] > 0:  # the arm that varies momentum: the full batch without it
        numbers["full_no_momentum"] = {}
        yield from _train("full, momentum 0", n, p["base_lr"] * n / p["base_batch"], 0.0, data,
                          seed, num_epochs, parts - 1, parts, numbers["full_no_momentum"])
    runs = list(numbers["runs"].values())
    numbers.update(chance=data[3].bincount().max().item() / len(data[3]),
                   effect=runs[0]["raised"] - runs[-1]["raised"] >= NOISIER)
    return numbers


def _names(runs: list, ko: bool) -> str:
    return ", ".join(("배치 {}" if ko else "batch {}").format(r["batch_size"]) for r in runs)


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    runs = list(n["runs"].values())
    small, full, m0 = runs[0], runs[-1], n.get("full_no_momentum")
    row = ("batch {batch_size} (lr {lr:.3g}): {raised:.0%} of {updates} updates raised the "
           "loss, {ms_per_epoch:.3g} ms/epoch, training loss {train_loss:.3g}, test accuracy "
           "{test_accuracy:.0%}")
    row_ko = ("배치 {batch_size}(학습률 {lr:.3g}): 갱신 {updates}번 중 {raised:.0%}가 손실을 "
              "키움, 에폭당 {ms_per_epoch:.3g} ms, 학습 손실 {train_loss:.3g}, 테스트 정확도 "
              "{test_accuracy:.0%}")
    moved = any(r["changed"] for r in runs)
    excess = (small["raised"] - full["raised"]) * 100
    slower = small["ms_per_epoch"] / full["ms_per_epoch"] if full["ms_per_epoch"] else 0.0
    mom = n["momentum"]
    top = max(r["test_accuracy"] for r in runs)
    best = [r for r in runs if r["test_accuracy"] >= top - 0.01]
    lead = best[0]
    learned_any = top >= n["chance"] + MARGIN
    stable = full["train_loss"] <= full["start_loss"]  # a blow-up is not under-training
    unstable = [r for r in runs if not r["train_loss"] <= r["start_loss"]]
    m0_fewer = m0 is not None and m0["raised"] <= full["raised"] - NOISIER
    return [
        Statement("setup", f"{n['num_epochs']} epochs, lr = {n['base_lr']:g} * B / "
                  f"{n['base_batch']} (the linear scaling rule). "
                  + "; ".join(row.format(**r) for r in runs) + ".",
                  f"{n['num_epochs']}에폭, 학습률은 lr = {n['base_lr']:g} × B / "
                  f"{n['base_batch']}(선형 스케일링 규칙). "
                  + "; ".join(row_ko.format(**r) for r in runs) + ".", True),
        Statement("nothing-changed", "No update changed the loss (at lr 0 nothing trains): "
                  "there is no noise to compare and no best batch.", "어떤 갱신도 손실을 바꾸지 "
                  "못했습니다(학습률 0이면 아무것도 학습되지 않음). 비교할 노이즈도 최고 배치도 "
                  "없습니다.", not moved),
        Statement("full-only", "Only the full batch ran: every update followed the exact "
                  "gradient, so there is no small-batch noise effect here.", "전체 배치만 "
                  "실행했습니다: 모든 갱신이 정확한 기울기를 따르므로 더 작은 배치의 노이즈 효과가 "
                  "없습니다.", moved and len(runs) == 1),
        Statement("noisier", f"Batch {small['batch_size']}'s updates raised the full loss "
                  f"{small['raised']:.0%} of the time, the full batch's {full['raised']:.0%}: "
                  f"the {excess:.0f} points more come with the noisier small-batch gradient "
                  f"(and, by the scaling rule, an lr {small['batch_size']}/{full['batch_size']} "
                  f"of the full batch's).", f"배치 {small['batch_size']}의 갱신은 "
                  f"{small['raised']:.0%}가 전체 손실을 키웠고 전체 배치는 {full['raised']:.0%}"
                  f"였습니다. 더 많은 {excess:.0f}%p는 작은 배치의 더 시끄러운 기울기와 함께 "
                  f"나타납니다(스케일링 규칙에 따라 학습률도 전체 배치의 {small['batch_size']}/"
                  f"{full['batch_size']}).", moved and len(runs) > 1 and n["effect"]),
        Statement("epoch-time", f"Each epoch of batch {small['batch_size']} took {slower:.1f}x "
                  f"as long as the full batch's (wall clock, as measured).", f"배치 "
                  f"{small['batch_size']}의 에폭은 전체 배치보다 {slower:.1f}배 오래 "
                  f"걸렸습니다(측정한 실제 시간).", len(runs) > 1 and full["ms_per_epoch"] > 0),
        Statement("no-noise-effect", f"Batch {small['batch_size']}'s updates raised the full "
                  f"loss {small['raised']:.0%} of the time, the full batch's "
                  f"{full['raised']:.0%}: not {NOISIER * 100:.0f} points more, so no "
                  f"small-batch noise effect here.", f"배치 {small['batch_size']}의 갱신은 "
                  f"{small['raised']:.0%}, 전체 배치는 {full['raised']:.0%}가 전체 손실을 "
                  f"키웠습니다. {NOISIER * 100:.0f}%p 이상 많지 않으니 작은 배치의 노이즈 "
                  f"효과는 없습니다.", moved and len(runs) > 1 and not n["effect"]),
        Statement("full-exact", f"The full batch's gradient is exact, so the "
                  f"{full['raised']:.0%} of its updates that raised the loss are not noise.",
                  f"전체 배치의 기울기는 정확하므로, 그 갱신의 {full['raised']:.0%}가 손실을 "
                  f"키운 것은 노이즈가 아닙니다.", moved and full["raised"] > 0),
        causal("momentum", ["momentum"] if m0 is not None else [], "momentum-overshoot",
               f"Without momentum the same full batch raised it on {m0['raised']:.0%} of its "
               f"updates: the momentum's overshoot (momentum {mom:g}) caused the difference."
               if m0 else "", f"모멘텀 없이 같은 전체 배치는 갱신의 {m0['raised']:.0%}만 "
               f"손실을 키웠습니다: 그 차이는 모멘텀({mom:g})의 오버슈트 때문입니다." if m0 else "",
               moved and full["raised"] > 0 and m0_fewer),
        Statement("not-momentum", f"Without momentum the same full batch raised it on "
                  f"{m0['raised']:.0%} of its updates, not {NOISIER * 100:.0f} points fewer: "
                  f"the exact steps themselves are too large for the curvature." if m0 else "",
                  f"모멘텀 없이도 같은 전체 배치는 갱신의 {m0['raised']:.0%}가 손실을 키워 "
                  f"{NOISIER * 100:.0f}%p 넘게 줄지 않았습니다: 정확한 스텝 자체가 곡률에 비해 "
                  f"너무 큽니다." if m0 else "",
                  moved and full["raised"] > 0 and m0 is not None and not m0_fewer),
        Statement("too-large", "With no momentum and an exact gradient, those are steps too "
                  "large for the curvature.", "모멘텀 없이 정확한 기울기로 손실이 커졌으니 "
                  "곡률에 비해 너무 큰 스텝입니다.", moved and full["raised"] > 0 and mom == 0),
        Statement("no-one-learned", f"No run learned: every test accuracy is less than "
                  f"{MARGIN * 100:.0f} points above chance ({n['chance']:.0%}), so there is "
                  f"no best batch.", f"어떤 실행도 배우지 못했습니다: 모든 테스트 정확도가 우연 "
                  f"수준({n['chance']:.0%})보다 {MARGIN * 100:.0f}%p 넘게 높지 않아 최고 배치는 "
                  f"없습니다.", moved and not learned_any),
        Statement("best", f"Best test accuracy: {_names(best, False)}.", f"테스트 정확도 최고: "
                  f"{_names(best, True)}.", moved and learned_any and len(runs) > 1),
        Statement("under-trained", f"The full batch made only {full['updates']} updates and "
                  f"its training loss ({full['train_loss']:.3g}) is above batch "
                  f"{lead['batch_size']}'s ({lead['train_loss']:.3g}): it is under-trained, "
                  f"which is not the large-batch generalisation gap.", f"전체 배치는 갱신이 "
                  f"{full['updates']}번뿐이라 학습 손실도 {full['train_loss']:.3g}로 배치 "
                  f"{lead['batch_size']}({lead['train_loss']:.3g})보다 높습니다: 낮은 정확도는 "
                  f"덜 학습된 탓이지, 큰 배치의 일반화 격차가 아닙니다.",
                  moved and learned_any and len(runs) > 1 and full not in best and stable
                  and full["train_loss"] > lead["train_loss"] + 0.05),
        Statement("unstable", f"For {_names(unstable, False)} the training loss ended above "
                  f"where it started: the scaled rate was too large and the loss went up, so "
                  f"the rule broke down.", f"{_names(unstable, True)}에서는 학습 손실이 시작보다 "
                  f"높게 끝났습니다: 키운 학습률이 너무 커서 손실이 올라갔습니다(선형 스케일링 "
                  f"규칙이 깨짐).", moved and bool(unstable)),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
