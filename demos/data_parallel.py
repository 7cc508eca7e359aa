"""Data-parallel training: two real worker processes, torch.distributed and all-reduce.

Each replica (a process with its own copy of the net) trains on its own shard of the batch.
Their gradients differ, because their data differ. All-reduce sums every gradient across the
processes; divided by the world size, each replica then holds the *average* gradient, which
for a mean loss over equal shards is exactly the gradient of the combined batch. Every
replica applies the same update to the same weights, so the weights stay identical - the
same training as one process on the whole batch. Skip the all-reduce (`--set
allreduce=false`) and each replica follows its own shard: the weights drift apart.

The workers are started with torch.multiprocessing (spawn), talk over gloo on the CPU (NCCL
when two or more CUDA GPUs are there), and send their measurements back through a queue
while they run. The parent owns them: a stop request, Ctrl-C (the workers ignore SIGINT and
let the parent decide) or an error ends them, and a worker whose parent died exits itself.
"""

from __future__ import annotations

import datetime
import math
import os
import queue
import runpy
import signal
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from _kit import Log, log_every, mlp, spirals, stop_requested
from _verdict import Statement, render
from torch import nn

META = {
    "name": "data-parallel",
    "claim": "With all-reduce, two data-parallel replicas hold the same gradient - equal to one "
             "process's gradient on the combined batch - so their weights stay identical; "
             "without it they drift apart.",
    "claim_ko": "all-reduce를 하면 두 데이터 병렬 복제본의 기울기가 같아지고(한 프로세스가 합친 "
                "배치로 구한 기울기와 동일) 가중치도 똑같이 유지된다. 빼면 서로 멀어진다.",
    "cpu_seconds": 8,
    "metric": "drift",
    "steps": 40,
    "params": {
        "allreduce": {"default": True, "help": "average the gradients across replicas"},
        "lr": {"default": 0.2, "help": "SGD learning rate", "min": 0, "max": 5},
        "batch": {"default": 64, "help": "examples per replica", "min": 2, "max": 4096},
        "num_hiddens": {"default": 32, "help": "units per hidden layer", "min": 2, "max": 256},
    },
    "control": {"allreduce": False},
}

WORLD = 2
START_TIMEOUT = 300.0  # seconds for both workers to import torch and report (busy machines)
STEP_TIMEOUT = 60.0  # seconds of silence after that before the workers count as hung
POINTS = 20  # records per replica: each carries its gradients and weights
SAME = 1e-6  # relative gradient difference that counts as "the same" (float32 rounding)


def flat(tensors) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1) for t in tensors])


def make_net(p: dict, seed: int, device) -> nn.Sequential:
    torch.manual_seed(seed)  # every replica and the reference start from the same weights
    return mlp(2, p["num_hiddens"], 2, 2, "tanh").to(device)


