"""Backprop by hand: a 2-layer MLP's gradients by the chain rule, by autograd and by finite
differences, node by node.

Forward: h = X W1 + b1, a = relu(h), z = a W2 + b2, L = mean cross-entropy(z, y).
Backward walks the graph from the loss to the input; at every node the gradient that
arrives from above (the upstream gradient) is multiplied by the node's local derivative:

    dL/dz  = (softmax(z) - onehot(y)) / n      the loss node
    dL/dW2 = a^T dL/dz,  dL/db2 = sum_rows dL/dz,  dL/da = dL/dz W2^T
    dL/dh  = dL/da * relu'(h)                   relu'(h) = 1 where h > 0, else 0
    dL/dW1 = X^T dL/dh,  dL/db1 = sum_rows dL/dh

The first records step through these nodes one at a time (run "backward"); each checks the
hand result against autograd and against central finite differences in float64, where
all three agree to about 1e-8 or better. Then the net trains on its hand-made gradients
(run "sgd"), checked against autograd at every step. `--set bug=relu_grad` forgets the
ReLU's local derivative: the check fails at dL/dh and at every node below it, not above.
"""

from __future__ import annotations

import math

import torch
from _kit import Log, blobs, is_log_step

META = {
    "name": "backprop",
    "claim": "Backprop is the chain rule, node by node: gradients written out by hand equal "
             "autograd's and finite differences' (to about 1e-8 in float64), and a wrong local "
             "derivative breaks the check at that node and at every gradient computed from "
             "it, and nowhere else.",
    "claim_ko": "역전파는 노드마다 적용하는 연쇄 법칙이다. 손으로 쓴 기울기는 autograd와 "
                "유한 차분의 기울기와 (float64에서 약 1e-8까지) 같고, 국소 미분 하나가 틀리면 "
                "그 노드와 그 노드에서 계산되는 기울기들의 검사만 실패한다.",
    "cpu_seconds": 0.5,
    "metric": "rel_err",
    "steps": 200,
    "params": {
        "bug": {"default": "none", "choices": ["none", "relu_grad", "no_mean", "bias_mean"],
                "help": "plant a bug: relu_grad forgets relu'(h), no_mean drops the 1/n of the "
                        "mean loss, bias_mean averages db over the batch instead of summing"},
        "lr": {"default": 0.5, "help": "SGD learning rate on the hand gradients",
               "min": 0, "max": 10},
        "n": {"default": 32, "help": "examples in the batch", "min": 2, "max": 512},
        "num_hiddens": {"default": 8, "help": "hidden units", "min": 1, "max": 128},
    },
    "control": {"bug": "relu_grad"},
    "layers": {"prefix": "rel_err/", "label": "max relative error of hand vs autograd, "
               "per layer (W and b)", "label_ko": "층별 손 계산 대 autograd 최대 상대 오차(W, b)"},
}

TOL = 1e-6  # float64 central differences agree to ~1e-8; a real bug is off by far more
NODES = ["dL/dz", "dL/dW2", "dL/db2", "dL/da", "dL/dh", "dL/dW1", "dL/db1"]
# Each node's chain-rule line: what arrives from above times the node's local derivative.
RULE = {"dL/dz": "(softmax(z) - onehot(y)) / n", "dL/dW2": "a^T . dL/dz",
        "dL/db2": "sum_rows dL/dz", "dL/da": "dL/dz . W2^T", "dL/dh": "dL/da * relu'(h)",
        "dL/dW1": "X^T . dL/dh", "dL/db1": "sum_rows dL/dh"}
# The gradient each node is computed from (its upstream): an error flows only along these.
FROM = {"dL/dW2": "dL/dz", "dL/db2": "dL/dz", "dL/da": "dL/dz", "dL/dh": "dL/da",
        "dL/dW1": "dL/dh", "dL/db1": "dL/dh"}


def computed_from(node: str) -> list[str]:
    """The nodes whose gradient is computed, directly or not, from ``node``'s."""
    out: list[str] = []
    for name in NODES:
        up = FROM.get(name)
        if up == node or up in out:
            out.append(name)
    return out


