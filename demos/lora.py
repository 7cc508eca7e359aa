"""LoRA: fine-tuning a pretrained transformer through two small matrices per weight.

LoRA (Hu et al., ICLR 2022) freezes a pretrained weight W (d_out x d_in) and learns its
update as a product B A of rank r: A is r x d_in (random), B is d_out x r (zeros), and
the layer computes W x + B A x. Because B starts at zero, the adapted model is exactly the
pretrained one at step 0; training touches r x (d_in + d_out) numbers per adapted weight
instead of d_in x d_out, and Adam keeps its two moments for those numbers only.

The demo pretrains a tiny causal transformer to copy 8 tokens, then fine-tunes it to
reverse them (a new attention pattern) twice from the same weights: full fine-tuning of
every parameter, and LoRA of rank r on the query and value projections (the targets of
Hu et al.'s GPT-3 experiments, and memcalc's default). We measure the largest output
difference at step 0, the trainable parameters, the bytes of Adam's state (read off the
optimiser), each layer's update norm |B A|, and held-out accuracy on the new task. The
control is rank 1, too small to learn the reversal.
"""

from __future__ import annotations

import copy
import math

import torch
from _gpt import GPT, lm_steps, scored_accuracy, sequence_task
from _kit import Log, is_log_step
from _verdict import CLOSE, Statement, about_equal, learned, render
from torch import nn

META = {
    "name": "lora",
    "claim": "Fine-tuning a pretrained transformer with LoRA at rank 8 on the query and value "
             "projections reaches about full fine-tuning's accuracy while training a few "
             "percent of the parameters, with Adam's state shrunk by the same factor; with "
             "B = 0 at the start the adapted model is exactly the pretrained one.",
    "claim_ko": "사전학습한 트랜스포머를 쿼리와 값 프로젝션에 랭크 8 LoRA로 미세조정하면 "
                "파라미터의 몇 퍼센트만 학습하면서도 전체 미세조정과 비슷한 정확도에 이르고, "
                "Adam의 상태도 같은 비율로 줄어든다. 처음에 B = 0이므로 어댑터를 붙인 모델은 "
                "사전학습 모델과 정확히 같다.",
    "cpu_seconds": 1.5,
    "metric": "accuracy",
    "steps": 80,
    "control": {"rank": 1},
    "layers": {"prefix": "update/", "label": "LoRA update norm |B A| per layer",
               "label_ko": "층별 LoRA 업데이트 노름 |B A|"},
    "params": {
        "rank": {"default": 8, "choices": [1, 2, 4, 8, 16], "help": "LoRA rank r"},
        "lr": {"default": 0.02, "help": "Adam learning rate of the adapters", "min": 0.0001,
               "max": 0.1},
        "length": {"default": 6, "help": "tokens to copy, then to reverse", "min": 2,
                   "max": 8},
    },
}
WIDTH, HEADS, LAYERS, VOCAB, BATCH = 64, 4, 2, 16, 32
PRETRAIN, FULL_LR, PRE_LR = 40, 0.003, 0.003
TARGETS = (0, 2)  # q and v: the first and last third of the fused qkv projection