def replica(rank: int, port: int, p: dict, seed: int, num_steps: int, outbox, stop,
            parent: int, device: str) -> None:
    """One worker process: train on shard ``rank``, all-reduce, report every log step."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C hits the whole process group
    torch.set_num_threads(1)
    backend = "nccl" if device.startswith("cuda") else "gloo"
    try:
        dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=WORLD, timeout=datetime.timedelta(seconds=60))
        X, y = spirals(n=WORLD * p["batch"], seed=seed)
        shard = slice(rank * p["batch"], (rank + 1) * p["batch"])
        X, y = X[shard].to(device), y[shard].to(device)
        net = make_net(p, seed, device)
        trainer = torch.optim.SGD(net.parameters(), lr=p["lr"])
        every = log_every(num_steps, POINTS)
        for step in range(1, num_steps + 1):
            if stop.is_set() or os.getppid() != parent:
                break
            loss = nn.functional.cross_entropy(net(X), y)
            trainer.zero_grad()
            loss.backward()
            local = flat(q.grad for q in net.parameters())
            synced = local.clone()
            if p["allreduce"]:
                # One flat bucket, one message (DDP buckets gradients the same way).
                dist.all_reduce(synced)  # the sum over replicas ...
                synced /= WORLD  # ... then the mean: the combined batch's gradient
                offset = 0
                for q in net.parameters():
                    q.grad.copy_(synced[offset:offset + q.numel()].view_as(q))
                    offset += q.numel()
            trainer.step()
            if step in (1, num_steps) or step % every == 0:
                outbox.put(("step", rank, step, loss.item(), local.tolist(), synced.tolist(),
                            flat(net.parameters()).tolist()))  # lists: no shared memory
        outbox.put(("done", rank))
    except Exception as exc:  # reported by the parent in the verdict, never a traceback
        outbox.put(("error", rank, f"{type(exc).__name__}: {exc}"))
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_replicas(p: dict, seed: int, num_steps: int, device: str):
    ctx = mp.get_context("spawn")  # fork is unsafe in a process with threads (torch, the UI)
    outbox, stop = ctx.Queue(), ctx.Event()
    port = free_port()
    here = os.path.dirname(os.path.abspath(__file__))
    # The engine loads demos by path, so a spawned child finds `_kit` through sys.path, and
    # runs this file with run_name "__dlprep_replica__" (see the end of the file).
    sys.path.insert(0, here)
    procs = []
    try:
        for rank in range(WORLD):
            args = (rank, port, p, seed, num_steps, outbox, stop, os.getpid(), device)
            procs.append(ctx.Process(target=runpy.run_path, args=(os.path.abspath(__file__),),
                                     kwargs={"init_globals": {"REPLICA_ARGS": args},
                                             "run_name": "__dlprep_replica__"},
                                     daemon=True, name=f"dlprep-replica-{rank}"))
            procs[-1].start()
    finally:
        sys.path.remove(here)
    return procs, outbox, stop


def shut_down(procs, outbox, stop) -> None:
    stop.set()  # a worker sees it before its next step; one stuck in all_reduce does not
    deadline = time.monotonic() + 1.0
    for proc in procs:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=3)
        if proc.is_alive():
            proc.kill()
            proc.join()
    outbox.cancel_join_thread()
    outbox.close()


def reference(p: dict, seed: int, device):
    """One process on the combined batch, one step per next(): (gradient, weights after)."""
    X, y = spirals(n=WORLD * p["batch"], seed=seed)
    X, y = X.to(device), y.to(device)
    net = make_net(p, seed, device)
    trainer = torch.optim.SGD(net.parameters(), lr=p["lr"])
    while True:
        loss = nn.functional.cross_entropy(net(X), y)
        trainer.zero_grad()
        loss.backward()
        grad = flat(q.grad for q in net.parameters())
        trainer.step()
        yield grad, flat(net.parameters())


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    scale = max(a.norm().item(), b.norm().item())
    return 0.0 if scale == 0 else (a - b).norm().item() / scale


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    nccl = (device.type == "cuda" and torch.cuda.device_count() >= WORLD
            and dist.is_nccl_available())
    numbers: dict = {"allreduce": p["allreduce"], "lr": p["lr"], "world": WORLD,
                     "backend": "nccl" if nccl else "gloo", "batch": p["batch"],
                     "steps": num_steps}
    # One GPU cannot host two NCCL ranks, so without two GPUs the replicas use the CPU.
    procs, outbox, stop = start_replicas(p, seed, num_steps, "cuda" if nccl else "cpu")
    try:
        ref = reference(p, seed, "cuda:0" if nccl else "cpu")
        ref_step, ref_grad, ref_weights = 0, None, None
        start_weights = flat(make_net(p, seed, "cpu").parameters())
        pending: dict[int, dict] = {}
        done: set[int] = set()
        error, last = None, None
        deadline = time.monotonic() + START_TIMEOUT
        worst_after = 0.0
        while len(done) < WORLD and error is None:
            try:
                msg = outbox.get(timeout=0.1)
            except queue.Empty:
                if stop_requested():  # hand control to the engine, which then ends the run
                    yield last or Log("rank0", 0, num_steps, {}, 0, WORLD)
                dead = [q.name for rank, q in enumerate(procs)
                        if q.exitcode is not None and rank not in done]
                if dead:
                    error = f"{', '.join(dead)} exited without reporting"
                elif time.monotonic() > deadline:
                    error = "no report from the workers in time (a very busy machine?)"
                continue
            deadline = time.monotonic() + STEP_TIMEOUT
            if msg[0] == "done":
                done.add(msg[1])
                continue
            if msg[0] == "error":
                error = f"rank {msg[1]}: {msg[2]}"
                continue
            _, rank, step, loss, *vectors = msg
            pending.setdefault(step, {})[rank] = (loss, *map(torch.tensor, vectors))
            if len(pending[step]) < WORLD:
                continue
            ranks = pending.pop(step)
            (l0, g0, s0, w0), (l1, g1, s1, w1) = ranks[0], ranks[1]
            while ref_step < step:  # the single process, kept in step with the replicas
                ref_grad, ref_weights = next(ref)
                ref_step += 1
            after = rel(s0, s1)  # 0 when every replica holds the same gradient
            worst_after = max(worst_after, after) if math.isfinite(after) else math.inf
            drift = (w0 - w1).abs().max().item()
            metrics = {"drift": drift, "grad_gap_before": rel(g0, g1), "grad_gap_after": after,
                       "vs_single": rel(s0, ref_grad)}
            if step == 1:
                numbers.update({"gap_before_step1": rel(g0, g1), "gap_after_step1": after,
                                "vs_single_step1": rel(s0, ref_grad),
                                "local_vs_single_step1": rel(g0, ref_grad)})
            if step == num_steps:
                numbers.update({"drift_final": drift, "loss_final": [l0, l1],
                                "weight_change": (w0.cpu() - start_weights).abs().max().item(),
                                "vs_single_final": (w0 - ref_weights.cpu()).abs().max().item(),
                                "weight_scale": w0.abs().max().item()})
            for r, loss_r, g in ((0, l0, g0), (1, l1, g1)):
                last = Log(f"rank{r}", step, num_steps,
                           {"loss": loss_r, **metrics, "grad_norm": g.norm().item()}, r, WORLD)
                yield last
        if error is not None:
            numbers["error"] = error
            return numbers
    finally:
        shut_down(procs, outbox, stop)
    numbers["gap_after_max"] = worst_after
    numbers["effect"] = bool(worst_after <= SAME and numbers["vs_single_step1"] <= SAME
                             and numbers["drift_final"] == 0.0)
    return numbers


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    error = n.get("error")
    ran = error is None
    # A failed run may stop before any figure: only "failed" holds, the rest need a value.
    n = {"world": WORLD, "backend": "", "batch": 0, "steps": 0, "lr": 0.0, "allreduce": False,
         **n}
    get = n.get
    before, after, single = get("gap_before_step1", 0.0), get("gap_after_max", 0.0), get(
        "vs_single_step1", 0.0)
    drift, steps, moved = get("drift_final", 0.0), n["steps"], get("weight_change", 0.0)
    finite = ran and math.isfinite(drift) and math.isfinite(after)
    still = finite and moved == 0
    going = finite and moved != 0
    sync = ran and bool(n["allreduce"])
    shards = (f"{n['world']} processes ({n['backend']}), {n['batch']} examples per replica: at "
              f"step 1 the replicas' own-shard gradients", f"{n['world']}개 프로세스"
              f"({n['backend']}), 복제본당 {n['batch']}개 예제: 1스텝에서 두 복제본의 자기 샤드 "
              f"기울기는")
    weights = (f"After {steps} steps the replicas' weights", f"{steps}스텝 뒤 두 복제본의 가중치는")
    vs = (f"differ from single-process training by {get('vs_single_final', 0.0):.1e}",
          f"단일 프로세스 학습과의 차이는 {get('vs_single_final', 0.0):.1e}입니다")
    return [
        Statement("failed", f"The workers failed: {error}", f"워커가 실패했습니다: {error}",
                  not ran),
        Statement("shards-differ", f"{shards[0]} differ by {before:.2g} (relative).",
                  f"{shards[1]} 상대 차이 {before:.2g}로 다릅니다.", ran and before > 0),
        Statement("shards-same", f"{shards[0]} are the same (relative difference 0).",
                  f"{shards[1]} 같습니다(상대 차이 0).", ran and before == 0),
        Statement("diverged", f"Training diverged (inf/NaN) at lr {n['lr']:g}.",
                  f"학습률 {n['lr']:g}에서 학습이 발산했습니다(inf/NaN).", ran and not finite),
        Statement("same-gradient", f"After all-reduce every step the replicas held the same "
                  f"gradient, within {single:.1e} of one process's gradient on the combined "
                  f"batch.", f"all-reduce 뒤에는 모든 스텝에서 두 복제본의 기울기가 같았고, 합친 "
                  f"배치로 한 프로세스가 구한 기울기와의 차이는 {single:.1e}입니다.",
                  sync and finite and after == 0),
        Statement("close-gradient", f"After all-reduce the replicas' gradients differed by at "
                  f"most {after:.1e}, within {single:.1e} of one process's gradient on the "
                  f"combined batch.", f"all-reduce 뒤 두 복제본의 기울기 차이는 최대 "
                  f"{after:.1e}였고, 합친 배치로 한 프로세스가 구한 기울기와의 차이는 "
                  f"{single:.1e}입니다.", sync and finite and after != 0),
        Statement("weights-identical", f"{weights[0]} are bit-for-bit identical and {vs[0]}.",
                  f"{weights[1]} 비트 단위까지 같고, {vs[1]}.", sync and finite and drift == 0),
        Statement("weights-differ", f"{weights[0]} differ by at most {drift:.2g} and {vs[0]}.",
                  f"{weights[1]} 최대 {drift:.2g} 차이 나고, {vs[1]}.",
                  sync and finite and drift != 0),
        Statement("own-gradient", f"Without all-reduce each replica steps on its own gradient "
                  f"(relative difference {get('local_vs_single_step1', 0.0):.2g} from the "
                  f"combined batch's), and after {steps} steps their weights differ by up to "
                  f"{drift:.2g}.", f"all-reduce를 건너뛰면 각 복제본이 자기 기울기로 "
                  f"갱신하므로(합친 배치 기울기와의 상대 차이 "
                  f"{get('local_vs_single_step1', 0.0):.2g}), {steps}스텝 뒤 가중치 최대 차이가 "
                  f"{drift:.2g}입니다.", ran and not n["allreduce"] and finite),
        Statement("never-moved", f"At lr {n['lr']:g} the weights never moved, so they are "
                  f"still equal.", f"학습률 {n['lr']:g}에서는 가중치가 전혀 움직이지 않아 같은 "
                  f"값 그대로입니다.", still),
        Statement("stay-identical", "The replicas stay identical.", "복제본은 동일하게 "
                  "유지됩니다.", going and sync and bool(n.get("effect"))),
        Statement("not-identical", "Yet the replicas are not exactly identical.",
                  "하지만 복제본이 완전히 같지는 않습니다.",
                  going and sync and not n.get("effect")),
        Statement("drifted", "The replicas drifted apart.", "복제본이 서로 멀어졌습니다.",
                  going and not n["allreduce"] and drift > 0),
        Statement("no-drift", "Yet their weights are still equal: each replica's own updates "
                  "left them the same.", "그래도 가중치는 여전히 같습니다: 각 복제본의 갱신이 "
                  "같은 값을 남겼습니다.", going and not n["allreduce"] and drift == 0),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)


if __name__ == "__dlprep_replica__":  # a worker process started by start_replicas()
    replica(*REPLICA_ARGS)  # type: ignore[name-defined]  # noqa: F821
