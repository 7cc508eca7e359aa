"""Pre-norm vs post-norm: where the LayerNorm sits decides whether a deep transformer trains.

The original transformer normalises each residual sum, ``x = norm(x + f(x))`` (post-norm);
GPT-2 and most models since normalise the branch's input, ``x = x + f(norm(x))`` (pre-norm),
which leaves an unnormalised identity path from the loss to every block. Xiong et al. (2020,
"On Layer Normalization in the Transformer Architecture", ICML, section 3) show that at
initialisation post-norm's gradients near the output are large (their bound is sqrt(L) times
pre-norm's, whose gradients are scaled down by the depth): a large learning rate without
warm-up then throws post-norm's last blocks around. What follows is what the per-block
gradient norms show here: after a few such steps, post-norm's gradient no longer reaches its
lower blocks (it fades by orders of magnitude on the way down, through the LayerNorm that
every residual sum passes) and the model stays at a uniform guess; pre-norm's gradient still
reaches every block and it learns.

Two runs share everything (seed, weights, data, batches, Adam and its learning rate) except
the norm's place: a 12-block causal transformer of width 32 learns to copy 4 tokens. We
measure every block's gradient norm (all its parameters) at each logged step, held-out loss
and accuracy at the end. The control is a shallow stack (2 blocks), where both train;
``--set warmup=...`` tries the other cure.
"""

from __future__ import annotations

import math

import torch
from _gpt import GPT, lm_loss, scored_accuracy, sequence_task
from _kit import Log, is_log_step
from _verdict import Statement, causal, learned, render

META = {
    "name": "prenorm-postnorm",
    "claim": "At 12 blocks and a learning rate without warm-up, a post-norm transformer's "
             "gradient stops reaching its lower blocks and it does not learn, while the same "
             "model with pre-norm learns; in a shallow stack both train.",
    "claim_ko": "12블록에서 웜업 없는 학습률로 학습하면 post-norm 트랜스포머는 기울기가 아래쪽 "
                "블록까지 닿지 않아 학습하지 못하지만, 같은 모델을 pre-norm으로 두면 학습한다. "
                "얕은 스택에서는 둘 다 학습한다.",
    "cpu_seconds": 2,
    "metric": "loss",
    "steps": 40,
    "control": {"num_layers": 2},
    "layers": {"prefix": "grad/", "label": "gradient norm per block (all its parameters)",
               "label_ko": "블록별 기울기 노름(블록의 모든 파라미터)"},
    "params": {
        "num_layers": {"default": 12, "help": "transformer blocks", "min": 1, "max": 24},
        "lr": {"default": 0.003, "help": "Adam learning rate (peak, after any warm-up)",
               "min": 0, "max": 1},
        "warmup": {"default": 0, "help": "linear warm-up steps for both runs", "min": 0,
                   "max": 1000},
        "length": {"default": 4, "help": "tokens to copy (sequence = 2 x length + 1)",
                   "min": 2, "max": 8},
    },
}
WIDTH, HEADS, VOCAB, BATCH, HELD_OUT = 32, 2, 16, 16, 256
FADED = 10.0  # weakest block's gradient under 1/FADED of the last's: the gradient faded
ARMS = ("pre", "post")


def block_grads(net: GPT) -> list[float]:
    """The gradient norm of each block, over all its parameters."""
    return [torch.stack([p.grad.norm() for p in b.parameters() if p.grad is not None])
            .norm().item() for b in net.blocks]


