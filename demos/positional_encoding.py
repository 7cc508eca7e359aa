"""Positional encoding: a transformer without position information cannot tell order.

Self-attention sums over keys weighted by content, so without a position signal and without
a causal mask a transformer is permutation-equivariant: shuffle the input and its outputs are
shuffled the same way. Its output at a position is a function of that position's token and
of the bag of all tokens, nothing else. (A causal mask would leak order on its own, Haviv et
al. 2022, so the model here reads the whole sequence, like an encoder.)

Four identical models differ only in position signal: none, learned embeddings, Vaswani et
al.'s fixed sinusoids (2017) and rotary embeddings, RoPE (Su et al. 2021), which rotate
queries and keys so that q.k depends on the relative position. Each learns one label per
position of 8 random tokens. The default task, shift (output the token one position to the
left), depends on order; its ceiling for an order-blind model is computed from the held-out
data: the earlier token is, for such a model, a random draw from the other tokens, so its
best guess is their most frequent one. The control is count (how often the position's own
token occurs elsewhere), which does not depend on order, so position information cannot
help with it. `--set task=reverse` needs absolute positions, which RoPE lacks: measured,
it learns reverse much more slowly than learned or sinusoidal positions.

Per layer we measure the share of attention on the source: the position the label is
copied from (shift, reverse) or the positions holding the same token (count), the best head.
"""

from __future__ import annotations

import torch
from _gpt import GPT, IGNORE, POSITIONS, label_task, lm_loss, scored_accuracy
from _kit import Log, is_log_step
from _verdict import Statement, causal, render

META = {
    "name": "positional-encoding",
    "claim": "Without any position information a transformer cannot learn an order-dependent "
             "task (here: output the previous token) beyond what the bag of tokens allows, "
             "while on an order-free one (count) positions do not help; learned, sinusoidal "
             "and RoPE positions each learn the order-dependent task.",
    "claim_ko": "위치 정보가 전혀 없는 트랜스포머는 순서에 의존하는 과제(여기서는 바로 앞 토큰 "
                "출력)를 토큰 주머니만으로 가능한 수준 이상으로 배우지 못하지만, 순서와 무관한 "
                "과제(개수 세기)에서는 위치가 도움이 되지 않는다. 학습된 위치, 사인파 위치, "
                "RoPE는 각각 순서에 의존하는 과제를 배운다.",
    "cpu_seconds": 2,
    "metric": "accuracy",
    "steps": 60,
    "control": {"task": "count"},
    "layers": {"prefix": "source/", "label": "attention on the source position per layer "
               "(best head)", "label_ko": "층별 정답 위치로 가는 어텐션(가장 큰 헤드)"},
    "params": {
        "task": {"default": "shift", "choices": ["shift", "reverse", "count"],
                 "help": "shift and reverse depend on order; count does not (the control)"},
        "lr": {"default": 0.006, "help": "Adam learning rate", "min": 0, "max": 1},
        "num_layers": {"default": 2, "help": "transformer blocks", "min": 1, "max": 4},
        "length": {"default": 8, "help": "tokens per sequence", "min": 2, "max": 32},
    },
}
WIDTH, HEADS, VOCAB, BATCH, HELD_OUT = 64, 4, 8, 32, 256
SOLVED = 0.9  # held-out accuracy at least this: the task is learned
ORDER = 0.3  # every position signal this far above "none": position information mattered
AT_CEILING = 0.05  # "none" within this of the order-blind ceiling (or below it)


def source_mask(task: str, X: torch.Tensor) -> torch.Tensor:
    """(batch, query, key): where the label of each position comes from."""
    B, L = X.shape
    if task == "count":
        return (X[:, :, None] == X[:, None, :]) & ~torch.eye(L, dtype=torch.bool,
                                                             device=X.device)
    if task == "shift":
        eye = torch.eye(L, dtype=torch.bool, device=X.device)
        return eye.roll(-1, 1).tril(-1).expand(B, L, L)  # row i: column i - 1
    return torch.eye(L, dtype=torch.bool, device=X.device).flip(1).expand(B, L, L)


