"""Normalisation: the same deep MLP with no norm, BatchNorm and LayerNorm, then BatchNorm's
train-mode pitfall.

Each hidden layer is Linear -> norm -> ReLU, from PyTorch's default init, which shrinks the
signal by about 0.4 per layer: after 16 layers the unnormalised activations are ~1e-6 of
the input's scale and the net cannot start learning. BatchNorm (Ioffe & Szegedy 2015)
rescales every feature with the batch's mean and variance, LayerNorm (Ba et al. 2016) every
example with its own features' - both bring each layer back to unit scale.

BatchNorm's output therefore depends on the rest of the batch. At eval time `net.eval()`
switches it to the running averages collected in training, so a prediction no longer depends
on its batch. Forget it and predictions change with the batch: in batches of 2 each feature
is squashed to about +-1. A batch of 1 in train mode has no variance at all (PyTorch refuses
it). LayerNorm has no such mode: it never looks across the batch.

The first part rests on the init: `--set init=he` (Kaiming normal for ReLU) keeps the
signal's size without any normalisation, and the verdict then says whether the plain net
trains. The verdict always names the init it ran.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, accuracy, is_log_step, ratio, spirals
from torch import nn

META = {
    "name": "normalization",
    "claim": "From PyTorch's default init, a deep MLP without normalisation does not train "
             "(the differences between examples shrink layer by layer); with BatchNorm it does. "
             "BatchNorm must run in eval mode at test time: in train mode its predictions "
             "depend on the batch.",
    "claim_ko": "PyTorch 기본 초기화에서 정규화 없는 깊은 MLP는 층마다 예제 간 차이가 줄어 "
                "학습되지 않지만, BatchNorm을 "
                "넣으면 학습된다. BatchNorm은 테스트 때 eval 모드여야 한다. train 모드에서는 "
                "예측이 배치에 따라 달라진다.",
    "cpu_seconds": 2.5,
    "metric": "loss",
    "steps": 100,
    "params": {
        "depth": {"default": 16, "help": "hidden layers", "min": 1, "max": 48},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
        "lr": {"default": 0.02, "help": "SGD learning rate (momentum 0.9)", "min": 0,
               "max": 10},
        "init": {"default": "default", "choices": ["default", "he"],
                 "help": "default: PyTorch's Linear init (shrinks the signal about 0.4x per "
                 "layer); he: Kaiming normal for ReLU (keeps its size)"},
        "eval_batch": {"default": 2, "help": "batch size of the train-mode evaluation",
                       "min": 2, "max": 256},
    },
    "control": {"depth": 2},
    "layers": {"prefix": "act_std/", "label": "spread of activations across examples, per "
               "hidden layer", "label_ko": "은닉층별 예제 간 활성값 퍼짐(표준편차)",
               "verdict": "init"},
}

GAP = 0.1  # a loss difference that counts (seed noise is about 0.05)
CHANCE = math.log(2)  # cross-entropy of a 50/50 guess: nothing learned
NORMS = {"none": lambda k: nn.Identity(), "batchnorm": nn.BatchNorm1d, "layernorm": nn.LayerNorm}


def make_net(kind: str, depth: int, num_hiddens: int, init: str = "default") -> nn.Sequential:
    layers: list[nn.Module] = []
    width = 2
    for i in range(depth):
        # Not on the input layer: LayerNorm there would erase the radius of a 2-D point.
        norm = NORMS[kind](num_hiddens) if i else nn.Identity()
        layers += [nn.Linear(width, num_hiddens), norm, nn.ReLU()]
        width = num_hiddens
    net = nn.Sequential(*layers, nn.Linear(width, 2))
    if init == "he":
        for layer in net:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
    return net


def act_stds(net: nn.Sequential, X: torch.Tensor) -> list[float]:
    stds, h = [], X
    for module in net:
        h = module(h)
        if isinstance(module, nn.ReLU):  # how much the examples differ: the input's signal
            stds.append(h.std(dim=0).mean().item())
    return stds


def bn_pitfall(net: nn.Sequential, X: torch.Tensor, y: torch.Tensor, size: int) -> dict:
    """The trained BatchNorm net on held-out data: eval mode vs train mode."""
    with torch.no_grad():
        net.eval()
        whole = net(X)
        alone = torch.cat([net(X[i:i + 1]) for i in range(8)])  # one example at a time
        out = {"eval_acc": accuracy(whole, y), "alone_diff": (alone - whole[:8]).abs().max().item()}
        net.train()  # the mistake: batch statistics at test time (it also moves the buffers)
        small = torch.cat([net(X[i:i + size]) for i in range(0, len(X), size)])
        out["train_mode_acc"] = accuracy(small, y)
        out["changed"] = (small.argmax(1) != whole.argmax(1)).float().mean().item()
        try:
            net(X[:1])
            out["batch_of_one"] = "ran"
        except ValueError:  # one value per channel has no variance
            out["batch_of_one"] = "refused"
    return out


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = spirals(n=512, seed=seed)
    X_train, y_train, X_test, y_test = X[:256], y[:256], X[256:], y[256:]
    X_train, y_train = X_train.to(device), y_train.to(device)
    X_test, y_test = X_test.to(device), y_test.to(device)
    loss_fn = nn.CrossEntropyLoss()
    numbers: dict = {"depth": p["depth"], "lr": p["lr"], "steps": num_steps,
                     "eval_batch": p["eval_batch"], "init": p["init"]}
    for part, kind in enumerate(NORMS):
        torch.manual_seed(seed)  # the same Linear weights for all three
        net = make_net(kind, p["depth"], p["num_hiddens"], p["init"]).to(device)
        trainer = torch.optim.SGD(net.parameters(), lr=p["lr"], momentum=0.9)
        with torch.no_grad():
            stds_init = act_stds(net, X_train)
        for step in range(1, num_steps + 1):
            loss = loss_fn(net(X_train), y_train)
            trainer.zero_grad()
            loss.backward()
            if is_log_step(step, num_steps, points=20):
                with torch.no_grad():
                    stds = act_stds(net, X_train)
                metrics = {"loss": loss.item(), "last/first std": ratio(stds[-1], stds[0])}
                metrics.update({f"act_std/{i}": s for i, s in enumerate(stds, 1)})
                yield Log(kind, step, num_steps, metrics, part, len(NORMS))
                if not math.isfinite(loss.item()):
                    break
            trainer.step()
        net.eval()
        with torch.no_grad():
            final = loss_fn(net(X_train), y_train).item()
            test_acc = accuracy(net(X_test), y_test)
        numbers[kind] = {"final_loss": final, "test_acc": test_acc, "act_std_init": stds_init,
                         "shrink": ratio(stds_init[-1], stds_init[0])}
        if kind == "batchnorm":
            numbers["pitfall"] = bn_pitfall(net, X_test, y_test, p["eval_batch"])
    none, bn = numbers["none"]["final_loss"], numbers["batchnorm"]["final_loss"]
    # The claim: stuck at chance without a norm, trained with BatchNorm (NaN compares False).
    numbers["effect"] = bool(abs(none - CHANCE) < 0.02 and bn < CHANCE - GAP)
    return numbers


def _main(n: dict, ko: bool) -> str:
    none, bn, ln = (n[k]["final_loss"] for k in NORMS)
    if n["effect"]:
        if ln < CHANCE - GAP:
            ln_ko = f"LayerNorm도 {ln:.3f}까지 학습합니다"
            ln_en = f"LayerNorm trains it too ({ln:.3f})"
        else:
            ln_ko = f"LayerNorm은 여기서 구하지 못합니다({ln:.3f})"
            ln_en = f"LayerNorm does not rescue it here ({ln:.3f})"
        if ko:
            return (f"정규화가 없으면 우연 수준(ln 2 = {CHANCE:.3f})에 멈추고, BatchNorm은 "
                    f"{bn:.3f}까지 학습합니다. {ln_ko}. ")
        return (f"Without normalisation the net is stuck at chance (ln 2 = {CHANCE:.3f}); "
                f"BatchNorm trains it to {bn:.3f}. {ln_en}. ")
    if abs(none - CHANCE) >= 0.02:
        slower = bn < none - GAP
        if ko:
            return (f"정규화 없이도 우연 수준에 멈추지 않고 학습합니다({none:.3f})"
                    + (f". 다만 BatchNorm({bn:.3f})보다 느립니다. " if slower else
                       f". BatchNorm({bn:.3f})과 비슷합니다. "))
        return (f"Without normalisation the net is not stuck at chance: it learns ({none:.3f})"
                + (f", only more slowly than with BatchNorm ({bn:.3f}). " if slower else
                   f", about as well as with BatchNorm ({bn:.3f}). "))
    return (f"BatchNorm도 학습하지 못했습니다({bn:.3f}, 우연 수준 {CHANCE:.3f}). " if ko else
            f"BatchNorm did not train either ({bn:.3f}; chance is {CHANCE:.3f}). ")


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    none, bn, ln, pit = n["none"], n["batchnorm"], n["layernorm"], n["pitfall"]
    losses = " / ".join(f"{n[k]['final_loss']:.3f}" for k in NORMS)
    accs = " / ".join(f"{n[k]['test_acc']:.0%}" for k in NORMS)
    if ko:
        init = "PyTorch 기본 초기화" if n["init"] == "default" else "He 초기화"
        head = (f"{init}, 깊이 {n['depth']}, {n['steps']}스텝 뒤 학습 손실(정규화 없음 / "
                f"BatchNorm / LayerNorm): {losses}, 테스트 정확도 {accs}. 학습 시작 시 마지막 "
                f"은닉층에서 예제 간 활성값 퍼짐은 첫 층의 {none['shrink']:.1e}배(정규화 없음), "
                f"{bn['shrink']:.2g}배(BatchNorm), {ln['shrink']:.2g}배(LayerNorm)입니다. ")
        main = _main(n, ko=True)
        one = ("PyTorch가 거부합니다(값 하나로는 분산이 없음)" if pit["batch_of_one"] == "refused"
               else "실행은 되지만 통계가 무의미합니다")
        return head + main + (
            f"BatchNorm 망을 eval 모드(누적 평균 통계)로 평가하면 테스트 정확도 "
            f"{pit['eval_acc']:.0%}이고 예제를 하나씩 넣어도 출력 차이가 {pit['alone_diff']:.1e}"
            f"입니다. train 모드로 {n['eval_batch']}개씩 평가하면 {pit['train_mode_acc']:.0%}, "
            f"예측의 {pit['changed']:.0%}가 바뀝니다. train 모드에서 배치 1은 {one}.")
    init = "PyTorch's default init" if n["init"] == "default" else "He init"
    head = (f"{init}, depth {n['depth']}, after {n['steps']} steps, training loss (none / "
            f"BatchNorm / LayerNorm): {losses}; test accuracy {accs}. At init the last hidden "
            f"layer's spread of activations across examples is {none['shrink']:.1e} of the first's "
            f"without normalisation, "
            f"{bn['shrink']:.2g} with BatchNorm and {ln['shrink']:.2g} with LayerNorm. ")
    main = _main(n, ko=False)
    one = ("PyTorch refuses (one value has no variance)" if pit["batch_of_one"] == "refused"
           else "runs but its statistics mean nothing")
    return head + main + (
        f"The BatchNorm net in eval mode (running statistics) scores {pit['eval_acc']:.0%} on "
        f"the test set, and an example fed alone gives the same output to {pit['alone_diff']:.1e}."
        f" In train mode, in batches of {n['eval_batch']}, it scores {pit['train_mode_acc']:.0%} "
        f"and {pit['changed']:.0%} of the predictions change. A batch of 1 in train mode: {one}.")
