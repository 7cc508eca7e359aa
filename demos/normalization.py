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
from _verdict import SAME_REL, Statement, causal, layer_list, render, same_outputs
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
        out = {"eval_acc": accuracy(whole, y), "alone_diff": (alone - whole[:8]).abs().max().item(),
               "alone_max": whole[:8].abs().max().item()}  # "the same" is relative to this
        net.train()  # the mistake: batch statistics at test time (it also moves the buffers)
        batches = list(X.split(size))
        if len(batches) > 1 and len(batches[-1]) == 1:  # a batch of 1 cannot run in train mode
            batches[-2:] = [torch.cat(batches[-2:])]
        small = torch.cat([net(batch) for batch in batches])
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


KINDS = {"none": ("the unnormalised net", "정규화 없는 망"),
         "batchnorm": ("the BatchNorm net", "BatchNorm 망"),
         "layernorm": ("the LayerNorm net", "LayerNorm 망")}


def _below(loss: float) -> bool:
    """More than GAP below chance: the demo's "trains" (NaN is not)."""
    return loss < CHANCE - GAP


def _norm_statements(n: dict) -> list[Statement]:
    """What each net's final training loss says, and how the three compare."""
    none, bn, ln = (n[k]["final_loss"] for k in NORMS)
    bad = [KINDS[k][0] for k in NORMS if not math.isfinite(n[k]["final_loss"])]
    stuck, ok_bn = abs(none - CHANCE) < 0.02, math.isfinite(bn)
    fine = math.isfinite(none)
    return [
        Statement("diverged", f"The training loss ended at inf/NaN: {', '.join(bad)}.",
                  f"학습 손실이 inf/NaN으로 끝났습니다: {', '.join(bad)}.", bool(bad)),
        Statement("none-stuck", f"Without normalisation the net is stuck at chance (ln 2 = "
                  f"{CHANCE:.3f}).", f"정규화가 없으면 우연 수준(ln 2 = {CHANCE:.3f})에 "
                  f"멈춥니다.", stuck),
        Statement("none-learns", f"Without normalisation the net is not stuck at chance: it "
                  f"gets more than {GAP:g} below it ({none:.3f}).", f"정규화 없이도 우연 수준에 "
                  f"멈추지 않고 그보다 {GAP:g} 넘게 낮아집니다({none:.3f}).", _below(none)),
        Statement("none-off-chance", f"Without normalisation the net is not stuck at chance "
                  f"({none:.3f}), but not more than {GAP:g} below it either.", f"정규화 없이도 "
                  f"우연 수준에 멈추지는 않지만({none:.3f}) 그보다 {GAP:g} 넘게 낮아지지도 "
                  f"않습니다.", fine and not stuck and not _below(none)),
        causal("normalisation", ["normalisation"], "batchnorm-rescues", f"BatchNorm, the only "
               f"difference, trains it to {bn:.3f}.", f"유일한 차이인 BatchNorm은 {bn:.3f}까지 "
               f"학습시킵니다.", n["effect"]),
        Statement("batchnorm-below", f"With BatchNorm it gets more than {GAP:g} below chance "
                  f"({bn:.3f}).", f"BatchNorm을 넣으면 우연 수준보다 {GAP:g} 넘게 낮아집니다"
                  f"({bn:.3f}).", _below(bn) and not n["effect"]),
        Statement("batchnorm-not-below", f"BatchNorm does not get more than {GAP:g} below "
                  f"chance ({bn:.3f}; chance is {CHANCE:.3f}).", f"BatchNorm도 우연 수준"
                  f"({CHANCE:.3f})보다 {GAP:g} 넘게 낮아지지 못했습니다({bn:.3f}).",
                  ok_bn and not _below(bn)),
        Statement("batchnorm-lower", f"Both learn, and BatchNorm ends more than {GAP:g} lower.",
                  f"둘 다 학습하며, BatchNorm이 {GAP:g} 넘게 더 낮게 끝납니다.",
                  _below(none) and bn < none - GAP),
        Statement("batchnorm-same", f"Both learn, and end within {GAP:g} of each other.",
                  f"둘 다 학습하며, 서로 {GAP:g} 안의 손실로 끝납니다.",
                  _below(none) and _below(bn) and abs(bn - none) <= GAP),
        Statement("batchnorm-higher", f"BatchNorm ends more than {GAP:g} higher than no "
                  f"normalisation.", f"BatchNorm이 정규화 없음보다 {GAP:g} 넘게 높게 끝납니다.",
                  _below(none) and bn > none + GAP),
        Statement("layernorm-below", f"LayerNorm gets more than {GAP:g} below chance "
                  f"({ln:.3f}).", f"LayerNorm은 우연 수준보다 {GAP:g} 넘게 낮아집니다"
                  f"({ln:.3f}).", _below(ln)),
        Statement("layernorm-not-below", f"LayerNorm does not get more than {GAP:g} below "
                  f"chance here ({ln:.3f}).", f"LayerNorm은 여기서 우연 수준보다 {GAP:g} 넘게 "
                  f"낮아지지 못합니다({ln:.3f}).", math.isfinite(ln) and not _below(ln)),
    ]


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    none, bn, ln, pit = n["none"], n["batchnorm"], n["layernorm"], n["pitfall"]
    losses = " / ".join(f"{n[k]['final_loss']:.3f}" for k in NORMS)
    accs = " / ".join(f"{n[k]['test_acc']:.0%}" for k in NORMS)
    init, init_ko = (("PyTorch's default init", "PyTorch 기본 초기화") if n["init"] == "default"
                     else ("He init", "He 초기화"))
    per_layer = none["shrink"] ** (1 / (n["depth"] - 1)) if n["depth"] > 1 else 1.0
    flat = {k: [i for i, s in enumerate(n[k]["act_std_init"], 1) if s == 0] for k in NORMS}
    flat_en = "; ".join(f"{layer_list(v)} of {KINDS[k][0]}" for k, v in flat.items() if v)
    flat_ko = "; ".join(f"{KINDS[k][1]}의 {layer_list(v, 'ko')}" for k, v in flat.items() if v)
    same = same_outputs(pit["alone_diff"], pit["alone_max"])
    deep = n["depth"] > 1  # the input layer has no norm: depth 1 has no BatchNorm at all
    return [
        Statement("losses", f"{init}, depth {n['depth']}, after {n['steps']} steps, training "
                  f"loss (none / BatchNorm / LayerNorm): {losses}; test accuracy {accs}.",
                  f"{init_ko}, 깊이 {n['depth']}, {n['steps']}스텝 뒤 학습 손실(정규화 없음 / "
                  f"BatchNorm / LayerNorm): {losses}, 테스트 정확도 {accs}.", True),
        Statement("spread", f"At init the last hidden layer's spread of activations across "
                  f"examples is {none['shrink']:.1e} of the first's without normalisation, "
                  f"{bn['shrink']:.2g} with BatchNorm and {ln['shrink']:.2g} with LayerNorm.",
                  f"학습 시작 시 마지막 은닉층에서 예제 간 활성값 퍼짐은 첫 층의 "
                  f"{none['shrink']:.1e}배(정규화 없음), {bn['shrink']:.2g}배(BatchNorm), "
                  f"{ln['shrink']:.2g}배(LayerNorm)입니다.", True),
        Statement("per-layer", f"Without normalisation that is about {per_layer:.2g}x per "
                  f"layer.", f"정규화가 없으면 층마다 약 {per_layer:.2g}배입니다.",
                  n["depth"] > 1),
        Statement("flat-layers", f"At init these layers have zero spread, every example giving "
                  f"the same activations, so nothing after them depends on the input: {flat_en}.",
                  f"학습 시작 시 다음 층은 퍼짐이 전혀 없어 모든 예제가 같은 활성값을 내고, "
                  f"그 뒤로는 입력과 무관합니다: {flat_ko}.", bool(flat_en)),
        Statement("no-norm-layer", "At depth 1 there is no normalisation layer (none on the "
                  "input layer), so the three nets are the same and BatchNorm's modes do not "
                  "differ.", "깊이 1에는 정규화 층이 없어(입력층에는 넣지 않음) 세 망이 같고 "
                  "BatchNorm의 두 모드도 다르지 않습니다.", n["depth"] == 1),
        *_norm_statements(n),
        Statement("eval-alone-same", f"The BatchNorm net in eval mode (running statistics) "
                  f"scores {pit['eval_acc']:.0%} on the test set, and an example fed alone gives "
                  f"the same output (largest difference {pit['alone_diff']:.1e}).",
                  f"BatchNorm 망을 eval 모드(누적 평균 통계)로 평가하면 테스트 정확도 "
                  f"{pit['eval_acc']:.0%}이고, 예제를 하나씩 넣어도 출력이 같습니다(최대 차이 "
                  f"{pit['alone_diff']:.1e}).", deep and same),
        Statement("eval-alone-differs", f"The BatchNorm net in eval mode (running statistics) "
                  f"scores {pit['eval_acc']:.0%} on the test set, yet an example fed alone "
                  f"differs by {pit['alone_diff']:.1e}, more than {SAME_REL:g} of the outputs "
                  f"({pit['alone_max']:.2g}).", f"BatchNorm 망을 eval 모드(누적 평균 통계)로 "
                  f"평가하면 테스트 정확도 {pit['eval_acc']:.0%}이지만, 예제를 하나씩 넣으면 출력"
                  f"({pit['alone_max']:.2g})의 {SAME_REL:g}보다 큰 {pit['alone_diff']:.1e}만큼 "
                  f"달라집니다.", deep and not same),
        Statement("train-mode", f"In train mode, in batches of {n['eval_batch']}, it scores "
                  f"{pit['train_mode_acc']:.0%} and {pit['changed']:.0%} of the predictions "
                  f"change.", f"train 모드로 {n['eval_batch']}개씩 평가하면 "
                  f"{pit['train_mode_acc']:.0%}, 예측의 {pit['changed']:.0%}가 바뀝니다.", deep),
        Statement("batch-of-one-refused", "A batch of 1 in train mode: PyTorch refuses (one "
                  "value has no variance).", "train 모드에서 배치 1은 PyTorch가 거부합니다(값 "
                  "하나로는 분산이 없음).", deep and pit["batch_of_one"] == "refused"),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
