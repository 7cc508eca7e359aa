"""Overfitting: a big MLP on a few noisy points memorises them; dropout and early stopping help.

With 48 training points and ~17k weights the network fits every point, noise included:
the training loss keeps falling towards zero while the validation loss, after a short dip,
climbs, because confident predictions that fit the noise are wrong on new data. Dropout
zeroes half the hidden units at each step, so no unit can rely on others to memorise a
point. Early stopping stops once the validation loss has not improved for ``patience``
epochs and restores the best epoch's weights. That epoch was *chosen* on validation, so
its validation loss flatters it: every setup is scored on a separate test set, and the gap
is test loss minus training loss (eval mode, dropout off). The control is more data
(1024 points): then the validation loss barely turns up.
"""

from __future__ import annotations

import copy
import math

import torch
from _kit import Log, accuracy, circles, is_log_step
from _verdict import MARGIN, Statement, learned, render
from torch import nn

META = {
    "name": "overfitting",
    "claim": "With little data a big MLP drives its training loss toward zero while the "
             "validation loss rises; dropout and early stopping each narrow the gap on a "
             "held-out test set.",
    "claim_ko": "데이터가 적으면 큰 MLP는 학습 손실을 0에 가깝게 낮추지만 검증 손실은 "
                "올라간다. 드롭아웃과 조기 종료는 각각 별도 테스트 세트에서 그 격차를 줄인다.",
    "cpu_seconds": 1.5,
    "metric": "val_loss",
    "steps": 200,
    "control": {"num_train": 1024},
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


ROSE = 1.25  # the final validation loss must be this many times its minimum to count


def make_net(num_hiddens: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, num_hiddens), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(num_hiddens, num_hiddens), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(num_hiddens, 2))


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    num_epochs, n = num_steps, p["num_train"]  # full batch: one step is one epoch
    X_all, y_all = circles(n=n + 1024, noise=0.25, seed=seed)  # noisy rings overlap
    X, y = X_all[:n].to(device), y_all[:n].to(device)
    X_val, y_val = X_all[n:n + 512].to(device), y_all[n:n + 512].to(device)  # picks the epoch
    X_test, y_test = X_all[n + 512:].to(device), y_all[n + 512:].to(device)  # scores it
    loss_fn = nn.CrossEntropyLoss()
    setups = [("plain", 0.0, None), ("dropout", p["dropout"], None),
              ("early stopping", 0.0, p["patience"])]
    numbers: dict = {"num_epochs": num_epochs, "num_train": n, "dropout_p": p["dropout"],
                     "chance": y_test.bincount().max().item() / len(y_test)}  # majority class
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
            (train_loss, _), (val_loss, _) = evaluate(net, loss_fn, (X, y), (X_val, y_val))
            if val_loss < best_val:
                best_val, best_epoch = val_loss, epoch
                if patience is not None:
                    best_state = copy.deepcopy(net.state_dict())
            stop = patience is not None and epoch - best_epoch >= patience
            if stop or is_log_step(epoch, num_epochs):
                total = epoch if stop else num_epochs  # a stopped run is complete here
                # best_val: the lowest validation loss so far, over every epoch, logged or not
                yield Log(name, epoch, total, {"loss": train_loss, "val_loss": val_loss,
                                               "gap": val_loss - train_loss,
                                               "best_val": best_val}, part, len(setups))
            if stop:
                break
        if best_state is not None:
            net.load_state_dict(best_state)  # early stopping keeps the best epoch's weights
        (train_loss, train_acc), (val_loss, _), (test_loss, test_acc) = evaluate(
            net, loss_fn, (X, y), (X_val, y_val), (X_test, y_test))
        numbers[name] = {"train_loss": train_loss, "val_loss": val_loss, "test_loss": test_loss,
                         "gap": test_loss - train_loss, "train_acc": train_acc,
                         "test_acc": test_acc, "best_epoch": best_epoch,
                         "best_val_loss": best_val, "epochs_run": epoch}
    plain = numbers["plain"]
    numbers["effect"] = plain["val_loss"] >= ROSE * plain["best_val_loss"] and plain["gap"] >= 0.1
    return numbers


def evaluate(net: nn.Module, loss_fn: nn.Module, *sets: tuple) -> list[tuple[float, float]]:
    """(loss, accuracy) on each (X, y), with dropout off: the function the net has learned."""
    net.eval()
    with torch.no_grad():
        return [(loss_fn(net(X), y).item(), accuracy(net(X), y)) for X, y in sets]


