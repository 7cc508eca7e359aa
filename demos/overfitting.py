"""Overfitting: a big MLP on a few noisy points memorises them; dropout and early stopping help.

With 48 training points and ~17k weights the network can fit every point, noise included:
the training loss keeps falling towards zero while the validation loss, after a short
dip, climbs, because the confident predictions that fit the noise are wrong on new data.
Dropout randomly zeroes half the hidden units at each training step, so no unit can rely
on a few others to memorise a point; the learned function is smoother and the gap between
validation and training loss is narrower. Early stopping watches the validation loss,
stops once it has not improved for ``patience`` epochs, and restores the weights from the
best epoch. The gap is measured as validation loss minus training loss (both in eval mode).
"""

from __future__ import annotations

import copy
import math

import torch
from _kit import Log, accuracy, circles, is_log_step
from torch import nn

META = {
    "name": "overfitting",
    "claim": "With little data a big MLP drives its training loss toward zero while the "
             "validation loss rises; dropout and early stopping each narrow the gap.",
    "claim_ko": "데이터가 적으면 큰 MLP는 학습 손실을 0에 가깝게 낮추지만 검증 손실은 "
                "올라간다. 드롭아웃과 조기 종료는 각각 그 격차를 줄인다.",
    "cpu_seconds": 1.5,
    "metric": "val_loss",
    "steps": 200,
    "params": {
        "num_train": {"default": 48, "help": "training examples", "min": 8, "max": 4096},
        "num_hiddens": {"default": 128, "help": "units per hidden layer (2 hidden layers)",
                        "min": 2, "max": 1024},
        "dropout": {"default": 0.5, "help": "dropout probability of the dropout run",
                    "min": 0, "max": 0.95},
        "patience": {"default": 20, "help": "early stopping: epochs without a better "
                     "validation loss before stopping", "min": 1, "max": 1000},
        "lr": {"default": 0.01, "help": "Adam learning rate", "min": 0, "max": 1},
    },
}


def make_net(num_hiddens: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, num_hiddens), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(num_hiddens, num_hiddens), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(num_hiddens, 2))


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    num_epochs, n = num_steps, p["num_train"]  # full batch: one step is one epoch
    X_all, y_all = circles(n=n + 512, noise=0.25, seed=seed)  # noisy rings overlap
    X, y = X_all[:n].to(device), y_all[:n].to(device)
    X_val, y_val = X_all[n:].to(device), y_all[n:].to(device)
    loss_fn = nn.CrossEntropyLoss()
    setups = [("plain", 0.0, None), ("dropout", p["dropout"], None),
              ("early stopping", 0.0, p["patience"])]
    numbers: dict = {"num_epochs": num_epochs, "num_train": n, "dropout_p": p["dropout"]}
    for part, (name, dropout, patience) in enumerate(setups):
        torch.manual_seed(seed)  # same initial weights for all three
        net = make_net(p["num_hiddens"], dropout).to(device)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
        best_val, best_epoch, best_state = math.inf, 0, None
        for epoch in range(1, num_epochs + 1):
            net.train()  # dropout active
            loss = loss_fn(net(X), y)
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            train_loss, val_loss, _, _ = evaluate(net, loss_fn, X, y, X_val, y_val)
            if val_loss < best_val:
                best_val, best_epoch = val_loss, epoch
                if patience is not None:
                    best_state = copy.deepcopy(net.state_dict())
            stop = patience is not None and epoch - best_epoch >= patience
            if stop or is_log_step(epoch, num_epochs):
                total = epoch if stop else num_epochs  # a stopped run is complete here
                yield Log(name, epoch, total, {"loss": train_loss, "val_loss": val_loss,
                                               "gap": val_loss - train_loss}, part, len(setups))
            if stop:
                break
        if best_state is not None:
            net.load_state_dict(best_state)  # early stopping keeps the best epoch's weights
        train_loss, val_loss, train_acc, val_acc = evaluate(net, loss_fn, X, y, X_val, y_val)
        numbers[name] = {"train_loss": train_loss, "val_loss": val_loss,
                         "gap": val_loss - train_loss, "train_acc": train_acc,
                         "val_acc": val_acc, "best_epoch": best_epoch, "best_val_loss": best_val,
                         "epochs_run": epoch}
    return numbers


