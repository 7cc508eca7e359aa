"""GPU speed-up: the same matrix product and MLP training step on the CPU and on a GPU.

A GPU has thousands of simple cores and far more memory bandwidth than a CPU, so large
matrix products (the bulk of an MLP's work) run many times faster; small ones gain less,
as every kernel launch costs a few microseconds whatever its size. We time a float32
``n x n`` matmul (2 n^3 FLOPs) and a training step (forward, backward, SGD update) of a
784-H-H-10 MLP on the CPU, then on CUDA or Apple's MPS when the chosen device is one.
GPU work is asynchronous: each timing waits for the device and repeats the operation
until a timed block lasts 10 ms. The control is a tiny size (a 16x16 matmul, a 784-16-16-10
MLP on 8 examples), where launch costs swamp the arithmetic and the GPU wins nothing.
Without a GPU there is nothing to compare: the effect cannot appear, the verdict says so
and shows the CPU figures a GPU would be measured against.
"""

from __future__ import annotations

import math
import os
import time

import torch
from _kit import Log, mlp
from _verdict import Statement, render
from torch import nn

META = {
    "name": "gpu-speedup",
    "claim": "Large matrix products and MLP training steps run many times faster on a GPU "
             "(CUDA or MPS) than on the CPU; without a GPU the CPU's own figures are shown.",
    "claim_ko": "큰 행렬 곱과 MLP 학습 스텝은 CPU보다 GPU(CUDA 또는 MPS)에서 몇 배에서 수백 배 "
                "빠르다. GPU가 없으면 CPU 수치만 보여 준다.",
    "cpu_seconds": 3,
    "metric": "gflops",
    "steps": 5,
    "control": {"n": 16, "batch_size": 8, "num_hiddens": 16},
    "params": {
        # Capped so one CPU call stays around a second: Ctrl-C waits for it.
        "n": {"default": 1024, "help": "matmul size (n x n times n x n)", "min": 16, "max": 4096},
        "batch_size": {"default": 256, "help": "examples per training step", "min": 1, "max": 1024},
        "num_hiddens": {"default": 1024, "help": "units per hidden layer", "min": 16, "max": 4096},
    },
}


FASTER = 3.0  # the GPU must beat the CPU by this factor at both jobs to count


def effect(speedup: dict | None) -> bool:
    """Whether a GPU was measured and beat the CPU at both the matmul and the training step."""
    return speedup is not None and min(speedup.values()) >= FASTER


def _seconds(fn, device: torch.device, inner: int) -> float:
    """Wall time of one call of ``fn``, averaged over ``inner`` back-to-back calls."""
    sync = getattr(torch, device.type).synchronize if device.type != "cpu" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    sync()
    return (time.perf_counter() - start) / inner


