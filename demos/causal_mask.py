"""Causal mask: next-token training without it lets the model read the answer it is asked for.

A decoder is trained to predict token t+1 from tokens 1..t; the causal mask stops
position t from attending to later positions (Vaswani et al. 2017, section 3.2.3). Here a
tiny transformer learns sequences "a SEP sort(a)": eight random tokens, a separator, the
same eight sorted, with the loss on every next token, as a language model is trained. The first
eight tokens are random, so no model that reads only the past can predict them better than
chance: ln(16) = 2.77 nats per token is the floor. Without the mask, position t simply
reads token t+1, and the training loss drops far below that floor. At generation there is no
token t+1 to read: the model continues the prompt "a SEP" one token at a time, and we
compare what it produced (free-running accuracy) with what teacher forcing promised.

Why sort: with copy or reverse (try `--set task=copy`) the unmasked model also learns the
honest route, since the answer sits in the prompt as well as in the future, and it still
generates well (93-98 % measured); sorting is slower to learn than reading the next token,
so the shortcut wins. Per layer we measure the share of attention that goes to future
positions on held-out sequences. The control is the same training with the mask on.
"""

from __future__ import annotations

import math

import torch
from _gpt import GPT, generate, sequence_task
from _kit import Log, is_log_step
from _verdict import Statement, render
from torch.nn import functional as F

META = {
    "name": "causal-mask",
    "claim": "Trained on next-token prediction without the causal mask, a transformer reaches "
             "a training loss below what any model reading only the past can reach, by "
             "attending to the future, and then fails when it generates; with the mask its "
             "teacher-forced and free-running accuracy agree.",
    "claim_ko": "인과 마스크 없이 다음 토큰 예측을 학습한 트랜스포머는 미래 위치에 어텐션해서, "
                "과거만 읽는 어떤 모델도 도달할 수 없는 낮은 학습 손실에 이르지만, 생성할 때는 "
                "실패한다. 마스크를 쓰면 교사 강요 정확도와 자유 생성 정확도가 일치한다.",
    "cpu_seconds": 1,
    "metric": "loss",
    "steps": 80,
    "control": {"causal": True},
    "layers": {"prefix": "future/", "label": "share of attention on future positions, per "
               "layer", "label_ko": "층별 미래 위치로 가는 어텐션 비율"},
    "params": {
        "causal": {"default": False, "help": "apply the causal mask (the control)"},
        "task": {"default": "sort", "choices": ["copy", "reverse", "sort"],
                 "help": "what follows the separator: the tokens copied, reversed or sorted"},
        "lr": {"default": 0.003, "help": "Adam learning rate", "min": 0, "max": 1},
        "num_layers": {"default": 2, "help": "transformer blocks", "min": 1, "max": 4},
        "length": {"default": 8, "help": "random tokens before the separator", "min": 2,
                   "max": 24},
    },
}
WIDTH, HEADS, VOCAB, BATCH, HELD_OUT = 64, 2, 16, 32, 256
BELOW = 0.5  # loss on the random half under this share of the floor: it read the future
GAP = 0.5  # teacher-forced minus free-running accuracy above this: generation failed
AGREE = 0.1  # the two accuracies within this: they agree
DONE = {"copy": ("copied", "복사한"), "reverse": ("reversed", "뒤집은"),
        "sort": ("sorted", "정렬한")}


def measure(net: GPT, X: torch.Tensor, Y: torch.Tensor, length: int) -> dict:
    """Teacher-forced loss on the random half and accuracy on the answer, and the share of
    attention on future positions per layer."""
    with torch.no_grad():
        logits = net(X)
        losses = F.cross_entropy(logits.transpose(1, 2), Y, reduction="none")
        answer = slice(length, 2 * length)  # predictions of the answer's tokens
        teacher = (logits[:, answer].argmax(-1) == Y[:, answer]).float().mean().item()
        future = []
        for attn in net.attentions:
            p = attn.probs  # (batch, head, query, key)
            assert p is not None
            later = torch.ones(p.shape[-2:], dtype=torch.bool, device=p.device).triu(1)
            future.append((p * later).sum(-1).mean().item())
    return {"random_loss": losses[:, :length - 1].mean().item(),
            "answer_loss": losses[:, answer].mean().item(), "teacher_accuracy": teacher,
            "future": future}


