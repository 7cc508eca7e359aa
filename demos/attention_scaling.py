"""Attention scaling: the same tiny transformer with and without the 1/sqrt(d_k) in softmax(QK^T).

If every component of a query q and a key k has mean 0 and variance 1, their dot product
has variance d_k (Vaswani et al. 2017, section 3.2.1, footnote 4): the attention logits
spread like sqrt(d_k). Softmax over widely spread logits puts almost all its weight on one
key, so the attention's entropy collapses, and its Jacobian diag(p) - p p^T, which carries
every gradient back to the queries and keys, shrinks towards zero. Dividing by sqrt(d_k)
keeps the logits' spread about 1 whatever d_k is.

Two runs share everything (seed, weights, data, Adam) except the scale: a 2-layer model of
width 64 learns to copy 8 tokens, with d_k = 64 / heads. We measure, per layer and head,
the logits' standard deviation and the attention entropy at initialisation, the mean norm
of the softmax Jacobian (its gain from probabilities back to logits), and the loss. The
control is a small d_k (2), where dividing by sqrt(2) hardly changes the logits.
"""

from __future__ import annotations

import math

import torch
from _gpt import GPT, entropy_per_head, lm_loss, scored_accuracy, sequence_task
from _kit import Log, is_log_step
from _verdict import Statement, causal, render

META = {
    "name": "attention-scaling",
    "claim": "Without the 1/sqrt(d_k) scale, attention logits at d_k = 64 spread about "
             "sqrt(d_k) = 8 times wider, the softmax saturates (attention entropy collapses "
             "and the gradient through the softmax shrinks) and the model trains more slowly; "
             "with the scale the logits stay near unit spread.",
    "claim_ko": "1/sqrt(d_k) 스케일이 없으면 d_k = 64에서 어텐션 로짓이 약 sqrt(d_k) = 8배 넓게 "
                "퍼져 소프트맥스가 포화된다(어텐션 엔트로피가 무너지고 소프트맥스를 지나는 "
                "기울기가 줄어든다). 그래서 모델이 더 느리게 학습한다. 스케일이 있으면 로짓의 "
                "퍼짐은 1 안팎에 머문다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 80,
    "control": {"d_k": 2},
    "layers": {"prefix": "entropy/", "label": "attention entropy per layer (nats, mean over "
               "heads), unscaled run", "label_ko": "층별 어텐션 엔트로피(nat, 헤드 평균), "
               "스케일 없는 실행",
               "verdict": "init"},
    "params": {
        "d_k": {"default": 64, "choices": [2, 4, 8, 16, 32, 64],
                "help": "dimension per head (heads = 64 / d_k, width stays 64)"},
        "lr": {"default": 0.003, "help": "Adam learning rate", "min": 0, "max": 1},
        "num_layers": {"default": 2, "help": "transformer blocks", "min": 1, "max": 4},
        "length": {"default": 8, "help": "tokens to copy (sequence = 2 x length + 1)",
                   "min": 2, "max": 24},
    },
}
WIDTH, VOCAB, BATCH = 64, 16, 32
COLLAPSED = 0.5  # unscaled entropy below this share of the scaled one: the softmax saturated
SHRUNK = 0.5  # Jacobian gain below this share of the scaled one: the gradient shrank
SLOWER = 1.25  # mean training loss this many times the scaled run's: trained more slowly