def reach(norms: list[float]) -> tuple[float, int]:
    """The weakest block's gradient as a share of the last block's, and which block (1-based)
    that is: how much of the gradient at the top of the stack is left where it is least. NaN
    if a norm is not finite."""
    low = min(range(len(norms)), key=lambda i: norms[i])
    if not all(math.isfinite(v) for v in norms) or norms[-1] == 0:
        return math.nan, low + 1
    return norms[low] / norms[-1], low + 1


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    L, warm = p["num_layers"], p["warmup"]
    X, Y, _ = sequence_task("copy", 1024, p["length"], VOCAB, seed)
    X_val, Y_val, _ = sequence_task("copy", HELD_OUT, p["length"], VOCAB, seed + 10_000)
    X, Y, X_val, Y_val = X.to(device), Y.to(device), X_val.to(device), Y_val.to(device)
    g = torch.Generator().manual_seed(seed)
    batches = [torch.randint(0, len(X), (BATCH,), generator=g) for _ in range(num_steps)]
    numbers: dict = {"num_layers": L, "lr": p["lr"], "warmup": warm, "steps": num_steps,
                     "floor": math.log(VOCAB), "chance": 1 / VOCAB}
    for part, norm in enumerate(ARMS):
        torch.manual_seed(seed)  # the same initial weights for both runs
        net = GPT(VOCAB + 1, WIDTH, L, HEADS, X.shape[1], norm=norm).to(device)
        trainer = torch.optim.Adam(net.parameters(), lr=p["lr"], foreach=True)
        r: dict = {"diverged_at": None}
        losses = []
        for step in range(1, num_steps + 1):
            for group in trainer.param_groups:  # linear warm-up, then the peak rate
                group["lr"] = p["lr"] * min(1.0, step / warm) if warm else p["lr"]
            idx = batches[step - 1].to(device)
            loss = lm_loss(net(X[idx]), Y[idx])
            trainer.zero_grad()
            loss.backward()
            losses.append(loss.item())
            finite = math.isfinite(losses[-1])
            logged = is_log_step(step, num_steps, points=20) or not finite
            if logged:
                grads = block_grads(net)
                r.setdefault("grad_init", grads)
                r["grad_end"], r["grad_step"] = grads, step
                metrics = {"loss": losses[-1], **{f"grad/{i}": v for i, v in enumerate(grads, 1)}}
                yield Log(norm, step, num_steps, metrics, part, len(ARMS))
            if not (finite and all(math.isfinite(v) for v in r["grad_end"])):
                r["diverged_at"] = step  # inf/NaN would poison every weight it touches
                break
            trainer.step()
        with torch.no_grad():
            logits = net(X_val)
        r.update({"loss": lm_loss(logits, Y_val).item(), "accuracy": scored_accuracy(logits, Y_val),
                  "train_loss": losses[-1]})
        r["finite"] = r["diverged_at"] is None and math.isfinite(r["loss"])
        r["learned"] = bool(r["finite"] and learned(r["accuracy"], numbers["chance"]))
        r["reach"], r["weakest"] = reach(r["grad_end"])
        numbers[norm] = r
    pre, post = numbers["pre"], numbers["post"]
    numbers["init_ratio"] = post["grad_init"][-1] / pre["grad_init"][-1]
    numbers["faded"] = bool(post["reach"] < 1 / FADED and pre["reach"] >= 1 / FADED)
    numbers["effect"] = bool(pre["learned"] and not post["learned"] and numbers["faded"])
    return numbers


# --- the verdict: each sentence with the check that allows it --------------------------------