def free_running(net: GPT, X: torch.Tensor, Y: torch.Tensor, length: int) -> float:
    """Accuracy of a greedy continuation of the prompt "a SEP": the whole prefix is run
    again at every step (no cache: an unmasked model's earlier positions change as the
    sequence grows)."""
    made = generate(net, X[:, :length + 1], length)
    return (made == Y[:, length:2 * length]).float().mean().item()


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    length = p["length"]
    tokens, _, _ = sequence_task(p["task"], 2048, length, VOCAB, seed)
    held, _, _ = sequence_task(p["task"], HELD_OUT, length, VOCAB, seed + 10_000)
    X, Y = tokens[:, :-1].to(device), tokens[:, 1:].to(device)  # every next token is scored
    X_val, Y_val = held[:, :-1].to(device), held[:, 1:].to(device)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = GPT(VOCAB + 1, WIDTH, p["num_layers"], HEADS, X.shape[1], causal=p["causal"])
    net = net.to(device)
    trainer = torch.optim.Adam(net.parameters(), lr=p["lr"], foreach=True)
    name = "masked" if p["causal"] else "unmasked"
    losses = []
    for step in range(1, num_steps + 1):
        idx = torch.randint(0, len(X), (BATCH,), generator=g).to(device)
        loss = F.cross_entropy(net(X[idx]).transpose(1, 2), Y[idx])
        losses.append(loss.item())
        trainer.zero_grad()
        loss.backward()
        trainer.step()
        if is_log_step(step, num_steps, points=20):  # on a quarter of the held-out set
            m = measure(net, X_val[:HELD_OUT // 4], Y_val[:HELD_OUT // 4], length)
            metrics = {"loss": losses[-1], "random_loss": m["random_loss"],
                       "teacher_accuracy": m["teacher_accuracy"]}
            metrics.update({f"future/{i}": f for i, f in enumerate(m["future"], 1)})
            yield Log(name, step, num_steps, metrics)
    m = measure(net, X_val, Y_val, length)
    m["free_accuracy"] = free_running(net, X_val, Y_val, length)
    floor = math.log(VOCAB)
    numbers: dict = {"causal": p["causal"], "steps": num_steps, "length": length,
                     "floor": floor, "loss": losses[-1], "task": p["task"], "vocab": VOCAB,
                     "finite": all(math.isfinite(v) for v in losses), **m}
    numbers["gap"] = m["teacher_accuracy"] - m["free_accuracy"]
    numbers["read_future"] = m["random_loss"] < BELOW * floor
    numbers["effect"] = bool(numbers["read_future"] and numbers["gap"] > GAP)
    return numbers


def statements(n: dict) -> list[Statement]:
    mask = "with the mask" if n["causal"] else "without the mask"
    mask_ko = "마스크 있음" if n["causal"] else "마스크 없음"
    layer = max(range(len(n["future"])), key=lambda i: n["future"][i])
    most, mean = n["future"][layer], sum(n["future"]) / len(n["future"])
    rl, floor = n["random_loss"], n["floor"]
    t_acc, f_acc, gap, task = n["teacher_accuracy"], n["free_accuracy"], n["gap"], n["task"]
    accs = (f"On the {DONE[task][0]} half, teacher-forced accuracy is {t_acc:.0%} and "
            f"free-running accuracy, generating from the prompt, {f_acc:.0%}",
            f"{DONE[task][1]} 뒷부분의 교사 강요 정확도는 {t_acc:.0%}, 프롬프트에서 스스로 "
            f"생성한 정확도는 {f_acc:.0%}")
    return [
        Statement("future", f"Trained {mask} for {n['steps']} steps. On held-out sequences "
                  f"{mean:.1%} of the attention goes to future positions on average, "
                  f"{most:.1%} in layer {layer + 1}, the most.",
                  f"{mask_ko}, {n['steps']}스텝 학습. 검증 시퀀스에서 어텐션 중 미래 위치로 간 "
                  f"비율은 평균 {mean:.1%}, 가장 큰 층은 {layer + 1}층의 {most:.1%}입니다."),
        Statement("floor", f"The loss on the random first half is {rl:.3g} nats, "
                  f"{rl / floor:.0%} of ln {n['vocab']} = {floor:.3g}, the floor for any model "
                  f"that reads only the past:",
                  f"무작위 앞부분의 손실은 {rl:.3g} nat로, 과거만 읽는 모델의 하한 "
                  f"ln {n['vocab']} = {floor:.3g}의 {rl / floor:.0%}입니다:"),
        Statement("read-future", "impossible from the past, so it read the next token from "
                  "the future.", "과거만으로는 불가능한 값이라, 다음 토큰을 미래에서 읽었습니다.",
                  n["read_future"]),
        Statement("no-future", "no sign of reading the future.",
                  "미래를 읽었다는 증거는 없습니다.", not n["read_future"]),
        Statement("failed", accs[0] + ": at generation there is no future to read, and it "
                  "failed.", accs[1] + ". 생성할 때는 읽을 미래가 없어 실패했습니다.",
                  gap > GAP),
        Statement("agree", accs[0] + ": the two agree.", accs[1] + "로, 두 값이 일치합니다.",
                  abs(gap) <= AGREE),
        Statement("apart", accs[0] + f": {gap * 100:.0f} points apart, less than the "
                  f"{GAP * 100:.0f} that would mean generation failed.",
                  accs[1] + f"로, {gap * 100:.0f}%p 차이가 나지만 생성이 실패했다고 할 "
                  f"{GAP * 100:.0f}%p에는 못 미칩니다.", AGREE < abs(gap) and gap <= GAP),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