class LoRAQKV(nn.Module):
    """A frozen fused q/k/v Linear plus B A on the targeted thirds (q and v)."""

    def __init__(self, base: nn.Linear, rank: int) -> None:
        super().__init__()
        self.base, self.d = base, base.in_features
        d = self.d
        self.A = nn.ParameterList(nn.Parameter(torch.randn(rank, d) / math.sqrt(d))
                                  for _ in TARGETS)
        self.B = nn.ParameterList(nn.Parameter(torch.zeros(d, rank)) for _ in TARGETS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        zero = torch.zeros_like(y[..., :self.d])
        adds = [zero, zero, zero]
        for part, A, B in zip(TARGETS, self.A, self.B, strict=True):
            adds[part] = (x @ A.T) @ B.T
        return y + torch.cat(adds, dim=-1)

    def update_norm(self) -> float:
        return math.sqrt(sum((B @ A).square().sum().item() for A, B in zip(self.A, self.B,
                                                                            strict=True)))


def state_bytes(trainer: torch.optim.Optimizer) -> int:
    """Bytes of every tensor Adam keeps (both moments and the step counters)."""
    return sum(v.nbytes for s in trainer.state.values() for v in s.values()
               if isinstance(v, torch.Tensor))


def fit(net: nn.Module, params: list[nn.Parameter], data: tuple, lr: float, num_steps: int,
        seed: int, name: str, part: int):
    """Adam on ``data``; yields Logs and returns (accuracy, losses, trainer)."""
    X, Y, Xt, Yt = data
    trainer = torch.optim.Adam(params, lr=lr)
    losses = []
    for step, loss, logits, targets in lm_steps(net, trainer, X, Y, num_steps, BATCH, seed):
        losses.append(loss)
        if is_log_step(step, num_steps, points=20):
            # the training batch's accuracy (free: its logits exist); held-out at the end
            metrics = {"loss": loss, "accuracy": scored_accuracy(logits, targets)}
            if name == "lora":
                metrics.update({f"update/{i}": b.attn.qkv.update_norm()
                                for i, b in enumerate(net.blocks, 1)})
            yield Log(name, step, num_steps, metrics, part, 3)
    with torch.no_grad():
        acc = scored_accuracy(net(Xt), Yt)
    return acc, losses, trainer


def task(name: str, length: int, seed: int, device: torch.device) -> tuple:
    X, Y, _ = sequence_task(name, 2048, length, VOCAB, seed)
    Xt, Yt, _ = sequence_task(name, 256, length, VOCAB, seed + 1)
    return X.to(device), Y.to(device), Xt.to(device), Yt.to(device)


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    T = 2 * p["length"] + 1
    torch.manual_seed(seed)
    base = GPT(VOCAB + 1, WIDTH, LAYERS, HEADS, T).to(device)
    old, new = task("copy", p["length"], seed, device), task("reverse", p["length"], seed,
                                                            device)
    pre_acc, _, _ = yield from fit(base, list(base.parameters()), old, PRE_LR, PRETRAIN, seed,
                                   "pretrain", 0)
    numbers: dict = {"rank": p["rank"], "steps": num_steps, "pretrain_accuracy": pre_acc,
                     "chance": 1 / VOCAB, "n_layer": LAYERS, "d_model": WIDTH,
                     "vocab": VOCAB + 1, "seq": T}
    with torch.no_grad():
        numbers["start_accuracy"] = scored_accuracy(base(new[2]), new[3])
    full = copy.deepcopy(base)
    params = list(full.parameters())
    acc, losses, trainer = yield from fit(full, params, new, FULL_LR, num_steps, seed + 7,
                                          "full", 1)
    numbers["full"] = {"accuracy": acc, "loss": losses[-1], "trainable": _count(params),
                       "state_bytes": state_bytes(trainer)}
    torch.manual_seed(seed + 11)  # the adapters' random A
    net = copy.deepcopy(base)
    for w in net.parameters():
        w.requires_grad_(False)
    for block in net.blocks:
        block.attn.qkv = LoRAQKV(block.attn.qkv, p["rank"]).to(device)
    with torch.no_grad():  # B = 0: the adapted model must be the pretrained one, exactly
        numbers["step0_gap"] = (net(new[2]) - base(new[2])).abs().max().item()
    numbers["unchanged"] = numbers["step0_gap"] == 0
    params = [w for w in net.parameters() if w.requires_grad]
    acc, losses, trainer = yield from fit(net, params, new, p["lr"], num_steps, seed + 7,
                                          "lora", 2)
    numbers["lora"] = {"accuracy": acc, "loss": losses[-1], "trainable": _count(params),
                       "state_bytes": state_bytes(trainer), "tensors": len(params),
                       "update": [b.attn.qkv.update_norm() for b in net.blocks]}
    f, lo = numbers["full"], numbers["lora"]
    numbers["share"] = lo["trainable"] / f["trainable"]
    numbers["state_ratio"] = lo["state_bytes"] / f["state_bytes"]
    numbers["state_percent"] = 100 * numbers["state_ratio"]
    numbers["effect"] = bool(about_equal(lo["accuracy"], f["accuracy"])
                             and learned(f["accuracy"], numbers["chance"])
                             and numbers["share"] < 0.1)
    return numbers


def _count(params: list[nn.Parameter]) -> int:
    return sum(w.numel() for w in params)


# --- the verdict: each sentence with the check that allows it --------------------------------


def statements(n: dict) -> list[Statement]:
    f, lo, r = n["full"], n["lora"], n["rank"]
    fa, la, ch = f["accuracy"], lo["accuracy"], n["chance"]
    close = about_equal(la, fa)
    full_ok = learned(fa, ch)
    return [
        Statement("identity", f"At step 0 (B = 0) the LoRA model's outputs differ from the "
                  f"pretrained model's by at most {n['step0_gap']:g}: it is the same model.",
                  f"0스텝(B = 0)에서 LoRA 모델의 출력은 사전학습 모델과 최대 "
                  f"{n['step0_gap']:g}만큼 다릅니다: 같은 모델입니다.", n["step0_gap"] == 0),
        Statement("not-identity", f"At step 0 the LoRA model already differs from the "
                  f"pretrained one by {n['step0_gap']:.2g}.",
                  f"0스텝에서 이미 LoRA 모델이 사전학습 모델과 {n['step0_gap']:.2g}만큼 다릅니다.",
                  n["step0_gap"] != 0),
        Statement("params", f"Rank {r} on q and v trains {lo['trainable']:,} parameters, "
                  f"{n['share']:.1%} of full fine-tuning's {f['trainable']:,}; Adam keeps "
                  f"{lo['state_bytes']:,} bytes of state against {f['state_bytes']:,} "
                  f"({n['state_ratio']:.1%}).",
                  f"q와 v에 랭크 {r}을 쓰면 학습하는 파라미터는 {lo['trainable']:,}개로 전체 "
                  f"미세조정 {f['trainable']:,}개의 {n['share']:.1%}이고, Adam의 상태는 "
                  f"{f['state_bytes']:,}바이트 대신 {lo['state_bytes']:,}바이트"
                  f"({n['state_ratio']:.1%})입니다."),
        Statement("accuracy", f"After {n['steps']} steps on the new task (reversal; "
                  f"{n['start_accuracy']:.0%} before, chance {ch:.0%}), full fine-tuning "
                  f"reaches {fa:.1%} and LoRA {la:.1%}.",
                  f"새 작업(뒤집기; 시작 전 {n['start_accuracy']:.0%}, 우연 수준 {ch:.0%})에서 "
                  f"{n['steps']}스텝 뒤 전체 미세조정은 {fa:.1%}, LoRA는 {la:.1%}에 이릅니다."),
        Statement("close", f"LoRA is within {CLOSE:.0%} of full fine-tuning.",
                  f"LoRA가 전체 미세조정과 {CLOSE:.0%} 이내입니다.", close and full_ok),
        Statement("below", f"LoRA at rank {r} stays more than {CLOSE:.0%} below full "
                  f"fine-tuning.",
                  f"랭크 {r}의 LoRA는 전체 미세조정보다 {CLOSE:.0%} 넘게 낮습니다.",
                  la < fa - CLOSE),
        Statement("above", f"LoRA ends more than {CLOSE:.0%} above full fine-tuning.",
                  f"LoRA가 전체 미세조정보다 {CLOSE:.0%} 넘게 높게 끝납니다.", la > fa + CLOSE),
        Statement("unlearned", "Full fine-tuning itself did not learn the task in these "
                  "steps, so the comparison says little.",
                  "전체 미세조정조차 이 스텝 안에 작업을 배우지 못해 비교의 의미가 적습니다.",
                  not full_ok),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
