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
excess of the small batch over it, and says what the full batch's own share is.
``--set momentum=0`` removes the overshoot.
"""

from __future__ import annotations

import time

import torch
from _kit import Log, accuracy, circles, is_log_step, mlp
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


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    num_epochs, n = num_steps, p["num_train"]  # --steps counts epochs here
    X_all, y_all = circles(n=n + 512, noise=0.1, seed=seed)
    X, y = X_all[:n].to(device), y_all[:n].to(device)
    X_test, y_test = X_all[n:].to(device), y_all[n:].to(device)
    loss_fn = nn.CrossEntropyLoss()
    batch_sizes = sorted({b for b in (min(p["batch"], n), 8, 64, n) if min(p["batch"], n) <= b})
    numbers: dict = {"num_epochs": num_epochs, "num_train": n, "base_lr": p["base_lr"],
                     "base_batch": p["base_batch"], "momentum": p["momentum"], "runs": {}}
    for part, batch_size in enumerate(batch_sizes):
        lr = p["base_lr"] * batch_size / p["base_batch"]  # linear scaling rule
        name = "full" if batch_size == n else f"batch {batch_size}"
        torch.manual_seed(seed)  # same initial weights and shuffling for every batch size
        net = mlp(2, 32, 2, depth=2, activation="relu").to(device)
        trainer = torch.optim.SGD(net.parameters(), lr=lr, momentum=p["momentum"])
        with torch.no_grad():
            start_loss = loss = loss_fn(net(X), y).item()
        total = num_epochs * -(-n // batch_size)
        updates = raised = changed = seconds = 0
        for _ in range(num_epochs):
            for idx in torch.randperm(n).split(batch_size):
                start = time.perf_counter()
                idx = idx.to(device)
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
                    yield Log(name, updates, total, {"loss": loss}, part, len(batch_sizes))
        with torch.no_grad():
            test_acc = accuracy(net(X_test), y_test)
        numbers["runs"][name] = {"batch_size": batch_size, "lr": lr, "updates": updates,
                                 "ms_per_epoch": 1000 * seconds / num_epochs,
                                 "raised": raised / updates, "changed": changed / updates,
                                 "start_loss": start_loss, "train_loss": loss,
                                 "test_accuracy": test_acc}
    runs = list(numbers["runs"].values())
    numbers.update(chance=y_test.bincount().max().item() / len(y_test),
                   effect=runs[0]["raised"] - runs[-1]["raised"] >= NOISIER)
    return numbers


def _names(runs: list, ko: bool) -> str:
    return ", ".join(("배치 {}" if ko else "batch {}").format(r["batch_size"]) for r in runs)


def verdict(n: dict, lang: str = "en") -> str:
    ko, runs = lang == "ko", list(n["runs"].values())
    small, full = runs[0], runs[-1]
    row = ("배치 {batch_size}(학습률 {lr:.3g}): 갱신 {updates}번 중 {raised:.0%}가 손실을 키움, "
           "에폭당 {ms_per_epoch:.3g} ms, 학습 손실 {train_loss:.3g}, 테스트 정확도 "
           "{test_accuracy:.0%}" if ko else "batch {batch_size} (lr {lr:.3g}): {raised:.0%} of "
           "{updates} updates raised the loss, {ms_per_epoch:.3g} ms/epoch, training loss "
           "{train_loss:.3g}, test accuracy {test_accuracy:.0%}")
    head = ((f"{n['num_epochs']}에폭, 학습률은 lr = {n['base_lr']:g} × B / {n['base_batch']}"
             f"(선형 스케일링 규칙). " if ko else f"{n['num_epochs']} epochs, lr = "
             f"{n['base_lr']:g} * B / {n['base_batch']} (the linear scaling rule). ")
            + "; ".join(row.format(**r) for r in runs) + ".")
    if not any(r["changed"] for r in runs):
        return head + (" 어떤 갱신도 손실을 바꾸지 못했습니다(학습률 0이면 아무것도 학습되지 "
                       "않음). 비교할 노이즈도 최고 배치도 없습니다." if ko else " No update "
                       "changed the loss (at lr 0 nothing trains): there is no noise to compare "
                       "and no best batch.")
    if len(runs) == 1:
        noise = (" 전체 배치만 실행했습니다: 모든 갱신이 정확한 기울기를 따르므로 더 작은 배치의 "
                 "노이즈 효과가 없습니다." if ko else " Only the full batch ran: every update "
                 "followed the exact gradient, so there is no small-batch noise effect here.")
    elif n["effect"]:
        slower = small["ms_per_epoch"] / full["ms_per_epoch"]
        noise = (f" 배치 {small['batch_size']}의 갱신은 {small['raised']:.0%}가 전체 손실을 "
                 f"키웠고 전체 배치는 {full['raised']:.0%}였습니다. 더 많은 "
                 f"{(small['raised'] - full['raised']) * 100:.0f}%p는 작은 배치의 더 시끄러운 "
                 f"기울기에서 오며, 에폭마다 {slower:.1f}배 오래 걸렸습니다." if ko else
                 f" Batch {small['batch_size']}'s updates raised the "
                 f"full loss {small['raised']:.0%} of the time, the full batch's "
                 f"{full['raised']:.0%}: the {(small['raised'] - full['raised']) * 100:.0f} "
                 f"points more come with the noisier small-batch gradient, and each of their "
                 f"epochs took "
                 f"{slower:.1f}x as long.")
    else:
        noise = (f" 배치 {small['batch_size']}의 갱신은 {small['raised']:.0%}, 전체 배치는 "
                 f"{full['raised']:.0%}가 전체 손실을 키웠습니다. {NOISIER:.0%}p 이상 많지 않으니 "
                 f"작은 배치의 노이즈 효과는 없습니다." if ko else f" Batch "
                 f"{small['batch_size']}'s updates raised the full loss {small['raised']:.0%} of "
                 f"the time, the full batch's {full['raised']:.0%}: not {NOISIER * 100:.0f} points "
                 f"more, so no small-batch noise effect here.")
    if full["raised"] > 0 and any(r["changed"] for r in runs):
        noise += ((f" 전체 배치의 기울기는 정확하므로, 그 갱신의 {full['raised']:.0%}가 손실을 "
                   f"키운 것은 노이즈가 아니라 " + (f"모멘텀({n['momentum']:g})의 오버슈트입니다."
                                       if n["momentum"] else "너무 큰 스텝 탓입니다."))
                  if ko else f" The full batch's gradient is exact, so the {full['raised']:.0%} "
                  f"of its updates that raised the loss are not noise but " + (
                      f"the momentum's overshoot (momentum {n['momentum']:g})."
                      if n["momentum"] else "steps too large for the curvature."))
    top = max(r["test_accuracy"] for r in runs)
    best = [r for r in runs if r["test_accuracy"] >= top - 0.01]
    lead, acc = best[0], ""
    if top < n["chance"] + 0.05:
        acc = (f" 모든 실행이 우연 수준({n['chance']:.0%})이라 최고 배치는 없습니다." if ko else
               f" Every run is at chance ({n['chance']:.0%}): there is no best batch.")
    elif len(runs) > 1:
        acc = (f" 테스트 정확도 최고: {_names(best, ko)}." if ko
               else f" Best test accuracy: {_names(best, ko)}.")
        stable = full["train_loss"] <= full["start_loss"]  # a blow-up is not under-training
        if full not in best and stable and full["train_loss"] > lead["train_loss"] + 0.05:
            acc += (f" 전체 배치는 갱신이 {full['updates']}번뿐이라 학습 손실도 "
                    f"{full['train_loss']:.3g}로 배치 {lead['batch_size']}"
                    f"({lead['train_loss']:.3g})보다 높습니다: 낮은 정확도는 덜 학습된 탓이지, "
                    f"큰 배치의 일반화 격차가 아닙니다." if ko else f" The full batch made only "
                    f"{full['updates']} updates and its training loss ({full['train_loss']:.3g}) "
                    f"is above batch {lead['batch_size']}'s ({lead['train_loss']:.3g}): it is "
                    f"under-trained, which is not the large-batch generalisation gap.")
    unstable = [r for r in runs if not r["train_loss"] <= r["start_loss"]]
    if unstable:
        acc += (f" {_names(unstable, ko)}에서는 키운 학습률이 너무 커서 손실이 올라갔습니다(선형 "
                f"스케일링 규칙이 깨짐)." if ko else f" For {_names(unstable, ko)} the scaled rate "
                f"was too large and the loss went up: the rule broke down.")
    return head + noise + acc