def _measure(p: dict, num_steps: int, seed: int, device: torch.device, label: str,
             part: int, parts: int):
    g = torch.Generator().manual_seed(seed)
    A, B = (torch.randn(p["n"], p["n"], generator=g).to(device) for _ in range(2))
    X = torch.randn(p["batch_size"], 784, generator=g).to(device)
    y = torch.randint(0, 10, (p["batch_size"],), generator=g).to(device)
    torch.manual_seed(seed)  # the same initial weights on every device
    net = mlp(784, p["num_hiddens"], 10, depth=2, activation="relu").to(device)
    trainer = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    last = {}

    def train_step():
        loss = loss_fn(net(X), y)
        trainer.zero_grad()
        loss.backward()
        trainer.step()
        last["loss"] = loss.detach()  # read after timing: .item() would wait for the GPU

    # A training step does ~6 FLOPs per weight per example: 2 forward, 4 backward.
    weights = sum(m.weight.numel() for m in net if isinstance(m, nn.Linear))
    jobs = {"matmul": (lambda: A @ B, 2 * p["n"] ** 3),
            "train": (train_step, 6 * weights * p["batch_size"])}
    results = {}
    for k, (job, (fn, flops)) in enumerate(jobs.items()):
        fn()  # warm-up: kernel selection, allocator, cuBLAS start-up
        inner = max(1, min(1000, math.ceil(0.01 / _seconds(fn, device, 1))))
        times = []
        for step in range(1, num_steps + 1):
            times.append(_seconds(fn, device, inner))
            metrics = {"gflops": flops / times[-1] / 1e9}
            if job == "train":
                metrics.update(loss=last["loss"].item(), samples_per_s=p["batch_size"] / times[-1])
            yield Log(f"{label} {job}", step, num_steps, metrics, 2 * part + k, parts)
        median = sorted(times)[len(times) // 2]  # resists a busy neighbour better than the mean
        results[job] = {"ms": 1000 * median, "gflops": flops / median / 1e9}
    results["train"]["samples_per_s"] = p["batch_size"] / (results["train"]["ms"] / 1000)
    return results


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    # On a busy shared machine threads that wait for each other can make all cores slower
    # than one, so we try both and keep the CPU's better figure for each job.
    tried = sorted({1, os.cpu_count() or 1})
    accelerator = device if device.type != "cpu" else None
    parts = 2 * len(tried) + (2 if accelerator else 0)
    before, runs = torch.get_num_threads(), {}
    try:
        for i, threads in enumerate(tried):
            torch.set_num_threads(threads)
            runs[threads] = yield from _measure(p, num_steps, seed, torch.device("cpu"),
                                                f"cpu x{threads}", i, parts)
    finally:
        torch.set_num_threads(before)  # the engine's setting, for whatever runs next
    cpu = {job: min(({**r[job], "threads": t} for t, r in runs.items()), key=lambda r: r["ms"])
           for job in ("matmul", "train")}
    mps = getattr(torch.backends, "mps", None)
    numbers: dict = {**p, "cpu": cpu, "cpu_threads_tried": tried, "accelerator": None,
                     "torch": torch.__version__, "cuda_build": torch.version.cuda,
                     "cuda_available": torch.cuda.is_available(),
                     "mps_available": bool(mps is not None and mps.is_available())}
    if accelerator is not None:
        name = (torch.cuda.get_device_name(accelerator) if accelerator.type == "cuda"
                else "Apple MPS")
        numbers["accelerator"] = {"type": accelerator.type, "name": name}
        numbers["gpu"] = yield from _measure(p, num_steps, seed, accelerator, accelerator.type,
                                             len(tried), parts)
        numbers["speedup"] = {job: cpu[job]["ms"] / numbers["gpu"][job]["ms"]
                              for job in ("matmul", "train")}
    numbers["effect"] = effect(numbers.get("speedup"))
    return numbers


def _figures(r: dict, n: dict, ko: bool) -> str:
    mm, tr, h = r["matmul"], r["train"], n["num_hiddens"]
    text = ("{n}×{n} float32 행렬 곱 {mg:,.0f} GFLOP/s({mms:.3g} ms), MLP(784-{h}-{h}-10, "
            "배치 {b}) 학습 {sps:,.0f} 샘플/s(스텝당 {tms:.3g} ms)" if ko else
            "{n}x{n} float32 matmul at {mg:,.0f} GFLOP/s ({mms:.3g} ms), MLP 784-{h}-{h}-10 "
            "training at {sps:,.0f} samples/s (batch {b}, {tms:.3g} ms per step)")
    return text.format(n=n["n"], mg=mm["gflops"], mms=mm["ms"], h=h, b=n["batch_size"],
                       sps=tr["samples_per_s"], tms=tr["ms"])


def _against_cpu(job: str, en: str, ko: str, x: float | None) -> list[Statement]:
    """One of three sentences for the GPU against the CPU at ``job``, read off its speed-up."""
    x = math.nan if x is None else x
    return [
        Statement(f"{job}-faster", f"The GPU was {x:,.1f}x faster at the {en}.",
                  f"GPU가 {ko}에서 {x:,.1f}배 빨랐습니다.", x > 1.1),
        Statement(f"{job}-as-fast", f"The GPU was about as fast as the CPU at the {en} "
                  f"({x:.2g}x).", f"GPU는 {ko}에서 CPU와 거의 같았습니다({x:.2g}배).",
                  0.9 <= x <= 1.1),
        Statement(f"{job}-slower", f"The GPU was {1 / x:,.1f}x slower at the {en}.",
                  f"GPU가 {ko}에서 {1 / x:,.1f}배 느렸습니다.", x < 0.9),
    ]


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    acc, tried, cuda = n["accelerator"], n["cpu_threads_tried"], n["cuda_build"]
    threads = "/".join(map(str, tried))  # the count each job used is in numbers["cpu"]
    cpu = (f"CPU (best of {threads} threads): {_figures(n['cpu'], n, False)}.",
           f"CPU({threads}스레드 중 최고): {_figures(n['cpu'], n, True)}.")
    gpu = (f"{acc['name']} ({acc['type']}): {_figures(n['gpu'], n, False)}.",
           f"{acc['name']}({acc['type']}): {_figures(n['gpu'], n, True)}.") if acc else ("", "")
    up = n.get("speedup") or {}
    available = "CUDA" if n["cuda_available"] else "MPS"
    build = (("a CPU-only build", "CPU 전용 빌드") if cuda is None
             else (f"built for CUDA {cuda}", f"CUDA {cuda} 빌드"))
    wins = acc is not None and min(up.values()) >= FASTER
    return [
        Statement("no-gpu", f"No GPU here (torch {n['torch']} is {build[0]}; no CUDA or Apple "
                  f"MPS device): with nothing to compare, no GPU speed-up can appear or was "
                  f"measured. Only the CPU figures a GPU would be compared with are shown.",
                  f"GPU가 없습니다(torch {n['torch']}: {build[1]}, CUDA·MPS 장치 없음). 비교할 "
                  f"GPU가 없으니 GPU 속도 향상은 여기서 나타날 수 없고, 측정되지도 않았습니다. "
                  f"GPU와 비교될 CPU 수치만 보여 줍니다.", acc is None and not (
                      n["cuda_available"] or n["mps_available"])),
        Statement("gpu-not-chosen", f"{available} is available but --device cpu was chosen: "
                  f"there is no comparison and no GPU speed-up was measured.",
                  f"{available}를 쓸 수 있지만 --device cpu로 실행해 비교하지 않았고, GPU 속도 "
                  f"향상도 측정되지 않았습니다.", acc is None and (
                      n["cuda_available"] or n["mps_available"])),
        Statement("gpu-figures", *gpu, acc is not None),
        Statement("cpu-figures", *cpu),
        *_against_cpu("matmul", "matmul", "행렬 곱", up.get("matmul")),
        *_against_cpu("train", "training step", "학습 스텝", up.get("train")),
        Statement("gpu-wins", f"At this size the GPU is at least {FASTER:g}x faster at both.",
                  f"이 크기에서는 GPU가 둘 다 {FASTER:g}배 이상 빠릅니다.", wins),
        Statement("gpu-no-win", f"At this size it is not {FASTER:g}x faster at both: no GPU "
                  f"speed-up here.", f"이 크기에서는 둘 다 {FASTER:g}배 이상 빠르지 않아 GPU의 "
                  f"이점이 없습니다.", acc is not None and not wins),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
