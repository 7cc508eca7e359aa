"""Vectorization: a dense layer's forward pass as a Python loop, with NumPy, and with torch.

``Y = X @ W + b``: the Python loop does every multiply-add itself, each costing dozens of
bytecode operations and boxed floats; NumPy and torch hand the product to one compiled
(BLAS) kernel using SIMD and cache blocking. All three must agree (the loop sums in double,
the kernels in float32); then we keep the best of several timed repeats, which drops
first-call costs and the noise of a shared machine (NumPy's BLAS threads may stall on a
busy one; the demos run torch on one thread). The control is a 1x1 layer: one
multiply-add, where the microseconds of calling into a kernel cost more than the loop.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from _kit import Log
from _verdict import SAME_REL, Statement, render, same_outputs

META = {
    "name": "vectorization",
    "claim": "A dense layer computed with NumPy or torch gives the same result as a Python "
             "loop and, at the default size, runs hundreds to thousands of times faster.",
    "claim_ko": "완전연결층을 NumPy나 torch로 계산하면 파이썬 반복문과 같은 결과를 내면서, "
                "기본 크기에서는 수백에서 수천 배 빠르다.",
    "cpu_seconds": 1,
    "metric": "ms",
    "steps": 100,
    "control": {"batch_size": 1, "num_inputs": 1, "num_outputs": 1},
    "params": {
        # Capped so one pass of the loop stays under a second: Ctrl-C waits for it.
        "batch_size": {"default": 64, "help": "rows of X", "min": 1, "max": 128},
        "num_inputs": {"default": 256, "help": "input features", "min": 1, "max": 512},
        "num_outputs": {"default": 128, "help": "output units", "min": 1, "max": 256},
    },
}
RTOL = ATOL = 1e-5  # float32 rounding of a 512-term dot product stays well inside this
FASTER = 10  # the faster vectorized version must beat the loop by this factor to count


def dense_loop(X: list, W: list, b: list) -> list:
    """Y[i][j] = b[j] + sum_k X[i][k] * W[k][j], one multiply-add at a time."""
    Y = []
    for row in X:
        out = []
        for j in range(len(b)):
            total = b[j]
            for k in range(len(row)):
                total += row[k] * W[k][j]
            out.append(total)
        Y.append(out)
    return Y


def _sync(device: torch.device) -> None:
    # GPU kernels run asynchronously: wait for them, or we would time only the launch.
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(p["batch_size"], p["num_inputs"], generator=g)
    W = torch.randn(p["num_inputs"], p["num_outputs"], generator=g) / p["num_inputs"] ** 0.5
    b = torch.randn(p["num_outputs"], generator=g)
    X_np, W_np, b_np = X.numpy(), W.numpy(), b.numpy()
    X_dev, W_dev, b_dev = X.to(device), W.to(device), b.to(device)
    X_list, W_list, b_list = X.tolist(), W.tolist(), b.tolist()

    def torch_forward():
        Y = X_dev @ W_dev + b_dev
        _sync(device)
        return Y

    methods = {"loop": lambda: dense_loop(X_list, W_list, b_list),
               "numpy": lambda: X_np @ W_np + b_np, "torch": torch_forward}
    outputs, times = {}, {}
    for part, (name, forward) in enumerate(methods.items()):
        times[name] = []
        for step in range(1, num_steps + 1):
            start = time.perf_counter()
            outputs[name] = forward()
            times[name].append(time.perf_counter() - start)
            # A slow loop needs only a few tries: stop after 3 once it has taken 0.3 s.
            done = step == num_steps or (name == "loop" and step >= 3 and sum(times[name]) > 0.3)
            yield Log(name, step, step if done else num_steps, {"ms": 1000 * times[name][-1]},
                      part, len(methods))
            if done:
                break
    Y_loop, Y_np = np.array(outputs["loop"], dtype=np.float64), outputs["numpy"].astype(float)
    Y_torch = outputs["torch"].cpu().double().numpy()
    best = {name: 1000 * min(ts) for name, ts in times.items()}
    speedup = {"numpy": best["loop"] / best["numpy"], "torch": best["loop"] / best["torch"]}
    return {
        "shape": [p["batch_size"], p["num_inputs"], p["num_outputs"]], "device": str(device),
        "multiply_adds": p["batch_size"] * p["num_inputs"] * p["num_outputs"],
        "max_diff": {"numpy": float(np.abs(Y_np - Y_loop).max()),
                     "torch": float(np.abs(Y_torch - Y_loop).max())},
        "output_max": float(np.abs(Y_loop).max()),  # "the same outputs" is relative to this
        "allclose": {"numpy": bool(np.allclose(Y_np, Y_loop, rtol=RTOL, atol=ATOL)),
                     "torch": bool(np.allclose(Y_torch, Y_loop, rtol=RTOL, atol=ATOL))},
        "best_ms": best, "speedup": speedup, "effect": max(speedup.values()) >= FASTER,
        "median_ms": {name: 1000 * sorted(ts)[len(ts) // 2] for name, ts in times.items()},
        "repeats": {name: len(ts) for name, ts in times.items()},
    }


def _against_loop(method: str, label: str, x: float) -> list[Statement]:
    """One of three sentences for a vectorized method against the loop, read off its speed-up."""
    tie = 0.9 <= x <= 1.1
    return [
        Statement(f"{method}-faster", f"{label} was {x:,.0f}x faster than the loop.",
                  f"{label}는 반복문보다 {x:,.0f}배 빨랐습니다.", x > 1.1),
        Statement(f"{method}-as-fast", f"{label} was about as fast as the loop ({x:.2g}x).",
                  f"{label}는 반복문과 거의 같은 속도였습니다({x:.2g}배).", tie),
        Statement(f"{method}-slower", f"{label} was {1 / x:.2g}x slower than the loop.",
                  f"{label}는 반복문보다 {1 / x:.2g}배 느렸습니다.", x < 0.9),
    ]


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    batch, inputs, outputs = n["shape"]
    ms, up, diff, top = n["best_ms"], n["speedup"], n["max_diff"], n["output_max"]
    same = all(same_outputs(diff[k], top) for k in ("numpy", "torch"))
    # Both on one CPU, NumPy should be about as fast as torch; a big lag is worth a word.
    lag = ms["numpy"] / ms["torch"] if n["device"] == "cpu" else 0.0
    gaps = (f"largest difference from the loop: NumPy {diff['numpy']:.1e}, torch "
            f"{diff['torch']:.1e}, against outputs up to {top:.2g}; the same means within "
            f"{SAME_REL:g} of that", f"반복문 대비 최대 차이 NumPy {diff['numpy']:.1e}, torch "
            f"{diff['torch']:.1e}, 출력 크기는 최대 {top:.2g}이며 그 {SAME_REL:g}배 이내면 "
            f"같다고 봅니다")
    adds = f"{n['multiply_adds']:,} multiply-add{'s' if n['multiply_adds'] != 1 else ''}"
    shape = (f"{batch}x{inputs} inputs times {inputs}x{outputs} weights ({adds})",
             f"{batch}×{inputs} 입력에 {inputs}×{outputs} 가중치"
             f"({n['multiply_adds']:,}번의 곱셈-덧셈)")
    return [
        Statement("same", f"{shape[0]}: all three give the same output ({gaps[0]}).",
                  f"{shape[1]}: 세 방법의 출력이 같습니다({gaps[1]}).", same),
        Statement("differ", f"{shape[0]}: the outputs DIFFER ({gaps[0]}).",
                  f"{shape[1]}: 출력이 서로 다릅니다({gaps[1]}).", not same),
        Statement("times", f"Best of {n['repeats']['loop']}/{n['repeats']['numpy']}/"
                  f"{n['repeats']['torch']} timed repeats: Python loop {ms['loop']:.3g} ms, NumPy "
                  f"{ms['numpy']:.3g} ms, torch on {n['device']} {ms['torch']:.3g} ms.",
                  f"{n['repeats']['loop']}/{n['repeats']['numpy']}/{n['repeats']['torch']}번 "
                  f"잰 것 중 최고 기록: 파이썬 반복문 {ms['loop']:.3g} ms, NumPy "
                  f"{ms['numpy']:.3g} ms, torch({n['device']}) {ms['torch']:.3g} ms."),
        *_against_loop("numpy", "NumPy", up["numpy"]),
        *_against_loop("torch", "torch", up["torch"]),
        Statement("numpy-lag", f"NumPy trailed torch {lag:.0f}x on the same CPU, for the same "
                  f"product: not the arithmetic, but this run does not vary the load (a busy "
                  f"CPU can stall NumPy's BLAS threads; rerun to see).", f"같은 CPU에서 같은 곱을 "
                  f"계산했는데 NumPy가 torch보다 {lag:.0f}배 느렸습니다. 계산량 탓은 아니지만, 이 "
                  f"실행은 부하를 바꾸지 않으니(바쁜 CPU에서는 NumPy의 BLAS 스레드가 기다릴 수 "
                  f"있음) 다시 돌려 확인해 보세요.", lag > 10),
        Statement("wins", f"At this size vectorization clearly wins: at least {FASTER}x "
                  f"faster.", f"이 크기에서는 벡터화가 {FASTER}배 이상 빨라 확실히 이깁니다.",
                  max(up.values()) >= FASTER),
        Statement("no-win", f"At this size neither vectorized version is {FASTER}x faster.",
                  f"이 크기에서는 어느 벡터화도 {FASTER}배 이상 빠르지 않습니다.",
                  max(up.values()) < FASTER),
        Statement("loop-won", f"The loop even beat a vectorized call: with "
                  f"{adds} there is little arithmetic to save, "
                  f"and a call's fixed cost is more than that.", f"반복문이 벡터화 호출보다 "
                  f"빠르기까지 했습니다: 곱셈-덧셈이 {n['multiply_adds']:,}번뿐이라 아낄 계산이 "
                  f"적고, 호출의 고정 비용이 그보다 큽니다.",
                  min(up.values()) < 0.9 and max(up.values()) < FASTER),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