def ceiling(task: str, X: torch.Tensor) -> float:
    """Best expected accuracy of a model that sees a position's token and the bag of tokens
    but not their order: 1 for count (a function of both); for shift and reverse the source
    token is a uniform draw from the other tokens, so the best guess is their mode."""
    if task == "count":
        return 1.0
    L = X.shape[1]
    counts = torch.nn.functional.one_hot(X, VOCAB).sum(1)  # (batch, vocab)
    others = counts[:, None, :] - torch.nn.functional.one_hot(X, VOCAB)  # minus own token
    best = others.max(-1).values.float() / (L - 1)  # (batch, position)
    return (best[:, 1:] if task == "shift" else best).mean().item()


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    task, L = p["task"], p["length"]
    X, Y = label_task(task, 4096, L, VOCAB, seed)
    X_val, Y_val = label_task(task, HELD_OUT, L, VOCAB, seed + 10_000)
    X, Y, X_val, Y_val = X.to(device), Y.to(device), X_val.to(device), Y_val.to(device)
    source = source_mask(task, X_val)
    g = torch.Generator().manual_seed(seed)
    batches = [torch.randint(0, len(X), (BATCH,), generator=g) for _ in range(num_steps)]
    numbers: dict = {"task": task, "length": L, "steps": num_steps,
                     "ceiling": ceiling(task, X_val.cpu())}
    for part, pos in enumerate(POSITIONS):
        torch.manual_seed(seed)  # the same initial weights wherever the models share them
        net = GPT(max(VOCAB, L), WIDTH, p["num_layers"], HEADS, L, pos=pos, causal=False)
        net = net.to(device)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"], foreach=True)
        losses = []
        for step in range(1, num_steps + 1):
            idx = batches[step - 1].to(device)
            loss = lm_loss(net(X[idx]), Y[idx])
            losses.append(loss.item())
            trainer.zero_grad()
            loss.backward()
            trainer.step()
            if is_log_step(step, num_steps, points=10):
                q = HELD_OUT if step == num_steps else HELD_OUT // 4  # all of it at the end
                acc, share = evaluate(net, X_val[:q], Y_val[:q], source[:q])
                metrics = {"loss": losses[-1], "accuracy": acc}
                metrics.update({f"source/{i}": s for i, s in enumerate(share, 1)})
                yield Log(pos, step, num_steps, metrics, part, len(POSITIONS))
        numbers[pos] = {"accuracy": acc, "loss": losses[-1], "source": share}
    signals = [pos for pos in POSITIONS if pos != "none"]
    numbers["worst_signal"] = min(signals, key=lambda s: numbers[s]["accuracy"])
    numbers["gap"] = numbers[numbers["worst_signal"]]["accuracy"] - numbers["none"]["accuracy"]
    numbers["effect"] = bool(numbers["gap"] >= ORDER)
    return numbers


def evaluate(net: GPT, X: torch.Tensor, Y: torch.Tensor, source: torch.Tensor):
    """Held-out accuracy, and per layer the best head's mean attention on the source."""
    with torch.no_grad():
        acc = scored_accuracy(net(X), Y)
        rows = (Y != IGNORE)[:, None, :]  # (batch, 1, query): scored queries only
        share = []
        for attn in net.attentions:
            assert attn.probs is not None
            on_source = (attn.probs * source[:, None]).sum(-1)  # (batch, head, query)
            per_head = (on_source * rows).sum((0, 2)) / rows.sum()
            share.append(per_head.max().item())
    return acc, share


NAMES = {"none": ("no positions", "위치 없음"), "learned": ("learned", "학습된 위치"),
         "sinusoidal": ("sinusoidal", "사인파"), "rope": ("RoPE", "RoPE")}