def statements(n: dict) -> list[Statement]:
    pre, post, L, steps = n["pre"], n["post"], n["num_layers"], n["steps"]
    sched = (f"a {n['warmup']}-step warm-up to lr {n['lr']:g}" if n["warmup"]
             else f"lr {n['lr']:g} from the first step, no warm-up")
    sched_ko = (f"{n['warmup']}스텝 웜업 후 학습률 {n['lr']:g}" if n["warmup"]
                else f"웜업 없이 첫 스텝부터 학습률 {n['lr']:g}")
    gi_post, gi_pre, ratio, root = post["grad_init"][-1], pre["grad_init"][-1], \
        n["init_ratio"], math.sqrt(L)
    finite = pre["finite"] and post["finite"]
    at = post["grad_step"]
    wk_post, wk_pre, top_post = post["weakest"], pre["weakest"], post["grad_end"][-1]
    low_post = post["grad_end"][wk_post - 1]
    accs = (pre["accuracy"], post["accuracy"])
    ls = (pre["loss"], post["loss"])
    floor = n["floor"]
    pl, ql = pre["learned"], post["learned"]
    died = [(name, r["diverged_at"]) for name, r in (("pre-norm", pre), ("post-norm", post))
            if r["diverged_at"] is not None]
    died_ko = ", ".join(f"{name}은 {s}스텝" for name, s in died)
    return [
        Statement("setup",
                  f"{L} block{'s' if L > 1 else ''}, Adam with {sched}, {steps} steps; the two "
                  f"runs share weights, data and batches and differ only in where the LayerNorm "
                  f"sits. At init the "
                  f"last block's gradient norm is {gi_post:.3g} post-norm and {gi_pre:.3g} "
                  f"pre-norm ({ratio:.3g}x; Xiong et al.'s bounds differ by sqrt(L) = "
                  f"{root:.3g}).",
                  f"{L}블록, Adam({sched_ko}), {steps}스텝. 두 실행은 가중치, 데이터, 배치가 "
                  f"같고 LayerNorm의 위치만 다릅니다. 초기화 시점에 마지막 블록의 기울기 노름은 "
                  f"post-norm이 {gi_post:.3g}, pre-norm이 {gi_pre:.3g}입니다({ratio:.3g}배이며, "
                  f"Xiong 등의 두 상한은 sqrt(L) = {root:.3g}배 차이가 납니다)."),
        Statement("diverged",
                  f"The loss became inf/NaN ({', '.join(f'{a} at step {s}' for a, s in died)}), "
                  f"so that run stopped there.",
                  f"손실이 inf/NaN이 되어({died_ko}) 그 실행은 거기서 멈췄습니다.", bool(died)),
        Statement("reach",
                  f"At step {at} post-norm's weakest block, block {wk_post}, has "
                  f"{post['reach']:.2g} times the last block's gradient norm ({low_post:.2g} "
                  f"against {top_post:.2g}); pre-norm's weakest, block {wk_pre}, has "
                  f"{pre['reach']:.2g} times its last block's.",
                  f"{at}스텝에서 post-norm의 가장 약한 블록인 {wk_post}번 블록의 기울기 노름은 "
                  f"마지막 블록의 {post['reach']:.2g}배({low_post:.2g} 대 {top_post:.2g})이고, "
                  f"pre-norm의 가장 약한 {wk_pre}번 블록은 마지막 블록의 "
                  f"{pre['reach']:.2g}배입니다.",
                  finite),
        causal("norm", ["norm"], "faded",
               f"Post-norm's gradient fades on its way down the stack (somewhere under "
               f"1/{FADED:g} of the last block's) while pre-norm's still reaches every block.",
               f"post-norm의 기울기는 스택을 내려가며 사그라들지만(어딘가에서 마지막 블록의 "
               f"1/{FADED:g} 미만) pre-norm의 기울기는 여전히 모든 블록에 닿습니다.",
               finite and n["faded"]),
        Statement("reaches",
                  f"The gradient does not fade below 1/{FADED:g} of the last block's in "
                  f"post-norm alone: here the norm's place did not starve the lower blocks.",
                  f"post-norm에서만 기울기가 마지막 블록의 1/{FADED:g} 아래로 사그라드는 일은 "
                  f"없었습니다. 여기서는 정규화의 위치 때문에 기울기를 받지 못하는 아래쪽 블록이 "
                  f"생기지 않았습니다.",
                  finite and not n["faded"]),
        Statement("accuracy",
                  f"Held-out accuracy on the copied tokens: pre-norm {accs[0]:.0%} (loss "
                  f"{ls[0]:.3g}), post-norm {accs[1]:.0%} (loss {ls[1]:.3g}; a uniform guess "
                  f"scores ln {VOCAB} = {floor:.3g}).",
                  f"복사한 토큰의 검증 정확도는 pre-norm {accs[0]:.0%}(손실 {ls[0]:.3g}), "
                  f"post-norm {accs[1]:.0%}(손실 {ls[1]:.3g}. 균등하게 찍으면 "
                  f"ln {VOCAB} = {floor:.3g})입니다.", finite),
        causal("norm", ["norm"], "post-failed",
               "Pre-norm learned and post-norm did not: moving the norm after the residual "
               "sum is what kept it from learning at this depth and schedule.",
               "pre-norm은 학습했고 post-norm은 학습하지 못했습니다. 이 깊이와 스케줄에서 "
               "학습을 막은 것은 정규화를 잔차 합 뒤로 옮긴 것입니다.", finite and pl and not ql),
        Statement("both-learned", "Both learned: here the norm's place did not decide training.",
                  "둘 다 학습했습니다. 여기서는 정규화의 위치가 학습을 좌우하지 않았습니다.",
                  finite and pl and ql),
        Statement("pre-failed", "Post-norm learned and pre-norm did not, the other way round.",
                  "반대로 post-norm은 학습했고 pre-norm은 학습하지 못했습니다.",
                  finite and ql and not pl),
        Statement("neither-learned",
                  "Neither learned (accuracy less than 10 points above chance) in this many steps.",
                  "이 스텝 수로는 둘 다 학습하지 못했습니다(정확도가 우연 수준보다 10%p 넘게 "
                  "높지 않음).",
                  finite and not pl and not ql),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