def evaluate(net: nn.Module, loss_fn: nn.Module, X, y, X_val, y_val) -> tuple:
    net.eval()  # dropout off: measure the function the network has learned
    with torch.no_grad():
        y_hat, y_hat_val = net(X), net(X_val)
        return (loss_fn(y_hat, y).item(), loss_fn(y_hat_val, y_val).item(),
                accuracy(y_hat, y), accuracy(y_hat_val, y_val))


def _share(gap: float, plain_gap: float, ko: bool) -> str:
    if plain_gap <= 0:
        return ""
    return f", 일반 MLP의 {gap / plain_gap:.0%}" if ko else f", {gap / plain_gap:.0%} of plain's"


def verdict(n: dict, lang: str = "en") -> str:
    plain, drop, early, ko = n["plain"], n["dropout"], n["early stopping"], lang == "ko"
    rose = plain["val_loss"] > 1.1 * plain["best_val_loss"]
    stopped = early["epochs_run"] < n["num_epochs"]
    if ko:
        trend = "다시 올라" if rose else "거의 그대로 머물러"
        halt = (f"{early['epochs_run']}에폭에서 멈추고" if stopped
                else f"{n['num_epochs']}에폭을 모두 돈 뒤")
        return (f"일반 MLP(학습 데이터 {n['num_train']}개): 학습 손실은 "
                f"{plain['train_loss']:.3g}까지 내려갔지만 검증 손실은 {plain['best_epoch']}에폭에 "
                f"최저({plain['best_val_loss']:.3g})를 찍은 뒤 {trend} 최종 "
                f"{plain['val_loss']:.3g}입니다(격차 {plain['gap']:.3g}, 학습 정확도 "
                f"{plain['train_acc']:.0%}, 검증 정확도 {plain['val_acc']:.0%}). 드롭아웃 "
                f"{n['dropout_p']:g}: 격차 {drop['gap']:.3g}{_share(drop['gap'], plain['gap'], ko)}"
                f", 검증 정확도 {drop['val_acc']:.0%}. 조기 종료: {halt} 검증 손실이 가장 낮았던 "
                f"{early['best_epoch']}에폭의 가중치로 되돌려 격차 {early['gap']:.3g}"
                f"{_share(early['gap'], plain['gap'], ko)}, 검증 정확도 {early['val_acc']:.0%}.")
    trend = (f"rose from its minimum {plain['best_val_loss']:.3g} (epoch {plain['best_epoch']}) "
             f"to {plain['val_loss']:.3g}" if rose else f"stayed near its minimum "
             f"{plain['best_val_loss']:.3g} (epoch {plain['best_epoch']}), ending at "
             f"{plain['val_loss']:.3g}")
    halt = (f"halted at epoch {early['epochs_run']}" if stopped
            else f"ran all {n['num_epochs']} epochs")
    return (f"Plain MLP on {n['num_train']} points: training loss fell to "
            f"{plain['train_loss']:.3g} while validation loss {trend}: gap {plain['gap']:.3g}, "
            f"train accuracy {plain['train_acc']:.0%}, validation {plain['val_acc']:.0%}. "
            f"Dropout {n['dropout_p']:g}: gap {drop['gap']:.3g}"
            f"{_share(drop['gap'], plain['gap'], ko)}, validation accuracy "
            f"{drop['val_acc']:.0%}. Early stopping {halt} and restored epoch "
            f"{early['best_epoch']}'s weights: gap {early['gap']:.3g}"
            f"{_share(early['gap'], plain['gap'], ko)}, validation accuracy "
            f"{early['val_acc']:.0%}.")