WHAT = {"dL/dz": "softmax-cross-entropy", "dL/dW2": "z = a W2 + b2", "dL/db2": "z = a W2 + b2",
        "dL/da": "z = a W2 + b2", "dL/dh": "a = relu(h)", "dL/dW1": "h = X W1 + b1",
        "dL/db1": "h = X W1 + b1"}


def forward(X, y, W1, b1, W2, b2):
    h = X @ W1 + b1
    a = h.clamp(min=0)
    z = a @ W2 + b2
    loss = torch.nn.functional.cross_entropy(z, y)
    return h, a, z, loss


def hand_backward(X, y, W1, b1, W2, b2, bug: str = "none"):
    """Every line is one node: upstream gradient times the local derivative."""
    n = X.shape[0]
    h, a, z, _ = forward(X, y, W1, b1, W2, b2)
    onehot = torch.nn.functional.one_hot(y, z.shape[1]).to(z.dtype)
    dz = (torch.softmax(z, dim=1) - onehot) / (1 if bug == "no_mean" else n)
    dW2 = a.T @ dz
    db2 = dz.mean(0) if bug == "bias_mean" else dz.sum(0)
    da = dz @ W2.T
    relu_grad = torch.ones_like(h) if bug == "relu_grad" else (h > 0).to(h.dtype)
    dh = da * relu_grad
    dW1 = X.T @ dh
    db1 = dh.mean(0) if bug == "bias_mean" else dh.sum(0)
    local = {"dL/dz": dz * (1 if bug == "no_mean" else n), "dL/dW2": a, "dL/db2": None,
             "dL/da": W2, "dL/dh": relu_grad, "dL/dW1": X, "dL/db1": None}
    grads = dict(zip(NODES, [dz, dW2, db2, da, dh, dW1, db1], strict=True))
    return grads, local


def autograd_backward(X, y, W1, b1, W2, b2):
    leaves = [t.clone().requires_grad_(True) for t in (W1, b1, W2, b2)]
    h, a, z, loss = forward(X, y, *leaves)
    for t in (z, a, h):
        t.retain_grad()
    loss.backward()
    return dict(zip(NODES, [z.grad, leaves[2].grad, leaves[3].grad, a.grad, h.grad,
                            leaves[0].grad, leaves[1].grad], strict=True))


