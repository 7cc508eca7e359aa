"""Demo speed: wall time of every demo's default run, and the engine's overhead.

1. `dlprep demo NAME --plain --device cpu` for each demo, median wall seconds of
   a few runs, including interpreter start and the torch import, as a ratio to
   `python -c "import torch"` timed in the same rounds (interleaved, so machine load hits
   both alike). Target (issue 9): <= 2.5x. CPU seconds (user + system) are printed too:
   on a shared machine they move far less with the load than wall time does.
2. The engine's per-step overhead: a demo streamed through `dlprep.engine.stream` (with its
   metrics, thinning and records) against the same models trained by a bare PyTorch loop,
   measured alternately in this process. Printed as a ratio; target < 1.10.

Usage: python bench/demos.py [--repeat N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import verdict  # noqa: E402

DEMOS = ["vanishing-gradient", "exploding-gradient", "dying-relu", "weight-init", "activations",
         "linear-collapse", "optimizers", "learning-rate", "batch-size", "overfitting",
         "vectorization", "gpu-speedup", "gpu-memory", "backprop", "residual", "normalization",
         "warmup", "adamw", "mixed-precision", "data-parallel", "attention-scaling",
         "causal-mask", "positional-encoding", "kv-cache", "attention-memory", "lora",
         "quantization", "prenorm-postnorm"]


TARGET = 2.5  # a demo's default run against `python -c "import torch"`, same rounds
# data-parallel starts two worker processes, each importing torch (issue 11 allows 2x)
TARGETS = {"data-parallel": 2 * TARGET}


def wall(args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, check=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def demo_times(repeat: int, only: list[str]) -> None:
    from dlprep.registry import registry

    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    known = registry()
    names = [name for name in only or DEMOS if name in known]
    print(f"demo wall time: `dlprep demo NAME --plain --device cpu`, median of {repeat}, "
          f"as a ratio to `python -c 'import torch'` timed in the same rounds")
    floor: list[tuple[float, float]] = []
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for _ in range(repeat):  # interleaved: a burst of load hits the floor and demos alike
        floor.append(wall([sys.executable, "-c", "import torch"]))
        for name in names:
            times[name].append(wall([exe, "demo", name, "--plain", "--device", "cpu"]))
    base = statistics.median(w for w, _ in floor)
    base_cpu = statistics.median(c for _, c in floor)
    print(f"  {'import torch alone':<20} {base:5.2f} s wall  {base_cpu:5.2f} s CPU  (the floor)")
    for name in names:
        median = statistics.median(w for w, _ in times[name])
        cpu = statistics.median(c for _, c in times[name])
        ratio, target = median / base, TARGETS.get(name, TARGET)
        print(f"  {name:<20} {median:5.2f} s wall {ratio:5.2f}x   {cpu:5.2f} s CPU "
              f"{cpu / base_cpu:5.2f}x   [{verdict(ratio <= target)}: <= {target:g}x wall]")
    for name in only:
        if name not in known:
            print(f"  {name:<20} not in this checkout")


def _bare_fit(nets_and_data: Callable[[], list], num_steps: int) -> Callable[[], None]:
    """Full-batch training of each (net, X, y, make_trainer) with nothing measured: the
    baseline loop."""
    from torch import nn

    def train() -> None:
        for net, X, y, make_trainer in nets_and_data():
            trainer = make_trainer(net.parameters())
            loss_fn = nn.CrossEntropyLoss()
            for _ in range(num_steps):
                loss = loss_fn(net(X), y)
                trainer.zero_grad()
                loss.backward()
                trainer.step()

    return train


def _default(name: str, param: str) -> float:
    from dlprep.registry import registry

    return float(registry()[name].params[param].default)  # type: ignore[arg-type]


def bare_vanishing(num_steps: int) -> Callable[[], None]:
    """vanishing-gradient's three trainings (SGD with momentum) with nothing measured."""
    from functools import partial

    import torch

    from dlprep.engine.loader import load_helper
    from dlprep.paths import demos_dir

    kit = load_helper("_kit", demos_dir())
    lr, relu_lr = _default("vanishing-gradient", "lr"), _default("vanishing-gradient", "relu_lr")

    def nets() -> list:
        X, y = kit.xor(n=256, seed=0)
        out = []
        for activation, depth, init, rate in (("sigmoid", 2, "xavier", lr),
                                              ("sigmoid", 10, "xavier", lr),
                                              ("relu", 10, "he", relu_lr)):
            torch.manual_seed(0)
            net = kit.mlp(2, 32, 2, depth, activation)
            kit.init_weights(net, init)
            out.append((net, X, y, partial(torch.optim.SGD, lr=rate, momentum=0.9)))
        return out

    return _bare_fit(nets, num_steps)


def bare_dying(num_steps: int) -> Callable[[], None]:
    """dying-relu's two trainings without the dead-unit measurements."""
    from functools import partial

    import torch
    from torch import nn

    from dlprep.engine.loader import load_helper
    from dlprep.paths import demos_dir

    kit = load_helper("_kit", demos_dir())

    def nets() -> list:
        X, y = kit.spirals(n=1024, seed=0)
        X, y = X[:512], y[:512]
        out = []
        for activation in ("relu", "leaky_relu"):
            torch.manual_seed(0)
            net = kit.mlp(2, 64, 2, 4, activation)
            for layer in kit.linears(net)[:-1]:
                nn.init.zeros_(layer.bias)  # the demo's default bias=0.0
            out.append((net, X, y, partial(torch.optim.Adam, lr=_default("dying-relu", "lr"))))
        return out

    return _bare_fit(nets, num_steps)


def overhead(rounds: int) -> None:
    import torch

    from dlprep.engine import stream

    torch.set_num_threads(1)  # what the engine uses for these demos
    print(f"engine overhead: stream() vs a bare loop of the same models, median of {rounds}")
    for name, bare, steps in (("vanishing-gradient", bare_vanishing, 300),
                              ("dying-relu", bare_dying, 300)):
        baseline = bare(steps)

        def engine(name: str = name, steps: int = steps) -> None:
            for _ in stream(name, device="cpu", seed=0, steps=steps):
                pass

        engine()
        baseline()  # warm-up both
        bare_times, engine_times = [], []
        for index in range(rounds):  # alternate, so machine noise hits both alike
            order = [(baseline, bare_times), (engine, engine_times)]
            for fn, times in order if index % 2 else order[::-1]:
                gc.collect()  # garbage left by one side must not be collected on the other's clock
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
        b, e = statistics.median(bare_times), statistics.median(engine_times)
        ratio = e / b
        runs = 3 if name == "vanishing-gradient" else 2
        print(f"  {name:<20} bare {b * 1000 / (runs * steps):6.3f} ms/step   engine "
              f"{e * 1000 / (runs * steps):6.3f} ms/step   {ratio:.3f}x  "
              f"[{verdict(ratio < 1.10)}: < 1.10x]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=[])
    args = parser.parse_args()
    import platform

    import torch

    cpus = len(os.sched_getaffinity(0))
    print(f"python {platform.python_version()}, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {cpus} CPUs")
    demo_times(args.repeat, args.only)
    overhead(args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