def _share(gap: float, plain_gap: float, ko: bool) -> str:
    if not plain_gap >= 0.1:  # no real gap to narrow: a share of it would mean nothing
        return ""
    if gap <= 0:
        return ", 격차 없음" if ko else ", none left"
    share = f"{gap / plain_gap:.0%}" if gap / plain_gap >= 0.005 else "1% 미만"
    if ko:
        return f", 일반 MLP의 {share}"
    return f", {share.replace('1% 미만', 'under 1%')} of plain's"


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    plain, drop, early = n["plain"], n["dropout"], n["early stopping"]
    val, best = plain["val_loss"], plain["best_val_loss"]
    fine = math.isfinite(val) and math.isfinite(plain["train_loss"])
    rose = fine and val > 1.1 * best
    stopped = early["epochs_run"] < n["num_epochs"]
    start = (f"Plain MLP on {n['num_train']} points: training loss ended at "
             f"{plain['train_loss']:.3g} (train accuracy {plain['train_acc']:.0%}) while "
             f"validation loss", f"일반 MLP(학습 데이터 {n['num_train']}개): 학습 손실은 "
             f"{plain['train_loss']:.3g}(학습 정확도 {plain['train_acc']:.0%})로 끝났고, "
             f"검증 손실은 {plain['best_epoch']}에폭에 최저({best:.3g})를 찍은 뒤")
    en = "gap {gap:.3g}{share}, test loss {test_loss:.3g}, test accuracy {test_acc:.0%}"
    ko = "격차 {gap:.3g}{share}, 테스트 손실 {test_loss:.3g}, 테스트 정확도 {test_acc:.0%}"

    def row(r: dict, lang_ko: bool) -> str:
        share = "" if r is plain else _share(r["gap"], plain["gap"], lang_ko)
        return (ko if lang_ko else en).format(**r, share=share)

    restored = (f"{early['best_epoch']}에폭의 가중치로 되돌림(검증 손실로 고름), "
                f"{row(early, True)}",
                f"restored epoch {early['best_epoch']}'s weights, chosen on validation: "
                f"{row(early, False)}")
    idle = ([], [])  # remedies whose net did not learn: their small gap means nothing
    for r, en_name, ko_name in ((drop, "Dropout", "드롭아웃"),
                                (early, "Early stopping", "조기 종료")):
        if not learned(r["test_acc"], n["chance"]):
            idle[0].append(en_name)
            idle[1].append(ko_name)
    return [
        Statement("plain-rose", f"{start[0]} rose from its minimum {best:.3g} (epoch "
                  f"{plain['best_epoch']}) to {val:.3g}, more than 1.1x.", f"{start[1]} 다시 "
                  f"올라 최종 {val:.3g}입니다(1.1배 넘게).", rose),
        Statement("plain-flat", f"{start[0]} stayed near its minimum {best:.3g} (epoch "
                  f"{plain['best_epoch']}), ending at {val:.3g}, within 1.1x.", f"{start[1]} "
                  f"거의 그대로 머물러 최종 {val:.3g}입니다(1.1배 안).", fine and not rose),
        Statement("plain-diverged", f"The plain MLP's loss ended at inf/NaN (training "
                  f"{plain['train_loss']:.3g}, validation {val:.3g}).", f"일반 MLP의 손실이 "
                  f"inf/NaN으로 끝났습니다(학습 {plain['train_loss']:.3g}, 검증 {val:.3g}).",
                  not fine),
        Statement("overfits", f"It overfits: the validation loss ended at {ROSE:g}x its minimum "
                  f"or more, and the test loss exceeds the training loss by 0.1 or more.",
                  f"과적합입니다: 검증 손실이 최저의 {ROSE:g}배 이상으로 끝났고, 테스트 손실이 "
                  f"학습 손실보다 0.1 이상 큽니다.", bool(n["effect"])),
        Statement("not-overfit", f"Not enough to call it overfitting (that needs {ROSE:g}x the "
                  f"minimum and a gap of 0.1).", f"과적합이라 할 만큼은 아닙니다(최저의 {ROSE:g}배 "
                  f"이상, 격차 0.1 이상이어야 함).", not n["effect"]),
        Statement("test-plain", f"On the test set, never used to choose anything (gap = test "
                  f"loss - training loss): plain {row(plain, False)}.", f"선택에 한 번도 쓰지 "
                  f"않은 테스트 세트에서(격차 = 테스트 손실 - 학습 손실): 일반 MLP "
                  f"{row(plain, True)}.", True),
        Statement("test-dropout", f"Dropout {n['dropout_p']:g}: {row(drop, False)}.",
                  f"드롭아웃 {n['dropout_p']:g}: {row(drop, True)}.", True),
        Statement("remedy-not-learned", f"{' and '.join(idle[0])} did not learn (test accuracy "
                  f"less than {MARGIN * 100:.0f} points above chance, {n['chance']:.0%}): a small "
                  f"gap from learning nothing is no remedy.", f"{', '.join(idle[1])}의 망은 "
                  f"배우지 못했습니다(테스트 정확도가 우연 수준 {n['chance']:.0%}보다 "
                  f"{MARGIN * 100:.0f}%p 넘게 높지 않음): 아무것도 배우지 않아 격차가 작은 것은 "
                  f"해결책이 아닙니다.",
                  bool(idle[0])),
        Statement("early-halted", f"Early stopping halted at epoch {early['epochs_run']} and "
                  f"{restored[1]}.", f"조기 종료: {early['epochs_run']}에폭에서 멈추고 "
                  f"{restored[0]}.", stopped),
        Statement("early-ran-all", f"Early stopping ran all {n['num_epochs']} epochs and "
                  f"{restored[1]}.", f"조기 종료: {n['num_epochs']}에폭을 모두 돈 뒤 "
                  f"{restored[0]}.", not stopped),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