def softmax_gain(probs: torch.Tensor) -> torch.Tensor:
    """Frobenius norm of each row's softmax Jacobian diag(p) - p p^T, per (batch, head, row):
    sum p_i^2 - 2 sum p_i^3 + (sum p_i^2)^2, under the square root."""
    s2 = (probs * probs).sum(-1)
    return (s2 - 2 * (probs ** 3).sum(-1) + s2 * s2).clamp_min(0).sqrt()


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    d_k, n_head = p["d_k"], WIDTH // p["d_k"]
    X, Y, _ = sequence_task("copy", 2048, p["length"], VOCAB, seed)
    X, Y = X.to(device), Y.to(device)
    g = torch.Generator().manual_seed(seed)
    batches = [torch.randint(0, len(X), (BATCH,), generator=g) for _ in range(num_steps)]
    numbers: dict = {"d_k": d_k, "heads": n_head, "lr": p["lr"], "steps": num_steps}
    # Entropy of a uniform attention, averaged over the rows the entropy is averaged over.
    numbers["uniform"] = sum(math.log(i) for i in range(2, X.shape[1] + 1)) / (X.shape[1] - 1)
    for part, scaled in enumerate([True, False]):
        name = "scaled" if scaled else "unscaled"
        torch.manual_seed(seed)  # the same initial weights for both runs
        net = GPT(VOCAB + 1, WIDTH, p["num_layers"], n_head, X.shape[1], scale=scaled).to(device)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"], foreach=True)
        for attn in net.attentions:
            attn.keep_scores = True
        losses = []
        r: dict = {}
        for step in range(1, num_steps + 1):
            idx = batches[step - 1].to(device)
            loss = lm_loss(net(X[idx]), Y[idx])
            losses.append(loss.item())
            logged = is_log_step(step, num_steps, points=20)
            heads = entropy_per_head(net) if logged or step == 1 else []
            if step == 1:
                r["logit_std"] = [a.scores.detach().std().item() for a in net.attentions]
                r["entropy_init"] = heads
                r["gain_init"] = [softmax_gain(a.probs)[:, :, 1:].mean().item()
                                  for a in net.attentions]
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if logged:
                layer = [sum(h) / len(h) for h in heads]
                metrics = {"loss": losses[-1], "entropy": sum(layer) / len(layer)}
                if not scaled:
                    metrics.update({f"entropy/{i}": e for i, e in enumerate(layer, 1)})
                yield Log(name, step, num_steps, metrics, part, 2)
            for attn in net.attentions:  # the scores were needed at init only
                attn.keep_scores, attn.scores = False, None
        with torch.no_grad():
            logits = net(X[:512])
        r.update({"loss": losses[-1], "mean_loss": sum(losses) / len(losses),
                  "accuracy": scored_accuracy(logits, Y[:512]),
                  "entropy_end": entropy_per_head(net),
                  "finite": all(math.isfinite(v) for v in losses)})
        r["mean_entropy_init"] = _mean(r["entropy_init"])
        r["mean_gain_init"] = sum(r["gain_init"]) / len(r["gain_init"])
        numbers[name] = r
    s, u = numbers["scaled"], numbers["unscaled"]
    numbers["spread_ratio"] = _mean([u["logit_std"]]) / _mean([s["logit_std"]])
    numbers["entropy_ratio"] = u["mean_entropy_init"] / s["mean_entropy_init"]
    numbers["gain_ratio"] = u["mean_gain_init"] / s["mean_gain_init"]
    numbers["loss_ratio"] = u["mean_loss"] / s["mean_loss"] if s["mean_loss"] > 0 else 1.0
    numbers["effect"] = bool(numbers["entropy_ratio"] < COLLAPSED
                             and numbers["loss_ratio"] > SLOWER)
    return numbers


def _mean(rows: list[list[float]]) -> float:
    flat = [v for row in rows for v in row]
    return sum(flat) / len(flat)


def lowest_head(heads: list[list[float]]) -> tuple[int, int, float]:
    """(layer, head, entropy) of the most collapsed head, 1-based."""
    return min(((li, hi, e) for li, row in enumerate(heads, 1) for hi, e in enumerate(row, 1)),
               key=lambda t: t[2])


# --- the verdict: each sentence with the check that allows it --------------------------------