def statements(n: dict) -> list[Statement]:
    task, cap, none = n["task"], n["ceiling"], n["none"]["accuracy"]
    accs = ", ".join(f"{NAMES[p][0]} {n[p]['accuracy']:.0%}" for p in POSITIONS)
    accs_ko = ", ".join(f"{NAMES[p][1]} {n[p]['accuracy']:.0%}" for p in POSITIONS)
    signals = [p for p in POSITIONS if p != "none"]
    unsolved = [p for p in signals if n[p]["accuracy"] < SOLVED]
    worst, gap = n["worst_signal"], n["gap"]
    layer = max(range(len(n[worst]["source"])), key=lambda i: n[worst]["source"][i])
    src = (f"attention on the source: no positions {max(n['none']['source']):.0%} at best, "
           f"{NAMES[worst][0]} {n[worst]['source'][layer]:.0%} in layer {layer + 1}",
           f"정답 위치로 가는 어텐션: 위치 없음 최대 {max(n['none']['source']):.0%}, "
           f"{NAMES[worst][1]} {layer + 1}층 {n[worst]['source'][layer]:.0%}")
    return [
        Statement("accuracies", f"Task {task}, {n['steps']} steps, held-out accuracy: {accs}; "
                  f"{src[0]}.", f"과제 {task}, {n['steps']}스텝, 검증 정확도: {accs_ko}. "
                  f"{src[1]}."),
        Statement("ceiling", f"Without positions the model reached {none:.0%}, against "
                  f"{cap:.0%}, the best any model blind to order can expect on this data.",
                  f"위치 없는 모델은 {none:.0%}에 이르렀고, 순서를 못 보는 모델이 이 데이터에서 "
                  f"기대할 수 있는 최대는 {cap:.0%}입니다."),
        Statement("at-ceiling", "It is stuck at the bag-of-tokens limit.",
                  "토큰 주머니의 한계에 갇혔습니다.", none <= cap + AT_CEILING and cap < 1),
        Statement("learned-free", "The task does not depend on order, and it learned it.",
                  "순서와 무관한 과제라 배웠습니다.", cap == 1 and none >= SOLVED),
        Statement("not-learned", f"It stayed below {SOLVED:.0%}, untrained rather than blind "
                  f"to order (the task allows 100%).",
                  f"{SOLVED:.0%} 아래에 머물렀는데, 과제는 100%를 허용하므로 순서 탓이 아니라 "
                  f"덜 학습된 것입니다.", cap == 1 and none < SOLVED),
        Statement("above-ceiling", f"It went {(none - cap) * 100:.0f} points above that "
                  f"expected limit.", f"그 기대 한계를 {(none - cap) * 100:.0f}%p 넘었습니다.",
                  cap < 1 and none > cap + AT_CEILING),
        causal("position", ["position"], "order-mattered",
               f"Adding position information raised accuracy by at least {gap * 100:.0f} "
               f"points ({NAMES[worst][0]}, the lowest of the three).",
               f"위치 정보를 더하자 정확도가 적어도 {gap * 100:.0f}%p 올랐습니다"
               f"(셋 중 가장 낮은 {NAMES[worst][1]} 기준).", gap >= ORDER),
        Statement("order-free", f"Position information did not help by {ORDER * 100:.0f} "
                  f"points or more (the lowest of the three, {NAMES[worst][0]}, is "
                  f"{gap * 100:+.0f} points from none).",
                  f"위치 정보가 {ORDER * 100:.0f}%p 이상 도움이 되지 않았습니다(셋 중 가장 낮은 "
                  f"{NAMES[worst][1]}는 위치 없음과 {gap * 100:+.0f}%p 차이).", gap < ORDER),
        Statement("all-solved", f"Learned, sinusoidal and RoPE positions each reached "
                  f"{SOLVED:.0%} or more.", f"학습된 위치, 사인파, RoPE 모두 {SOLVED:.0%} 이상에 "
                  f"이르렀습니다.", not unsolved),
        Statement("some-unsolved", f"Below {SOLVED:.0%}: "
                  f"{', '.join(NAMES[p][0] for p in unsolved)}.",
                  f"{SOLVED:.0%} 미만: {', '.join(NAMES[p][1] for p in unsolved)}.",
                  bool(unsolved)),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
