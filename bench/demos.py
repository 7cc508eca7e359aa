"""Demo speed: wall time of every demo's default run, and the engine's overhead.

1. `dlprep demo NAME --plain --device cpu` for each of the 12 demos, median wall seconds of
   a few runs, including interpreter start and the torch import. Target (issue 3): < 5 s,
   < 10 s for vectorization and gpu-speedup.
2. The engine's per-step overhead: a demo streamed through `dlprep.engine.stream` (with its
   metrics, thinning and records) against the same models trained by a bare PyTorch loop,
   measured alternately in this process. Printed as a ratio; target < 1.10.

Usage: python bench/demos.py [--repeat N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import gc
import os
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
         "vectorization", "gpu-speedup", "gpu-memory"]
SLOW_OK = {"vectorization": 10.0, "gpu-speedup": 10.0}


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, check=True)
    return time.perf_counter() - start


def demo_times(repeat: int, only: list[str]) -> None:
    from dlprep.registry import registry

    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    known = registry()
    print(f"demo wall time: `dlprep demo NAME --plain --device cpu`, median of {repeat}")
    floor = statistics.median(wall([sys.executable, "-c", "import torch"]) for _ in range(repeat))
    label = "import torch alone"
    print(f"  {label:<20} {floor:5.2f} s  (python -c 'import torch': the floor of every demo)")
    for name in only or DEMOS:
        if name not in known:
            print(f"  {name:<20} not in this checkout")
            continue
        times = [wall([exe, "demo", name, "--plain", "--device", "cpu"]) for _ in range(repeat)]
        limit = SLOW_OK.get(name, 5.0)
        median = statistics.median(times)
        print(f"  {name:<20} {median:5.2f} s  (max {max(times):5.2f}, META says "
              f"{known[name].cpu_seconds:g} s of work)  [{verdict(median < limit)}: < {limit:g} s]")


def _bare_fit(nets_and_data: Callable[[], list], lr: float, num_steps: int) -> Callable[[], None]:
    """Full-batch Adam on each (net, X, y) with nothing measured: the baseline loop."""
    import torch
    from torch import nn

    def train() -> None:
        for net, X, y in nets_and_data():
            trainer = torch.optim.Adam(net.parameters(), lr=lr)
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
    """vanishing-gradient's two trainings with nothing measured."""
    import torch

    from dlprep.engine.loader import load_helper
    from dlprep.paths import demos_dir

    kit = load_helper("_kit", demos_dir())

    def nets() -> list:
        X, y = kit.spirals(n=512, seed=0)
        out = []
        for activation, init in (("sigmoid", "xavier"), ("relu", "he")):
            torch.manual_seed(0)
            net = kit.mlp(2, 32, 2, 10, activation)
            kit.init_weights(net, init)
            out.append((net, X, y))
        return out

    return _bare_fit(nets, _default("vanishing-gradient", "lr"), num_steps)


def bare_dying(num_steps: int) -> Callable[[], None]:
    """dying-relu's two trainings without the dead-unit measurements."""
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
            out.append((net, X, y))
        return out

    return _bare_fit(nets, _default("dying-relu", "lr"), num_steps)


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
        print(f"  {name:<20} bare {b * 1000 / (2 * steps):6.3f} ms/step   engine "
              f"{e * 1000 / (2 * steps):6.3f} ms/step   {ratio:.3f}x  "
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
