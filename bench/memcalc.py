"""`dlprep memcalc` wall time as a ratio to `python -c pass`, measured in the same run.

Targets (issues 4 and 12): estimate mode (any preset, any --gpus) under 200 ms wall, the
--gpu batch search under 300 ms.
The ratios say how much of that is memcalc rather than this machine's Python start-up.
Each command's CPU time (user + sys of the child, median) is printed beside its wall
time and the verdict is taken on it: on a shared, loaded machine wall time is mostly
waiting for a core (``python -c pass`` took 40-50 ms there against 13 ms quiet), while
CPU time stays near the quiet wall time of a one-threaded command.

On a CUDA machine, ``python bench/memcalc.py --cuda-grid`` calibrates the cuBLAS
workspace and prints estimate vs ``max_memory_allocated`` over 20 configurations as a
Markdown table for docs/memory.md (target: within max(1%, 1 MiB)); two more rows cover
--checkpointing and --dtype bf16-master.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import command_time, verdict  # noqa: E402

CASES = [
    ("estimate, --params only", ["--params", "1e6", "--batch", "32"], 0.200),
    ("estimate, 784-512-512-10", ["--layers", "784,512,512,10", "--batch", "64",
                                  "--norm", "layernorm", "--dropout", "0.1"], 0.200),
    ("estimate, --json", ["--layers", "784,512,512,10", "--json"], 0.200),
    ("--gpu search, RTX 4090", ["--layers", "784,4096,4096,4096,10", "--gpu", "RTX4090"],
     0.300),
    ("--gpu search, 80GiB cuda", ["--layers", "784,8192,8192,10", "--gpu", "80GiB",
                                  "--device", "cuda", "--dtype", "amp-bf16"], 0.300),
    ("estimate, --checkpointing", ["--layers", "784,1024,1024,1024,10", "--batch", "4096",
                                   "--norm", "layernorm", "--checkpointing"], 0.200),
    ("--gpu, bf16-master + ckpt", ["--layers", "784,4096,4096,4096,10", "--gpu", "T4",
                                   "--dtype", "bf16-master", "--checkpointing"], 0.300),
    ("--model gpt2", ["--model", "gpt2", "--seq", "1024", "--batch", "8"], 0.200),
    ("--model llama-3-8b", ["--model", "llama-3-8b", "--seq", "4096", "--batch", "1",
                            "--optimizer", "adamw", "--dtype", "bf16-master"], 0.200),
    ("--model mixtral-8x7b", ["--model", "mixtral-8x7b", "--seq", "4096", "--batch", "1",
                              "--optimizer", "adamw", "--dtype", "bf16-master"], 0.200),
    ("--model llama-3-70b, ckpt", ["--model", "llama-3-70b", "--seq", "8192", "--batch", "1",
                                   "--dtype", "bf16-master", "--checkpointing"], 0.200),
    ("llama-3-70b --gpus 64 --zero 3", ["--model", "llama-3-70b", "--seq", "4096",
                                        "--batch", "1", "--dtype", "bf16-master",
                                        "--gpus", "64", "--zero", "3"], 0.200),
    ("llama-3-8b --inference", ["--model", "llama-3-8b", "--seq", "8192", "--dtype",
                                "bf16", "--inference"], 0.200),
    ("llama-2-7b QLoRA", ["--model", "llama-2-7b", "--seq", "2048", "--dtype", "bf16",
                          "--lora-rank", "8", "--base-dtype", "nf4"], 0.200),
    ("llama-3-8b LoRA all7, ckpt", ["--model", "llama-3-8b", "--seq", "4096", "--batch",
                                    "1", "--dtype", "bf16-master", "--lora-rank", "16",
                                    "--lora-targets", "q,k,v,o,gate,up,down",
                                    "--checkpointing"], 0.200),
    ("mixtral-8x7b LoRA all7, ckpt", ["--model", "mixtral-8x7b", "--seq", "4096", "--dtype",
                                      "bf16", "--lora-rank", "16", "--lora-targets",
                                      "q,k,v,o,gate,up,down", "--checkpointing"], 0.200),
    ("--gpu 24GB, llama-3-8b LoRA", ["--model", "llama-3-8b", "--seq", "2048", "--dtype",
                                     "bf16", "--lora-rank", "16", "--checkpointing",
                                     "--gpu", "24GB"], 0.300),
    ("--gpu H100, llama-3-8b", ["--model", "llama-3-8b", "--seq", "2048", "--dtype",
                                "bf16-master", "--checkpointing", "--gpu", "H100"], 0.300),
    ("--gpu 80GB, gpt2-xl amp", ["--model", "gpt2-xl", "--seq", "1024", "--dtype",
                                 "amp-bf16", "--gpu", "80GB"], 0.300),
    ("llama-3-70b adafactor", ["--model", "llama-3-70b", "--seq", "4096", "--dtype",
                               "bf16", "--optimizer", "adafactor"], 0.200),
    ("--gpu A6000, 8b paged 8-bit", ["--model", "llama-3-8b", "--seq", "2048", "--dtype",
                                     "bf16", "--optimizer", "paged_adamw8bit",
                                     "--checkpointing", "--gpu", "RTX A6000"], 0.300),
]


GRID = [
    f"--layers {layers} --batch {batch} {extra}"
    for layers in ("784,512,512,10", "1024,4096,4096,1000")
    for batch, extra in (
        (1, "--optimizer adam"),
        (64, "--optimizer adam --no-foreach"),
        (256, "--optimizer sgd --dropout 0.1"),
        (1024, "--optimizer momentum --norm layernorm --activation gelu"),
        (4096, "--optimizer adam --norm batchnorm --dropout 0.2"),
        (32, "--dtype amp-bf16 --optimizer adam"),
        (512, "--dtype amp-fp16 --optimizer adamw --weight-decay 0.01"),
        (2048, "--dtype amp-bf16 --activation silu --dropout 0.1"),
        (128, "--loss mse --activation tanh"),
        (8, "--dtype bf16 --optimizer adam --norm layernorm"),
    )
] + [  # the two later options, on the larger MLP
    "--layers 1024,4096,4096,1000 --batch 1024 --activation gelu --norm layernorm "
    "--dropout 0.1 --checkpointing",
    "--layers 1024,4096,4096,1000 --batch 256 --dtype bf16-master --optimizer adam",
] + [  # transformers (issue 12): both attentions, GQA, autocast, checkpointing
    "--model gpt2 --seq 1024 --batch 4 --dtype amp-bf16 --attention sdpa",
    "--model gpt2 --seq 512 --batch 8 --dtype amp-bf16 --attention math",
    "--model gpt2-medium --seq 1024 --batch 2 --dtype bf16-master --checkpointing",
    "--arch gpt --n-layer 4 --d-model 1024 --n-head 16 --n-kv-head 4 --d-ff 2816 "
    "--vocab 32000 --seq 2048 --batch 2 --norm rmsnorm --mlp swiglu --no-bias --untied "
    "--dtype bf16-master --optimizer adamw",
] + [  # LoRA (frozen base, adapters on q,v or all seven)
    "--model gpt2 --seq 1024 --batch 4 --dtype bf16 --lora-rank 16",
    "--model gpt2-medium --seq 1024 --batch 2 --dtype bf16-master --lora-rank 8 "
    "--lora-targets q,k,v,o,up,down --checkpointing",
]
WORKSPACE_PROBE = """
import torch
torch.cuda.init()
a = torch.ones(256, 256, device="cuda")
w = torch.ones(256, 256, device="cuda")
b = torch.ones(256, device="cuda")
torch.cuda.synchronize()
before = torch.cuda.memory_allocated()
out1 = a @ a
out2 = torch.nn.functional.linear(a, w, b)
torch.cuda.synchronize()
print(torch.cuda.memory_allocated() - before - 2 * 256 * 256 * 4)
"""


def cuda_grid(exe: str) -> int:
    """Calibrate on a real GPU: never run (or invent) on a machine without one."""
    import datetime

    import torch

    if not torch.cuda.is_available():
        print("--cuda-grid needs a CUDA GPU; none is visible here", file=sys.stderr)
        return 2
    ws = subprocess.run([sys.executable, "-c", WORKSPACE_PROBE], capture_output=True,
                        text=True, check=True).stdout.strip()
    print(f"device {torch.cuda.get_device_name()}, torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}, {datetime.date.today()}")
    print(f"cuBLAS workspace measured: {ws} B (memcalc assumes the CUBLAS_WORKSPACE constant)")
    print("| config | estimate | measured | error B | error % | within max(1%, 1 MiB) |")
    print("|---|---:|---:|---:|---:|---|")
    for case in GRID:
        out = subprocess.run([exe, "memcalc", *case.split(), "--device", "cuda", "--measure",
                              "--json"], capture_output=True, text=True)
        if out.returncode:
            print(f"| {case} | failed: {out.stderr.strip()[:60]} | | | | |")
            continue
        data = json.loads(out.stdout)
        est, got = data["peak"], data["measured"]["peak"]
        err = est - got
        ok = abs(err) <= max(0.01 * got, 2**20)
        print(f"| {case} | {est:,} | {got:,} | {err:+,} | {100 * err / got:+.2f}% | "
              f"{'yes' if ok else 'NO'} |")
    return 0


def command_cpu(args: list[str], repeat: int = 15) -> float:
    """Median CPU seconds (user + sys) of running a command, after one warm-up run."""
    subprocess.run(args, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(args, capture_output=True, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def main() -> int:
    exe = shutil.which("dlprep", path=str(Path(sys.executable).parent)) or "dlprep"
    if "--cuda-grid" in sys.argv[1:]:
        return cuda_grid(exe)
    base = command_time([sys.executable, "-c", "pass"])
    base_cpu = command_cpu([sys.executable, "-c", "pass"])
    print("memcalc: median of 15 runs each (wall, ratio to python -c pass, CPU time)")
    print(f"  python -c pass                  {base * 1000:6.1f} ms            "
          f"{base_cpu * 1000:6.1f} ms cpu")
    for name, args, target in CASES:
        took = command_time([exe, "memcalc", *args])
        cpu = command_cpu([exe, "memcalc", *args])
        print(f"  {name:<30}  {took * 1000:6.1f} ms  {took / base:5.2f}x  {cpu * 1000:6.1f} ms "
              f"cpu  [{verdict(cpu < target)}: target < {target * 1000:.0f} ms]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