def statements(n: dict) -> list[Statement]:
    s, u = n["scaled"], n["unscaled"]
    su, ss, root = _mean([u["logit_std"]]), _mean([s["logit_std"]]), math.sqrt(n["d_k"])
    layer, head, low = lowest_head(u["entropy_init"])
    eu, es, top = u["mean_entropy_init"], s["mean_entropy_init"], n["uniform"]
    gu, gs, gr = u["mean_gain_init"], s["mean_gain_init"], n["gain_ratio"]
    collapsed, shrunk = n["entropy_ratio"] < COLLAPSED, n["gain_ratio"] < SHRUNK
    finite = s["finite"] and u["finite"]
    ml, steps = (u["mean_loss"], s["mean_loss"]), n["steps"]
    acc = (u["accuracy"], s["accuracy"])
    return [
        Statement("spread",
                  f"d_k = {n['d_k']} ({n['heads']} heads): at init the attention logits' "
                  f"standard deviation is {su:.3g} unscaled and {ss:.3g} scaled, "
                  f"{n['spread_ratio']:.3g}x apart (sqrt(d_k) = {root:.3g}).",
                  f"d_k = {n['d_k']}(헤드 {n['heads']}개): 초기 어텐션 로짓의 표준편차는 스케일 "
                  f"없이 {su:.3g}, 스케일하면 {ss:.3g}로 {n['spread_ratio']:.3g}배 차이 "
                  f"(sqrt(d_k) = {root:.3g})."),
        Statement("entropy",
                  f"Attention entropy at init is {eu:.3g} nats unscaled and {es:.3g} scaled "
                  f"(uniform would be {top:.3g}); the lowest head is layer {layer} head {head} "
                  f"at {low:.3g}. The softmax Jacobian's mean norm is {gu:.3g} against {gs:.3g} "
                  f"({gr:.2g}x).",
                  f"초기 어텐션 엔트로피는 스케일 없이 {eu:.3g} nat, 스케일하면 {es:.3g} nat"
                  f"(균등 분포면 {top:.3g} nat)이고, 가장 낮은 헤드는 {layer}층 {head}번 헤드의 "
                  f"{low:.3g} nat입니다. 소프트맥스 야코비안의 평균 노름은 {gu:.3g} 대 {gs:.3g}"
                  f"({gr:.2g}배)."),
        causal("scale", ["scale"], "saturated",
               "Removing the scale alone saturated the softmax (entropy below half the scaled "
               "run's)",
               "스케일을 뺀 것만으로 소프트맥스가 포화되었고(엔트로피가 스케일한 실행의 절반 아래)",
               collapsed),
        Statement("not-saturated",
                  "Without the scale the softmax did not saturate (entropy at least half the "
                  "scaled run's)",
                  "스케일이 없어도 소프트맥스는 포화되지 않았고"
                  "(엔트로피가 스케일한 실행의 절반 이상)",
                  not collapsed),
        Statement("gain-shrank", "and the gradient it passes back to the logits fell below half.",
                  "로짓으로 돌아가는 기울기는 절반 아래로 줄었습니다.", shrunk),
        Statement("gain-kept", "and the gradient it passes back to the logits kept over half.",
                  "로짓으로 돌아가는 기울기는 절반 넘게 남았습니다.", not shrunk),
        Statement("diverged",
                  "A run's loss became inf/NaN, so training speed is not compared.",
                  "한 실행의 손실이 inf/NaN이 되어 학습 속도는 비교하지 않습니다.", not finite),
        Statement("losses",
                  f"Over {steps} steps the mean loss is {ml[0]:.3g} unscaled and {ml[1]:.3g} "
                  f"scaled, accuracy {acc[0]:.0%} and {acc[1]:.0%}:",
                  f"{steps}스텝 동안 평균 손실은 스케일 없이 {ml[0]:.3g}, 스케일하면 {ml[1]:.3g}, "
                  f"정확도는 {acc[0]:.0%} 대 {acc[1]:.0%}:", finite),
        causal("scale", ["scale"], "slower", "without the scale it trained more slowly.",
               "스케일이 없으면 더 느리게 학습했습니다.", finite and n["loss_ratio"] > SLOWER),
        Statement("faster", "this time the unscaled model trained faster.",
                  "이번에는 스케일 없는 모델이 더 빨리 학습했습니다.",
                  finite and n["loss_ratio"] < 1 / SLOWER),
        Statement("as-fast", "the two trained about as fast.",
                  "두 모델의 학습 속도는 비슷했습니다.",
                  finite and 1 / SLOWER <= n["loss_ratio"] <= SLOWER),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
