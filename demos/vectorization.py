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
        "allclose": {"numpy": bool(np.allclose(Y_np, Y_loop, rtol=RTOL, atol=ATOL)),
                     "torch": bool(np.allclose(Y_torch, Y_loop, rtol=RTOL, atol=ATOL))},
        "best_ms": best, "speedup": speedup, "effect": max(speedup.values()) >= FASTER,
        "median_ms": {name: 1000 * sorted(ts)[len(ts) // 2] for name, ts in times.items()},
        "repeats": {name: len(ts) for name, ts in times.items()},
    }


def _faster(x: float, ko: bool) -> str:
    if 0.9 <= x <= 1.1:
        return f"{x:.2g}배로 거의 같음" if ko else f"about as fast ({x:.2g}x)"
    if x >= 1:
        return f"{x:,.0f}배 빠름" if ko else f"{x:,.0f}x faster"
    return f"{1 / x:.2g}배 느림" if ko else f"{1 / x:.2g}x slower"


def verdict(n: dict, lang: str = "en") -> str:
    batch, inputs, outputs = n["shape"]
    ms, up, diff = n["best_ms"], n["speedup"], n["max_diff"]
    same = all(n["allclose"].values())
    # Both on one CPU, NumPy should be about as fast as torch; a big lag means stalled threads.
    lag = ms["numpy"] / ms["torch"] if n["device"] == "cpu" else 0.0
    loop_won = min(up.values()) < 1
    if lang == "ko":
        win = (f" 이 크기에서는 벡터화가 {FASTER}배 이상 빨라 확실히 이깁니다." if n["effect"]
               else f" 이 크기에서는 어느 벡터화도 {FASTER}배 이상 빠르지 않습니다"
               + ("(반복문이 벡터화 호출보다 빠르기까지 했습니다: 호출의 고정 비용이 계산보다 큼)."
                  if loop_won else "."))
        check = ("세 방법의 출력이 같습니다" if same else "출력이 서로 다릅니다")
        return (f"{batch}×{inputs} 입력에 {inputs}×{outputs} 가중치({n['multiply_adds']:,}번의 "
                f"곱셈-덧셈): {check}(반복문 대비 최대 차이 NumPy {diff['numpy']:.1e}, torch "
                f"{diff['torch']:.1e}, 허용 오차 {RTOL:g}). 최고 기록은 파이썬 반복문 "
                f"{ms['loop']:.3g} ms, NumPy {ms['numpy']:.3g} ms, torch({n['device']}) "
                f"{ms['torch']:.3g} ms입니다. 반복문 대비 속도: NumPy "
                f"{_faster(up['numpy'], True)}, torch {_faster(up['torch'], True)}."
                + (f" NumPy가 torch보다 {lag:.0f}배 느렸는데, 아마 CPU가 바빠 BLAS 스레드가 "
                   f"기다렸기 때문일 것입니다." if lag > 10 else "") + win)
    check = ("All three give the same output" if same else "The outputs DIFFER")
    win = (f" At this size vectorization clearly wins: at least {FASTER}x faster."
           if n["effect"] else f" At this size neither vectorized version is {FASTER}x faster"
           + (" (the loop even beat a vectorized call: a call's fixed cost outweighs the "
              "arithmetic)." if loop_won else "."))
    stall = (f" NumPy trailed torch {lag:.0f}x here, probably because its BLAS threads waited "
             f"for a busy CPU." if lag > 10 else "")
    return (f"{batch}x{inputs} inputs times {inputs}x{outputs} weights "
            f"({n['multiply_adds']:,} multiply-adds): {check} (largest difference from the "
            f"loop: NumPy {diff['numpy']:.1e}, torch {diff['torch']:.1e}; tolerance "
            f"{RTOL:g}). Best times: Python loop {ms['loop']:.3g} ms, NumPy "
            f"{ms['numpy']:.3g} ms, torch on {n['device']} {ms['torch']:.3g} ms. Against the "
            f"loop, NumPy was {_faster(up['numpy'], False)} and torch "
            f"{_faster(up['torch'], False)}.{stall}{win}")
