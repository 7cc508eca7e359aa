"""Batch size: 1, 8, 64 and the full data set, trained for the same number of epochs.

A mini-batch gradient is an estimate of the full gradient; the smaller the batch, the
noisier the estimate, so the training-loss curve jitters. Small batches also mean many
small updates per epoch, and each update pays Python and kernel-launch overhead, so an
epoch takes far longer in wall time. Full batch gives a smooth curve and the fastest
epochs but only one update per epoch.
The learning rates follow the linear scaling rule (Goyal et al., 2017): multiply the
batch size by k, multiply the learning rate by k, i.e. ``lr = base_lr * B / base_batch``,
which keeps the average step per example about the same. It holds while the scaled rate
stays stable and there are enough updates; with a fixed epoch budget the full batch gets
only ``num_epochs`` updates and falls behind.
Loss-curve noise here is the standard deviation of the change in training loss from one
update to the next.
"""

from __future__ import annotations

import statistics
import time

import torch
from _kit import Log, accuracy, circles, is_log_step, mlp
from torch import nn

META = {
    "name": "batch-size",
    "claim": "Batch 1 gives the noisiest loss curve and by far the slowest epochs; the full "
             "batch is smooth and fast per epoch but makes one update per epoch. The linear "
             "scaling rule sets lr proportional to the batch size.",
    "claim_ko": "배치 크기 1은 손실 곡선이 가장 요동치고 에폭당 시간이 훨씬 오래 걸린다. "
                "전체 배치는 곡선이 매끄럽고 에폭이 빠르지만 에폭당 한 번만 갱신한다. "
                "선형 스케일링 규칙은 학습률을 배치 크기에 비례하게 정한다.",
    "cpu_seconds": 1.5,
    "metric": "loss",
    "steps": 5,
    "params": {
        "base_lr": {"default": 0.1, "help": "learning rate at base_batch (SGD, momentum 0.9)",
                    "min": 0, "max": 10},
        "base_batch": {"default": 64, "help": "batch size that base_lr is meant for",
                       "min": 1, "max": 4096},
        "num_train": {"default": 512, "help": "training examples (the full batch)",
                      "min": 64, "max": 4096},
    },
}


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    # --steps counts epochs here; at least 3, so the full batch's curve has changes to measure.
    num_epochs, n = max(3, num_steps), p["num_train"]
    X_all, y_all = circles(n=n + 512, noise=0.1, seed=seed)
    X, y = X_all[:n].to(device), y_all[:n].to(device)
    X_test, y_test = X_all[n:].to(device), y_all[n:].to(device)
    loss_fn = nn.CrossEntropyLoss()
    batch_sizes = sorted({1, 8, 64, n})
    numbers: dict = {"num_epochs": num_epochs, "num_train": n, "base_lr": p["base_lr"],
                     "base_batch": p["base_batch"], "runs": {}}
    for part, batch_size in enumerate(batch_sizes):
        lr = p["base_lr"] * batch_size / p["base_batch"]  # linear scaling rule
        name = "full" if batch_size == n else f"batch {batch_size}"
        torch.manual_seed(seed)  # same initial weights and shuffling for every batch size
        net = mlp(2, 32, 2, depth=2, activation="relu").to(device)
        trainer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        with torch.no_grad():
            start_loss = loss_fn(net(X), y).item()
        per_epoch = -(-n // batch_size)
        total = num_epochs * per_epoch
        losses: list[float] = []
        seconds = 0.0
        for _ in range(num_epochs):
            start = time.perf_counter()
            for idx in torch.randperm(n).split(batch_size):
                idx = idx.to(device)
                loss = loss_fn(net(X[idx]), y[idx])
                trainer.zero_grad()
                loss.backward()
                trainer.step()
                losses.append(loss.item())
                if is_log_step(len(losses), total):
                    seconds += time.perf_counter() - start  # the consumer's time is not ours
                    yield Log(name, len(losses), total, {"loss": losses[-1]}, part,
                              len(batch_sizes))
                    start = time.perf_counter()
            seconds += time.perf_counter() - start
        with torch.no_grad():
            test_acc = accuracy(net(X_test), y_test)
            train_loss = loss_fn(net(X), y).item()
        changes = [b - a for a, b in zip(losses, losses[1:], strict=False)]
        numbers["runs"][name] = {
            "batch_size": batch_size, "lr": lr, "updates_per_epoch": per_epoch,
            "ms_per_epoch": 1000 * seconds / num_epochs,
            "noise": statistics.pstdev(changes),
            "start_loss": start_loss, "train_loss": train_loss, "test_accuracy": test_acc,
        }
    return numbers


def verdict(n: dict, lang: str = "en") -> str:
    runs, ko = n["runs"], lang == "ko"
    small, full = runs[min(runs, key=lambda k: runs[k]["batch_size"])], runs["full"]
    noisier = small["noise"] / full["noise"] if full["noise"] else 0.0
    if not full["noise"]:
        noise = "더 요동치고(전체 배치는 평평)" if ko else "noisier (the full batch's was flat)"
    elif noisier >= 1:
        noise = f"{noisier:,.0f}배 더 요동치고" if ko else f"{noisier:,.0f}x noisier"
    else:
        less = 1 / noisier
        noise = f"오히려 {less:.2g}배 덜 요동치고" if ko else f"{less:.2g}x LESS noisy"
    # The rule holds only while the scaled rate is stable: flag runs whose loss went up.
    unstable = [r for r in runs.values() if not r["train_loss"] <= r["start_loss"]]
    if unstable:
        worst = ", ".join(f"B={r['batch_size']} (lr {r['lr']:.3g}: loss {r['start_loss']:.3g} "
                          f"-> {r['train_loss']:.3g})" for r in unstable)
        broke = (f" 학습률이 너무 커진 {worst}에서는 손실이 올라가 선형 스케일링 규칙이 "
                 f"깨졌습니다." if ko else f" The rule broke down for {worst}: the scaled "
                 f"rate was too large and the training loss went up.")
    else:
        broke = ""
    slower = small["ms_per_epoch"] / full["ms_per_epoch"]
    rule = ", ".join(f"{r['batch_size']} -> {r['lr']:.3g}" for r in runs.values())
    best = max(runs.values(), key=lambda r: r["test_accuracy"])["batch_size"]
    updates = small["updates_per_epoch"] * n["num_epochs"]
    row = ("배치 {batch_size}: 노이즈 {noise:.3g}, 에폭당 {ms_per_epoch:.3g} ms, 정확도 "
           "{test_accuracy:.0%}" if ko else "batch {batch_size}: noise {noise:.3g}, "
           "{ms_per_epoch:.3g} ms/epoch, test accuracy {test_accuracy:.0%}")
    table = "; ".join(row.format(**r) for r in runs.values())
    if ko:
        return (f"{n['num_epochs']}에폭 학습 결과 {table}. 배치 {small['batch_size']}은 전체 배치"
                f"({full['batch_size']})보다 손실 곡선이 {noise} 에폭당 "
                f"{slower:.0f}배 느렸습니다. 학습률은 선형 스케일링 규칙 lr = {n['base_lr']:g} "
                f"× B / {n['base_batch']}를 따랐습니다({rule}). 전체 배치는 총 "
                f"{n['num_epochs']}번만 갱신했고(배치 {small['batch_size']}은 {updates}번), "
                f"테스트 정확도가 가장 높은 것은 배치 {best}입니다.{broke}")
    return (f"After {n['num_epochs']} epochs: {table}. Batch {small['batch_size']}'s loss curve "
            f"was {noise} than the full batch's ({full['batch_size']}) and each "
            f"epoch took {slower:.0f}x longer. Learning rates followed the linear scaling rule "
            f"lr = {n['base_lr']:g} * B / {n['base_batch']} ({rule}). The full batch made only "
            f"{n['num_epochs']} updates in all (batch {small['batch_size']}: {updates}); the best "
            f"test accuracy came from batch {best}.{broke}")
