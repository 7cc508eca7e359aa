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
from _verdict import Statement, render

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
    losses, worst, diverged_at = [], 0.0, None
    for step in range(1, num_steps + 1):
        hand, _ = hand_backward(X, y, W1, b1, W2, b2, p["bug"])
        auto = autograd_backward(X, y, W1, b1, W2, b2)
        errs = [max(rel_err(hand[f"dL/dW{i}"], auto[f"dL/dW{i}"]),
                    rel_err(hand[f"dL/db{i}"], auto[f"dL/db{i}"])) for i in (1, 2)]
        loss = forward(X, y, W1, b1, W2, b2)[3].item()
        losses.append(loss)
        blown = not (math.isfinite(loss) and all(math.isfinite(e) for e in errs))
        if not blown:  # the running worst: the verdict's "never differed by more than"
            worst = max(worst, *errs)
        if blown or is_log_step(step, num_steps):
            yield Log("sgd", step, num_steps, {"loss": loss, "rel_err": max(errs),
                                               "rel_err/1": errs[0], "rel_err/2": errs[1],
                                               "worst": worst}, 1, 2)
        if blown:  # nothing is compared on inf/NaN weights: the run ends here
            diverged_at = step
            break
        W1, b1 = W1 - p["lr"] * hand["dL/dW1"], b1 - p["lr"] * hand["dL/db1"]
        W2, b2 = W2 - p["lr"] * hand["dL/dW2"], b2 - p["lr"] * hand["dL/db2"]
    final = losses[-1] if diverged_at else forward(X, y, W1, b1, W2, b2)[3].item()
    numbers.update({"loss_start": losses[0], "loss_end": final, "worst_during_training": worst,
                    "steps": num_steps, "diverged_at": diverged_at})
    bad = [n["node"] for n in nodes if max(n["hand_vs_autograd"], n["hand_vs_numeric"]) > TOL]
    numbers["first_bad"] = bad[0] if bad else None
    numbers["bad"] = bad
    numbers["max_hand_vs_autograd"] = max(n["hand_vs_autograd"] for n in nodes)
    numbers["max_hand_vs_numeric"] = max(n["hand_vs_numeric"] for n in nodes)
    numbers["max_autograd_vs_numeric"] = max(n["autograd_vs_numeric"] for n in nodes)
    numbers["effect"] = not bad and worst <= TOL
    return numbers


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    ha, hn, an = n["max_hand_vs_autograd"], n["max_hand_vs_numeric"], n["max_autograd_vs_numeric"]
    worst, first, bad, bug = n["worst_during_training"], n["first_bad"], n["bad"], n["bug"]
    node = next((x for x in n["nodes"] if x["node"] == first), None)
    good = NODES[:NODES.index(first)] if first else []
    below = computed_from(first) if first else []
    alone = [b for b in bad if b != first and b not in below]
    fine = [b for b in below if b not in bad]
    start, end, steps, lr = n["loss_start"], n["loss_end"], n["steps"], n["lr"]
    still = math.isfinite(end) and abs(end - start) <= 1e-9 * max(1.0, start)
    done = n["diverged_at"] is None
    these = "s" if len(alone) == 1 else ""
    s_ = "s" if steps != 1 else ""
    return [
        Statement("all-agree", f"All 7 nodes agree three ways: hand vs autograd max relative "
                  f"error {ha:.1e}, hand vs finite differences {hn:.1e}, autograd vs finite "
                  f"differences {an:.1e} (tolerance {TOL:.0e}).", f"7개 노드 모두 세 방법이 "
                  f"일치합니다: 손 대 autograd 최대 상대 오차 {ha:.1e}, 손 대 유한 차분 {hn:.1e}, "
                  f"autograd 대 유한 차분 {an:.1e} (허용 {TOL:.0e}).", not bad and an <= TOL),
        Statement("failed", f"Gradient check FAILED (bug {bug}).", f"기울기 검사 실패(버그 "
                  f"{bug}).", not n["effect"]),
        Statement("first-bad", f"The first node that fails, in backward order, is {first} "
                  f"({node['op']}): relative error {node['hand_vs_autograd']:.2g} vs autograd "
                  f"and {node['hand_vs_numeric']:.2g} vs finite differences. Failing nodes: "
                  f"{', '.join(bad)}." if node else "", f"역전파 순서로 처음 틀리는 곳은 "
                  f"{first}({node['op']})이며 autograd 대비 상대 오차 "
                  f"{node['hand_vs_autograd']:.2g}, 유한 차분 대비 {node['hand_vs_numeric']:.2g}"
                  f"입니다. 틀린 노드: {', '.join(bad)}." if node else "", node is not None),
        Statement("above-agree", f"Every node above it ({', '.join(good)}) still agrees, so the "
                  f"error is in this node's own local step.", f"그 위의 노드"
                  f"({', '.join(good)})는 모두 일치하므로 틀린 것은 이 노드의 국소 단계입니다.",
                  bool(good)),
        Statement("loss-node", "The loss node's own derivative is wrong.", "손실 노드 자체의 "
                  "미분이 틀렸습니다.", first == NODES[0]),
        Statement("exactly", f"Exactly {first} and the {len(below)} gradients computed from it "
                  f"fail.", f"정확히 {first}와 그로부터 계산되는 기울기 {len(below)}개가 "
                  f"실패합니다.", bool(below) and set(bad) == {first, *below}),
        Statement("only-first", f"Only {first} fails: no gradient is computed from it.",
                  f"{first}만 실패합니다: 그로부터 계산되는 기울기는 없습니다.",
                  first is not None and not below and bad == [first]),
        Statement("fine-below", f"{', '.join(fine)}, computed from {first}, still agree: the "
                  f"wrong value does not flow into them.", f"{first}에서 계산되는 "
                  f"{', '.join(fine)}는 여전히 일치합니다: 틀린 값이 그리로 흘러가지 않습니다.",
                  bool(fine)),
        Statement("alone", f"{', '.join(alone)} fail{these} on {'its' if these else 'their'} "
                  f"own local step, not through {first}.", f"{', '.join(alone)}는 {first}를 "
                  f"거치지 않고 자기 국소 단계에서 틀립니다.", bool(alone)),
        Statement("no-descendants", f"Nothing fails through it: no gradient is computed from "
                  f"{first}.", f"그를 거쳐 틀리는 것은 없습니다: {first}에서 계산되는 기울기는 "
                  f"없습니다.", first is not None and not below and bool(alone)),
        Statement("refs-agree", f"Autograd and finite differences still agree with each other "
                  f"to {an:.1e}.", f"autograd와 유한 차분끼리는 {an:.1e}로 일치합니다.",
                  bool(bad) and an <= TOL),
        Statement("refs-disagree", f"Autograd and finite differences differ by {an:.1e} (over "
                  f"{TOL:.0e}): the check itself is not reliable at this setting.",
                  f"autograd와 유한 차분끼리도 {an:.1e} 차이 나서({TOL:.0e} 초과) 이 설정에서는 "
                  f"검사 자체를 믿을 수 없습니다.", an > TOL),
        Statement("loss-still", f"{steps} SGD step{s_} on the hand gradients left the loss at "
                  f"{start:.4g} (lr {lr:g}).", f"손 기울기로 {steps}스텝 학습해도 손실은 "
                  f"{start:.4g}에서 그대로입니다(학습률 {lr:g}).", done and still),
        Statement("loss-diverged", f"SGD on the hand gradients: at step {n['diverged_at']} the "
                  f"loss or the gradients' comparison turned inf/NaN (lr {lr:g}); training "
                  f"stopped there.", f"손 기울기로 학습하자 {n['diverged_at']}스텝에서 손실이나 "
                  f"기울기 비교가 inf/NaN이 되어(학습률 {lr:g}) 학습을 멈췄습니다.", not done),
        Statement("loss-fell", f"{steps} SGD step{s_} on the hand gradients: the loss fell from "
                  f"{start:.4g} to {end:.4g}.", f"손 기울기로 {steps}스텝 학습하자 손실이 "
                  f"{start:.4g}에서 {end:.4g}로 줄었습니다.", done and not still and end < start),
        Statement("loss-rose", f"{steps} SGD step{s_} on the hand gradients: the loss rose from "
                  f"{start:.4g} to {end:.4g}.", f"손 기울기로 {steps}스텝 학습하자 손실이 "
                  f"{start:.4g}에서 {end:.4g}로 늘었습니다.", done and not still and end > start),
        Statement("training-agreed", f"Over training, hand and autograd never differed by more "
                  f"than {worst:.1e}.", f"학습 동안 손 기울기와 autograd의 최대 차이는 "
                  f"{worst:.1e}입니다.", not bad and worst <= TOL),
        Statement("training-drifted", f"Every node agreed at the start, but during training "
                  f"hand and autograd drifted apart by up to {worst:.1e}.", f"처음에는 모든 "
                  f"노드가 일치했지만, 학습 중 손 기울기와 autograd의 차이가 {worst:.1e}까지 "
                  f"벌어졌습니다.", not bad and worst > TOL),
        Statement("harmless-bug", f"The planted bug {bug} changed nothing here (inactive hidden "
                  f"units at init: {n['inactive']:.0%}).", f"심어 둔 버그 {bug}는 여기서 값에 "
                  f"영향이 없었습니다(초기 비활성 은닉 유닛 비율 {n['inactive']:.0%}).",
                  n["effect"] and bug != "none"),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)


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