def numeric_backward(X, y, W1, b1, W2, b2, eps: float = 1e-6):
    """Central differences (L(x+eps) - L(x-eps)) / 2eps, one entry at a time."""
    def tail_from(name):  # the loss as a function of one node's value
        return {
            "dL/dz": lambda z: torch.nn.functional.cross_entropy(z, y),
            "dL/da": lambda a: torch.nn.functional.cross_entropy(a @ W2 + b2, y),
            "dL/dh": lambda h: torch.nn.functional.cross_entropy(h.clamp(min=0) @ W2 + b2, y),
            "dL/dW2": lambda w: forward(X, y, W1, b1, w, b2)[3],
            "dL/db2": lambda b: forward(X, y, W1, b1, W2, b)[3],
            "dL/dW1": lambda w: forward(X, y, w, b1, W2, b2)[3],
            "dL/db1": lambda b: forward(X, y, W1, b, W2, b2)[3],
        }[name]
    h, a, z, _ = forward(X, y, W1, b1, W2, b2)
    at = {"dL/dz": z, "dL/da": a, "dL/dh": h, "dL/dW2": W2, "dL/db2": b2, "dL/dW1": W1,
          "dL/db1": b1}
    out = {}
    for name in NODES:
        f, x = tail_from(name), at[name]
        g = torch.zeros_like(x)
        flat, gflat = x.reshape(-1), g.reshape(-1)
        for i in range(flat.numel()):
            keep = flat[i].item()
            flat[i] = keep + eps
            up = f(x).item()
            flat[i] = keep - eps
            down = f(x).item()
            flat[i] = keep
            gflat[i] = (up - down) / (2 * eps)
        out[name] = g
    return out


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / max(||a||, ||b||): 0 when equal, about 1 when unrelated."""
    scale = max(a.norm().item(), b.norm().item())
    return 0.0 if scale == 0 else (a - b).norm().item() / scale


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, y = blobs(n=p["n"], num_classes=3, dim=4, seed=seed)
    X, y = X.double().to(device), y.to(device)
    torch.manual_seed(seed)
    k = p["num_hiddens"]
    W1 = (torch.randn(4, k, dtype=torch.float64) / 2).to(device)
    b1 = (0.1 * torch.randn(k, dtype=torch.float64)).to(device)
    W2 = (torch.randn(k, 3, dtype=torch.float64) / k ** 0.5).to(device)
    b2 = torch.zeros(3, dtype=torch.float64, device=device)
    h = X @ W1 + b1
    numbers: dict = {"bug": p["bug"], "lr": p["lr"], "inactive": (h <= 0).double().mean().item()}
    hand, local = hand_backward(X, y, W1, b1, W2, b2, p["bug"])
    auto = autograd_backward(X, y, W1, b1, W2, b2)
    numeric = numeric_backward(X, y, W1, b1, W2, b2)
    nodes = []
    upstream = torch.ones((), dtype=torch.float64)
    for i, name in enumerate(NODES, 1):
        err_auto, err_fd = rel_err(hand[name], auto[name]), rel_err(hand[name], numeric[name])
        err_auto_fd = rel_err(auto[name], numeric[name])
        nodes.append({"node": name, "op": WHAT[name], "hand_vs_autograd": err_auto,
                      "hand_vs_numeric": err_fd, "autograd_vs_numeric": err_auto_fd,
                      "upstream_norm": upstream.norm().item(),
                      "local_norm": None if local[name] is None else local[name].norm().item(),
                      "grad_norm": hand[name].norm().item()})
        step_metrics = {"rel_err": max(err_auto, err_fd), "hand_vs_autograd": err_auto,
                        "hand_vs_numeric": err_fd, "autograd_vs_numeric": err_auto_fd,
                        "grad_norm": hand[name].norm().item(),
                        "upstream_norm": upstream.norm().item()}
        if local[name] is not None:
            step_metrics["local_norm"] = local[name].norm().item()
        yield Log("backward", i, len(NODES), step_metrics, 0, 2)
        if name in ("dL/dz", "dL/da", "dL/dh"):
            upstream = hand[name]  # what the next node down receives from above
    numbers["nodes"] = nodes
    numbers["layers"] = [max(n["hand_vs_autograd"] for n in nodes if n["node"][-1] == str(i))
                         for i in (1, 2)]
    losses, worst = [], 0.0
    for step in range(1, num_steps + 1):
        hand, _ = hand_backward(X, y, W1, b1, W2, b2, p["bug"])
        auto = autograd_backward(X, y, W1, b1, W2, b2)
        errs = [max(rel_err(hand[f"dL/dW{i}"], auto[f"dL/dW{i}"]),
                    rel_err(hand[f"dL/db{i}"], auto[f"dL/db{i}"])) for i in (1, 2)]
        worst = max(worst, *errs)
        loss = forward(X, y, W1, b1, W2, b2)[3].item()
        losses.append(loss)
        if is_log_step(step, num_steps):
            yield Log("sgd", step, num_steps, {"loss": loss, "rel_err": max(errs),
                                               "rel_err/1": errs[0], "rel_err/2": errs[1]}, 1, 2)
        W1, b1 = W1 - p["lr"] * hand["dL/dW1"], b1 - p["lr"] * hand["dL/db1"]
        W2, b2 = W2 - p["lr"] * hand["dL/dW2"], b2 - p["lr"] * hand["dL/db2"]
    final = forward(X, y, W1, b1, W2, b2)[3].item()
    numbers.update({"loss_start": losses[0], "loss_end": final, "worst_during_training": worst,
                    "steps": num_steps})
    bad = [n["node"] for n in nodes if max(n["hand_vs_autograd"], n["hand_vs_numeric"]) > TOL]
    numbers["first_bad"] = bad[0] if bad else None
    numbers["bad"] = bad
    numbers["max_hand_vs_autograd"] = max(n["hand_vs_autograd"] for n in nodes)
    numbers["max_hand_vs_numeric"] = max(n["hand_vs_numeric"] for n in nodes)
    numbers["max_autograd_vs_numeric"] = max(n["autograd_vs_numeric"] for n in nodes)
    numbers["effect"] = not bad and worst <= TOL
    return numbers


def _loss_change(n: dict, ko: bool) -> str:
    start, end = n["loss_start"], n["loss_end"]
    if n["steps"] <= 1 or n["lr"] == 0 or abs(end - start) <= 1e-9 * max(1.0, start):
        return (f"손 기울기로 {n['steps']}스텝 학습해도 손실은 {start:.4g}에서 그대로입니다"
                f"(학습률 {n['lr']:g})" if ko else
                f"{n['steps']} SGD steps on the hand gradients left the loss at {start:.4g} "
                f"(lr {n['lr']:g})")
    if not math.isfinite(end):
        return (f"손 기울기로 {n['steps']}스텝 학습하자 손실이 {start:.4g}에서 {end}로 발산했습니다"
                if ko else f"{n['steps']} SGD steps on the hand gradients: the loss diverged "
                f"from {start:.4g} to {end}")
    verb_ko, verb = ("줄었습니다", "fell") if end < start else ("늘었습니다", "rose")
    return (f"손 기울기로 {n['steps']}스텝 학습하자 손실이 {start:.4g}에서 {end:.4g}로 "
            f"{verb_ko}" if ko else
            f"{n['steps']} SGD steps on the hand gradients: the loss {verb} from {start:.4g} "
            f"to {end:.4g}")


def verdict(n: dict, lang: str = "en") -> str:
    ko = lang == "ko"
    train = _loss_change(n, ko)
    ha, hn, an = n["max_hand_vs_autograd"], n["max_hand_vs_numeric"], n["max_autograd_vs_numeric"]
    worst = n["worst_during_training"]
    if n["effect"]:
        unused = ""
        if n["bug"] != "none":
            unused = (f" 심어 둔 버그 {n['bug']}는 여기서 값에 영향이 없었습니다"
                      f"(비활성 은닉 유닛 비율 {n['inactive']:.0%})." if ko else
                      f" The planted bug {n['bug']} changed nothing here (inactive hidden "
                      f"units: {n['inactive']:.0%}).")
        if ko:
            return (f"7개 노드 모두 세 방법이 일치합니다: 손 대 autograd 최대 상대 오차 {ha:.1e}, "
                    f"손 대 유한 차분 {hn:.1e}, autograd 대 유한 차분 {an:.1e} (허용 {TOL:.0e}). "
                    f"{train}; 그동안 손 기울기와 autograd의 최대 차이는 {worst:.1e}입니다."
                    + unused)
        return (f"All 7 nodes agree three ways: hand vs autograd max relative error {ha:.1e}, "
                f"hand vs finite differences {hn:.1e}, autograd vs finite differences {an:.1e} "
                f"(tolerance {TOL:.0e}). {train}; meanwhile hand and autograd never differed by "
                f"more than {worst:.1e}." + unused)
    first = n["first_bad"]
    if first is None:  # every node agreed at the start; the bug showed up later in training
        where_ko = f"학습 중 손 기울기와 autograd의 차이가 {worst:.1e}까지 벌어졌습니다"
        where = f"during training hand and autograd drifted apart by up to {worst:.1e}"
    else:
        node = next(x for x in n["nodes"] if x["node"] == first)
        good = NODES[:NODES.index(first)]
        bad = ", ".join(n["bad"])
        above_ko = (f" 그 위의 노드({', '.join(good)})는 모두 일치하므로 틀린 것은 이 노드의 "
                    f"국소 미분입니다" if good else " 손실 노드 자체의 미분이 틀렸습니다")
        above = (f" Every node above it ({', '.join(good)}) still agrees, so the wrong factor is "
                 f"this node's local derivative" if good else
                 " The loss node's own derivative is wrong")
        where_ko = (f"역전파 순서로 처음 틀리는 곳은 {first}({node['op']})이며 autograd 대비 상대 "
                    f"오차 {node['hand_vs_autograd']:.2g}, 유한 차분 대비 "
                    f"{node['hand_vs_numeric']:.2g}입니다. 틀린 노드: {bad}.{above_ko}")
        where = (f"the first node that fails, in backward order, is {first} ({node['op']}): "
                 f"relative error {node['hand_vs_autograd']:.2g} vs autograd and "
                 f"{node['hand_vs_numeric']:.2g} vs finite differences. Failing nodes: {bad}."
                 f"{above}")
        spread, spread_ko = _spread(n["bad"], first)
        where, where_ko = where + spread, where_ko + spread_ko
    if ko:
        return (f"기울기 검사 실패(버그 {n['bug']}): {where_ko}. autograd와 유한 차분끼리는 "
                f"{an:.1e}로 일치합니다. {train}.")
    return (f"Gradient check FAILED (bug {n['bug']}): {where}. Autograd and finite differences "
            f"still agree with each other to {an:.1e}. {train}.")


def _spread(bad: list[str], first: str) -> tuple[str, str]:
    """Which failures the first bad node explains (those computed from it) and which not."""
    below = computed_from(first)
    alone = [b for b in bad if b != first and b not in below]
    fine = [b for b in below if b not in bad]
    if not alone and not fine:
        return (f". Exactly {first} and the {len(below)} gradients computed from it fail",
                f". 정확히 {first}와 그로부터 계산되는 기울기 {len(below)}개가 실패합니다")
    en, ko = "", ""
    if fine:
        en += (f". {', '.join(fine)}, computed from {first}, still agree: the wrong value "
               f"does not flow into them")
        ko += (f". {first}에서 계산되는 {', '.join(fine)}는 여전히 일치합니다: 틀린 값이 "
               f"그리로 흘러가지 않습니다")
    if alone:
        en += (f". {', '.join(alone)} fail on their own local step, not through {first}"
               if len(alone) > 1 else
               f". {alone[0]} fails on its own local step, not through {first}")
        ko += f". {', '.join(alone)}는 {first}를 거치지 않고 자기 국소 단계에서 틀립니다"
    if not below:
        en += f"; no gradient is computed from {first}"
        ko += f"; {first}에서 계산되는 기울기는 없습니다"
    return en, ko


def step_through(n: dict, lang: str = "en") -> list[str]:
    """`dlprep demo backprop --step`: one graph node at a time, in backward order."""
    ko = lang == "ko"
    pages = []
    for i, node in enumerate(n["nodes"], 1):
        name = node["node"]
        local = ("-" if node["local_norm"] is None else f"{node['local_norm']:.4g}")
        ok = max(node["hand_vs_autograd"], node["hand_vs_numeric"]) <= TOL
        if ko:
            mark = "일치" if ok else "불일치"
            pages.append(
                f"노드 {i}/{len(n['nodes'])}: {name}  ({node['op']})\n"
                f"  연쇄 법칙: {name} = {RULE[name]}\n"
                f"  노름: 위에서 온 기울기 {node['upstream_norm']:.4g}, 국소 미분 {local}, "
                f"이 노드의 기울기 {node['grad_norm']:.4g}\n"
                f"  손 대 autograd {node['hand_vs_autograd']:.1e}, 손 대 유한 차분 "
                f"{node['hand_vs_numeric']:.1e}: {mark}")
        else:
            mark = "agree" if ok else "MISMATCH"
            pages.append(
                f"node {i}/{len(n['nodes'])}: {name}  ({node['op']})\n"
                f"  chain rule: {name} = {RULE[name]}\n"
                f"  norms: upstream gradient {node['upstream_norm']:.4g}, local derivative "
                f"{local}, this node's gradient {node['grad_norm']:.4g}\n"
                f"  hand vs autograd {node['hand_vs_autograd']:.1e}, hand vs finite differences "
                f"{node['hand_vs_numeric']:.1e}: {mark}")
    return pages
