"""KV cache: generating N tokens with and without keeping the past keys and values.

A decoder generates one token at a time, and each new token attends to all the tokens
before it. Without a cache every step runs the whole sequence through the model again, so
the work of step t grows with t (and the total with N^2). The keys and values of earlier
positions never change, though (the causal mask keeps later tokens out of them), so a
cache keeps them: the prompt runs once (the prefill), then each step feeds one token and
attends to the cached keys (Pope et al. 2022, "Efficiently Scaling Transformer
Inference"). The tokens are the same, the work per token is flat, and the price is memory:
2 (K and V) x layers x heads x head_dim x sequence x batch x bytes per element, which is
what `dlprep memcalc --inference` computes.

Both runs use one tiny model with random weights (what the cache changes is the cost, not
the tokens) and greedy decoding. We count the query-key pairs each step scores (the
attention's work, exact) and time each step (wall clock: noisy, shown as measured). The
control is a single new token, where both runs do the same one forward over the prompt.
"""

from __future__ import annotations

import time

import torch
from _gpt import GPT, generate
from _kit import Log, ratio
from _verdict import LEVEL, Statement, about_level, grew, render

META = {
    "name": "kv-cache",
    "claim": "Generating with a KV cache gives exactly the same tokens as recomputing the "
             "whole sequence each step, with flat work per token instead of work growing with "
             "position; the cache costs 2 x layers x heads x head_dim x sequence x batch x "
             "bytes of memory.",
    "claim_ko": "KV 캐시로 생성하면 매 스텝 전체 시퀀스를 다시 계산할 때와 정확히 같은 토큰이 "
                "나오고, 토큰당 계산량은 위치에 따라 커지지 않고 일정하다. 대가는 메모리로, "
                "2 x 층 수 x 헤드 수 x head_dim x 시퀀스 길이 x 배치 x 원소 바이트다.",
    "cpu_seconds": 0.5,
    "metric": "work",
    "steps": 56,
    "control": {"new_tokens": 1},
    "layers": {"prefix": "kv_bytes/", "label": "KV-cache bytes per layer (cached run)",
               "label_ko": "층별 KV 캐시 바이트(캐시를 쓴 실행)"},
    "params": {
        "new_tokens": {"default": 56, "help": "tokens to generate (at most --steps)", "min": 1,
                       "max": 56},
        "prompt": {"default": 8, "help": "prompt tokens", "min": 1, "max": 8},
        "batch": {"default": 8, "help": "sequences generated at once", "min": 1, "max": 64},
        "num_layers": {"default": 2, "help": "transformer blocks", "min": 1, "max": 4},
        "d_model": {"default": 64, "choices": [32, 64, 128], "help": "model width"},
        "heads": {"default": 4, "choices": [1, 2, 4, 8], "help": "attention heads"},
    },
}
VOCAB = 32
SAVES = 2.0  # the uncached run scores at least this many times the cached run's pairs


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    new, P, B = min(p["new_tokens"], num_steps), p["prompt"], p["batch"]
    torch.manual_seed(seed)
    net = GPT(VOCAB, p["d_model"], p["num_layers"], p["heads"], P + new).to(device).eval()
    g = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, VOCAB, (B, P), generator=g).to(device)
    generate(net, prompt, min(new, 2), cache=True)  # warm-up: first calls pay one-off costs
    numbers: dict = {"new_tokens": new, "prompt": P, "batch": B, "seq": P + new,
                     "n_layer": p["num_layers"], "n_head": p["heads"], "d_model": p["d_model"],
                     "head_dim": p["d_model"] // p["heads"], "vocab": VOCAB}
    made = {}
    for part, cached in enumerate([False, True]):
        name = "cache" if cached else "no-cache"
        caches = net.new_caches(B, P + new) if cached else None
        idx, start, times, work = prompt, 0, [], []
        with torch.no_grad():
            for step in range(1, new + 1):
                for attn in net.attentions:
                    attn.pairs = 0
                sync(device)
                t0 = time.perf_counter()
                logits = net(idx[:, start:], caches, start) if cached else net(idx)
                idx = torch.cat([idx, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
                sync(device)
                times.append((time.perf_counter() - t0) * 1e3)
                if cached:
                    start = idx.shape[1] - 1
                work.append(sum(a.pairs for a in net.attentions))
                metrics = {"work": float(work[-1]), "time_ms": times[-1]}
                if caches is not None:
                    metrics.update({f"kv_bytes/{i}": float(c.nbytes)
                                    for i, c in enumerate(caches, 1)})
                yield Log(name, step, new, metrics, part, 2)
        made[name] = idx[:, P:]
        numbers[name] = {"time_ms": times, "work": work, "total_work": sum(work),
                         "total_ms": sum(times)}
        if caches is not None:
            numbers["cache_bytes"] = sum(c.nbytes for c in caches)
            numbers["cache_bytes_per_layer"] = [c.nbytes for c in caches]
            numbers["element"] = caches[0].k.element_size()
    mismatched = (made["cache"] != made["no-cache"]).sum().item()
    numbers["mismatched_tokens"] = mismatched
    numbers["identical"] = mismatched == 0
    numbers["work_ratio"] = numbers["no-cache"]["total_work"] / numbers["cache"]["total_work"]
    for name in ("no-cache", "cache"):
        r = numbers[name]
        r["early_ms"], r["late_ms"] = ends(r["time_ms"])
        r["early_work"], r["late_work"] = ends([float(w) for w in r["work"]])
    numbers["effect"] = bool(numbers["identical"] and numbers["work_ratio"] >= SAVES)
    return numbers


def ends(values: list[float]) -> tuple[float, float]:
    """Median of the first and of the last quarter of the steps after the first (the first
    step of the cached run is the prefill, not a one-token step)."""
    rest = values[1:] or values
    k = max(1, len(rest) // 4)

    def median(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2]

    return median(rest[:k]), median(rest[-k:])


def statements(n: dict) -> list[Statement]:
    no, ca = n["no-cache"], n["cache"]
    N, P, mb = n["new_tokens"], n["prompt"], n["cache_bytes"]
    formula = (f"2 x {n['n_layer']} x {n['n_head']} x {n['head_dim']} x {n['seq']} x "
               f"{n['batch']} x {n['element']}")
    one = N == 1
    rn, rc = ratio(no["late_ms"], no["early_ms"]), ratio(ca["late_ms"], ca["early_ms"])
    return [
        Statement("identical", f"The cached and uncached runs generated the same tokens "
                  f"({N} per sequence, {n['batch']} sequences).",
                  f"캐시를 쓴 실행과 쓰지 않은 실행이 같은 토큰을 생성했습니다(시퀀스당 {N}개, "
                  f"시퀀스 {n['batch']}개).", n["identical"]),
        Statement("differ", f"{n['mismatched_tokens']} generated tokens differ between the "
                  f"cached and uncached runs.",
                  f"캐시를 쓴 실행과 쓰지 않은 실행의 생성 토큰 중 {n['mismatched_tokens']}개가 "
                  f"다릅니다.", not n["identical"]),
        Statement("work", f"Attention scored {no['total_work']} query-key pairs without the "
                  f"cache and {ca['total_work']} with it ({n['work_ratio']:.3g}x); per token "
                  f"after the first, from {no['early_work']:.0f} to {no['late_work']:.0f} "
                  f"without it and from {ca['early_work']:.0f} to {ca['late_work']:.0f} with "
                  f"it.",
                  f"어텐션이 점수를 매긴 쿼리-키 쌍은 캐시 없이 {no['total_work']}개, 캐시로 "
                  f"{ca['total_work']}개({n['work_ratio']:.3g}배)입니다. 첫 토큰 이후 토큰당으로는 "
                  f"캐시 없이 {no['early_work']:.0f}에서 {no['late_work']:.0f}로, 캐시로 "
                  f"{ca['early_work']:.0f}에서 {ca['late_work']:.0f}로 바뀌었습니다.", not one),
        Statement("one-token", f"With a single new token both runs do the same one forward "
                  f"over the {P}-token prompt ({no['total_work']} pairs each): the cache saves "
                  f"nothing.",
                  f"새 토큰이 하나뿐이면 두 실행 모두 {P}토큰 프롬프트에 대한 같은 순전파 한 번"
                  f"(각각 {no['total_work']}쌍)만 하므로 캐시가 아끼는 것이 없습니다.", one),
        Statement("saves", f"Keeping the keys and values cut the attention work "
                  f"{n['work_ratio']:.3g}-fold.",
                  f"키와 값을 보관해 어텐션 계산량이 {n['work_ratio']:.3g}배 줄었습니다.",
                  n["work_ratio"] >= SAVES),
        Statement("times", f"Measured time per token (median of the first and last quarter): "
                  f"{no['early_ms']:.3g} -> {no['late_ms']:.3g} ms ({rn:.2g}x) without the cache, "
                  f"{ca['early_ms']:.3g} -> {ca['late_ms']:.3g} ms ({rc:.2g}x) with it.",
                  f"측정한 토큰당 시간(앞쪽과 뒤쪽 사분의 일 구간의 중앙값): 캐시 없이 "
                  f"{no['early_ms']:.3g} -> {no['late_ms']:.3g} ms({rn:.2g}배), 캐시로 "
                  f"{ca['early_ms']:.3g} -> {ca['late_ms']:.3g} ms({rc:.2g}배).", N >= 8),
        Statement("time-grew", f"Without the cache the time per token grew more than "
                  f"{LEVEL:g}x with position.",
                  f"캐시가 없으면 토큰당 시간이 위치에 따라 {LEVEL:g}배 넘게 늘었습니다.",
                  N >= 8 and grew(no["early_ms"], no["late_ms"])),
        Statement("time-flat", f"With the cache it stayed within {LEVEL:g}x.",
                  f"캐시를 쓰면 {LEVEL:g}배 안에 머물렀습니다.",
                  N >= 8 and about_level([ca["early_ms"], ca["late_ms"]])),
        Statement("memory", f"The price is memory: the cache holds {mb:,} bytes = {formula} "
                  f"(K and V x layers x heads x head_dim x sequence x batch x bytes).",
                  f"대가는 메모리입니다: 캐시는 {mb:,}바이트 = {formula}"
                  f"(K와 V x 층 x 헤드 x head_dim x 시퀀스 x 배치 x 바이트)를 차지합니다."),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
