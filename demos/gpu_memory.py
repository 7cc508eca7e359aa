"""GPU memory: what one training step holds, measured tensor by tensor beside memcalc's estimate.

A real MLP is trained for a few steps while every tensor storage is tracked (see
``_memlive.py``). The chart is the live bytes after every allocation or free: weights and
the batch exist before any step; the forward pass piles up activations saved for backward;
backward frees them and creates one gradient per parameter; the first optimizer step
creates the optimizer's state (Adam: ``exp_avg`` and ``exp_avg_sq``, 2 x the weights), which
then stays for good. ``dlprep memcalc`` replays the same step without torch; the demo sets
its estimate beside the measurement (on CPU they agree to the byte). A second act feeds the
same model batches twice and four times as large: weights, gradients and optimizer state
do not move, while saved activations and the input batch grow linearly (affine in the
batch: a few bytes are saved whatever its size, so not in exact proportion).
Components are not layers, so there is no META "layers" (bars numbered 1..L): the
breakdown is in the metrics (saved_MB, grads_MB, state_MB, weights_MB, inputs_MB, temp_MB)
that the table and the verdict show. On CUDA the totals are the caching allocator's
counters (``torch.cuda.max_memory_allocated`` per phase, 512-byte blocks); that path has not
been run on a GPU yet. Any other device (MPS) is measured on the CPU.
This demo imports ``dlprep.memcalc`` (the estimator and the model it measures): a saved
script needs dlprep installed (``pip install dlprep``), not only torch.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from _kit import Log
from _memlive import PHASES, ROWS, LiveBytes, compare, estimated
from _memplan import SCALE, plan
from _verdict import Statement, render

from dlprep.engine import DemoError
from dlprep.memcalc.estimate import estimate
from dlprep.memcalc.models.mlp_rig import batch as new_batch
from dlprep.memcalc.optimizers import OPTIMIZERS
from dlprep.memcalc.rig import HALF, build, train_step

META = {
    "name": "gpu-memory",
    "claim": "Training memory is weights + gradients (created in backward) + optimizer state "
             "(created by the first step; Adam: twice the weights) + activations saved for "
             "backward + temporaries; only the activations and the input batch grow with the "
             "batch size, and memcalc's estimate matches the measurement to the byte on CPU.",
    "claim_ko": "학습 메모리는 가중치 + 기울기(역전파에서 생김) + 옵티마이저 상태"
                "(첫 스텝에서 생김, Adam은 가중치의 두 배) + 역전파용으로 저장된 활성값 + "
                "임시 버퍼다. 배치 크기에 따라 커지는 것은 활성값과 입력 배치뿐이며, "
                "memcalc의 추정은 CPU에서 측정값과 바이트 단위까지 같다.",
    "cpu_seconds": 1,
    "metric": "live_MB",
    "steps": 2,
    "min_steps": 2,  # the second step is the warmed-up one memcalc sizes
    "params": {
        "layers": {"default": "784,512,512,10", "help": "MLP widths, input to output"},
        "batch": {"default": 512, "help": "examples per batch (act 2 runs 2x and 4x)",
                  "min": 1, "max": 65536},
        "optimizer": {"default": "adam",
                      "choices": ["sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad"],
                      "help": "sgd keeps no state; momentum, rmsprop and adagrad one tensor "
                              "per weight; adam and adamw two"},
        "dtype": {"default": "fp32", "choices": ["fp32", "bf16", "amp-bf16", "bf16-master",
                                                 "fp16-master"],
                  "help": "bf16: all half; amp-bf16: autocast; *-master: half model with "
                          "fp32 master weights"},
        "checkpointing": {"default": False, "help": "recompute each hidden block in backward"},
        "activation": {"default": "relu", "choices": ["relu", "sigmoid", "tanh", "gelu", "silu"],
                       "help": "hidden activation (GELU and SiLU save their input)"},
    },
    "control": {"optimizer": "sgd"},
    "check": "_memplan.plan",  # layers x batch within the demo's limits, checked without torch
}

def run(p: dict, num_steps: int, seed: int, device: torch.device):
    if device.type not in ("cpu", "cuda"):  # e.g. MPS: no per-tensor counters to read
        device = torch.device("cpu")
    cfg = plan(p, device.type)  # the registry ran the same check before torch was imported
    if device.type == "cuda":  # what only the run can know: the GPU's memory free right now
        peak = estimate(replace(cfg, batch=cfg.batch * SCALE[-1])).peak or 0
        if peak > torch.cuda.mem_get_info()[0] * 0.9:
            raise DemoError(f"gpu-memory: {peak / 1e9:.3g} GB will not fit in this GPU's free "
                            f"memory")
    if num_steps < META["min_steps"]:  # the engine refuses it first; a saved script may not
        raise DemoError("gpu-memory needs --steps 2 or more: the second step is the "
                        "warmed-up one memcalc sizes")
    torch.manual_seed(seed)  # the bytes do not depend on it; build() seeds the weights
    live = LiveBytes(device)
    rig = None

    def groups() -> dict:
        if rig is None:
            return {}
        params = list(rig.net.parameters())
        return {"weights": params, "masters": rig.masters or [], "inputs": [rig.X, rig.y],
                "gradients": [t.grad for t in [*params, *(rig.masters or [])]],
                "state": [v for s in rig.opt.state.values() for v in s.values()
                          if isinstance(v, torch.Tensor)]}

    live.groups = groups
    phases: dict[tuple[int, str], dict] = {}  # (step, phase) -> peak, parts at peak and end
    current = {"step": 0}
    names = {"forward": "forward", "backward": "backward", "step": "optimizer step"}

    def mark(phase: str | None) -> None:
        live.point()  # the phase's last point is its end state (e.g. the last .grad set)
        if live.phase in names:
            phases[(current["step"], live.phase)] = {**live.phase_peak(), "end": live.parts()}
        live.phase = phase or ""
        if phase is not None and current["step"] == 1:
            live.label = names[phase]
        live.start_phase()

    with live.tracking():
        rig = build(cfg, device.type)  # the weights and the batch, before any step
    live.points = [("setup", live.parts())]  # sorted only now that the rig exists
    numbers: dict = {"layers": list(cfg.layers or ()), "batch": cfg.batch, "device": device.type,
                     "optimizer": cfg.optimizer, "dtype": cfg.dtype,
                     "checkpointing": cfg.checkpointing, "activation": cfg.activation,
                     "params": cfg.n_params,
                     "num_steps": num_steps, "setup": live.parts()}
    total = len(SCALE) + num_steps + 1
    yield from _logs(live, 0, total)
    name = HALF.get(cfg.dtype.removesuffix("-master"))
    half = getattr(torch, name) if name else None
    sizes = [cfg.batch] * num_steps + [cfg.batch * k for k in SCALE[1:]]
    expected = {size: estimated(replace(cfg, batch=size)) for size in set(sizes)}
    for index, size in enumerate(sizes, 1):
        current["step"] = index
        live.label = ("forward" if index == 1 else f"step {index}: batch {size}"
                      if size != cfg.batch else "step 2" if num_steps == 2
                      else f"steps 2-{num_steps}")
        live.record = index <= 2 or size != cfg.batch  # later equal steps: phase peaks only
        with live.tracking():
            if size != rig.X.shape[0]:  # the next batch replaces the last one
                rig.X, rig.y = new_batch(replace(cfg, batch=size), device.type, half)
            train_step(cfg, rig, mark)
        if not live.record:
            live.points = [(live.label, live.parts())]
        part = min(index, total - 1)
        yield from _logs(live, part, total)
        e = expected[size]
        for ph in PHASES:
            top = e["phase_peaks"][ph]
            if index == 1 and ph != "step" and not numbers["setup"]["state"]:
                top -= e["state"]  # memcalc sizes a warmed-up step: no state before step 1
            phases[(index, ph)]["estimate"] = top
            if phases[(index, ph)]["at"]:
                x = phases[(index, ph)]["at"]
                yield Log("memcalc estimate", x, live.shown, {"live_MB": top / 1e6}, part,
                          total)
    numbers.update(compare(cfg, phases, sizes, num_steps, numbers["setup"]["state"], expected))
    if device.type == "cuda":
        free, whole = torch.cuda.mem_get_info()
        numbers["cuda"] = {"reserved": torch.cuda.max_memory_reserved(),
                           "outside_allocator": whole - free - torch.cuda.memory_reserved()}
    return numbers


def _logs(live: LiveBytes, part: int, parts: int):
    """The points of the finished step as Log records: x = allocation/free event index."""
    points, live.points = live.points, []
    offset = live.shown
    ends: dict[str, int] = {}
    for i, (label, _) in enumerate(points):
        ends[label] = offset + i + 1
    for i, (label, parts_now) in enumerate(points):
        metrics = {"live_MB": sum(parts_now.values()) / 1e6,
                   "saved_MB": parts_now["saved"] / 1e6,
                   "grads_MB": parts_now["gradients"] / 1e6,
                   "state_MB": parts_now["state"] / 1e6,
                   "weights_MB": parts_now["weights"] / 1e6,
                   "inputs_MB": parts_now["inputs"] / 1e6,
                   "temp_MB": parts_now["temp"] / 1e6}
        if parts_now["masters"]:
            metrics["masters_MB"] = parts_now["masters"] / 1e6
        yield Log(label, offset + i + 1, ends[label], metrics, part, parts)
    live.shown = offset + len(points)


ACTIVATION = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "gelu": "GELU", "silu": "SiLU"}
NAMES = {"sgd": "SGD", "momentum": "SGD+momentum", "adam": "Adam", "adamw": "AdamW",
         "rmsprop": "RMSprop", "adagrad": "Adagrad"}
PHASE = {"en": {"forward": "forward pass", "backward": "backward pass",
                "step": "optimizer step"},
         "ko": {"forward": "순전파", "backward": "역전파", "step": "옵티마이저 스텝"}}
ROW_KO = {"weights": "가중치", "masters": "fp32 마스터 가중치", "inputs": "입력 배치",
          "gradients": "기울기", "state": "옵티마이저 상태", "saved": "저장된 활성값",
          "peak": "최고점", "forward_peak": "순전파 최고점", "backward_peak": "역전파 최고점",
          "step_peak": "스텝 최고점"}
ROW_EN = {"weights": "weights", "masters": "fp32 master weights", "inputs": "input batch",
          "gradients": "gradients", "state": "optimizer state", "saved": "saved activations",
          "peak": "peak", "forward_peak": "forward peak", "backward_peak": "backward peak",
          "step_peak": "step peak"}


def mb(x: float) -> str:
    """Bytes as MB (10^6) from 1 MB, kB (10^3) from 10 kB, else exact bytes."""
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f} MB"
    return f"{x / 1e3:,.1f} kB" if abs(x) >= 1e4 else f"{int(x):,} B"


def _chain(values: list[int]) -> str:
    """``2.12 → 4.24 → 8.47 MB``: one unit at the end when every value is in MB."""
    shown = [mb(v) for v in values]
    if all(x.endswith(" MB") for x in shown):
        return " → ".join(x[:-3] for x in shown) + " MB"
    return " → ".join(shown)


def _figures(n: dict) -> dict:
    """Every number the verdict states, formatted once for both languages."""
    m, sweep = n["measured"], n["sweep"]
    worst = max(((abs(v), row, s["batch"]) for s in sweep for row, v in s["error"].items()),
                default=(0, "peak", n["batch"]))
    return {
        "opt": NAMES[n["optimizer"]], "net": "-".join(map(str, n["layers"])),
        "params": f"{n['params']:,}", "batch": f"{n['batch']:,}", "dtype": n["dtype"],
        "act": ACTIVATION[n["activation"]],
        "saved1": mb(n["first_step"]["forward"]["saved"]),
        "grads1": mb(n["grads_created_in_backward"]),
        "state1": mb(n["state_created_at_step_1"]), "built": mb(n["state_at_construction"]),
        "times": f"{m['state'] / m['weights']:.2f}",
        "state_names": ", ".join(OPTIMIZERS[n["optimizer"]].state),
        **{row: mb(m[row]) for row in ROWS},
        "peak": mb(m["peak"]), "temp": mb(m["temp_at_peak"]),
        "est_peak": mb(n["estimate"]["peak"]),
        "fixed_sum": mb(sum(m[row] for row in n["fixed"])),
        "err": f"{worst[0]:,} B", "err_pct": f"{100 * worst[0] / m['peak']:.2g}%",
        "err_row": worst[1], "err_batch": f"{worst[2]:,}",
        "sizes": " → ".join(f"{s['batch']:,}" for s in sweep),
        "grow": {row: _chain([s["measured"][row] for s in sweep])
                 for row in n["grows_with_batch"]},
        "per_ex": {row: f"{v:,.0f} B" for row, v in n["per_example"].items()},
        "proportional": n["only_batch_parts_grow"] and not any(n["offset"].values()),
        "offsets": {row: f"{v:,.0f} B" for row, v in n["offset"].items() if v},
        "peaks": _chain([s["measured"]["peak"] for s in sweep]),
        "cuda": {k: mb(v) for k, v in n.get("cuda", {}).items()},
    }


def _join(items: list[str], ko: bool) -> str:
    if ko or len(items) < 2:
        return ", ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _both(en: str, ko: str, holds: bool, name: str) -> Statement:
    return Statement(name, en, ko, holds)


def statements(n: dict) -> list[Statement]:
    """Every sentence the verdict can print, each with its predicate over the numbers."""
    f, m = _figures(n), n["measured"]
    (en_rows, en_ph), (ko_rows, ko_ph) = (ROW_EN, PHASE["en"]), (ROW_KO, PHASE["ko"])
    where = (", ".join(en_ph[s["measured"]["peak_phase"]] for s in n["sweep"]),
             ", ".join(ko_ph[s["measured"]["peak_phase"]] for s in n["sweep"]))
    ckpt = (", checkpointed", ", 체크포인팅") if n["checkpointing"] else ("", "")
    setup = f"{f['opt']}, {f['net']}"
    master = ((f", {en_rows['masters']} {f['masters']}", f", {ko_rows['masters']} "
               f"{f['masters']}") if m["masters"] else ("", ""))
    copies = m["gradients"] != n["grads_created_in_backward"]
    grads = ((f" ({f['gradients']} with the step's fp32 copies)",
              f"(스텝의 fp32 사본까지 {f['gradients']})") if copies else ("", ""))
    left = n["first_step"]["backward"]["saved"]
    made, built = n["state_created_at_step_1"], n["state_at_construction"]
    exact = f["err"] == "0 B"
    offsets = (_join([f"{v} of {en_rows[r]}" for r, v in f["offsets"].items()], False),
               _join([f"{ko_rows[r]} {v}" for r, v in f["offsets"].items()], True))
    grow = (_join([f"{en_rows[r]} {f['grow'][r]} ({f['per_ex'][r]} per example)"
                   for r in f["grow"]], False),
            _join([f"{ko_rows[r]} {f['grow'][r]}(예제당 {f['per_ex'][r]})" for r in f["grow"]],
                  True))
    batch = (f"Batch {f['sizes']}: {grow[0]}", f"배치 {f['sizes']}: {grow[1]}")
    linear, affine = n["only_batch_parts_grow"], bool(f["offsets"])
    peak2 = (f"Step 2 peak: {f['peak']} in the {en_ph[m['peak_phase']]} ({f['temp']} of "
             f"temporaries); memcalc's estimate {f['est_peak']}",
             f"2스텝 최고점 {f['peak']}({ko_ph[m['peak_phase']]}, 임시 버퍼 {f['temp']}); "
             f"memcalc 추정 {f['est_peak']}")
    cuda = f["cuda"]
    return [
        _both(f"{setup} ({f['params']} parameters), batch {f['batch']}, {f['act']}, "
              f"{f['dtype']}{ckpt[0]}, {n['device']}.", f"{setup}(파라미터 {f['params']}개), "
              f"배치 {f['batch']}, {f['act']}, {f['dtype']}{ckpt[1]}, {n['device']}.", True,
              "setup"),
        _both(f"Step 1: forward saved {f['saved1']} of activations; backward freed them and "
              f"made {f['grads1']} of gradients{grads[0]}.", f"1스텝: 순전파가 활성값 "
              f"{f['saved1']}를 저장했고, 역전파가 그것을 해제하며 기울기 {f['grads1']}"
              f"{grads[1]}를 만들었다.", left == 0, "step-1"),
        _both(f"Step 1: forward saved {f['saved1']} of activations; backward made "
              f"{f['grads1']} of gradients{grads[0]} and left {mb(left)} of them saved.",
              f"1스텝: 순전파가 활성값 {f['saved1']}를 저장했고, 역전파가 기울기 {f['grads1']}"
              f"{grads[1]}를 만들었으며 그중 {mb(left)}는 저장된 채 남았다.", left != 0,
              "step-1-kept"),
        _both(f"The optimizer step made {f['state1']} of state ({f['state_names']}: "
              f"{f['times']}x the weights), kept from then on.", f"옵티마이저 스텝이 상태 "
              f"{f['state1']}({f['state_names']}: 가중치의 {f['times']}배)를 만들었으며 이 상태는 "
              f"이후 계속 남는다.", made > 0, "state-made"),
        _both(f"The optimizer's {f['built']} of state ({f['state_names']}: {f['times']}x the "
              f"weights) was already there (made when it is constructed).", f"옵티마이저 상태 "
              f"{f['built']}({f['state_names']}: 가중치의 {f['times']}배)는 이미 있었다(이 "
              f"옵티마이저는 생성될 때 만든다).", made <= 0 and built > 0, "state-built"),
        _both("The optimizer step made no state (0 B: plain SGD keeps none), so the effect "
              "Adam shows is gone.", "옵티마이저 스텝은 상태를 만들지 않았다(0 B: 일반 SGD는 "
              "상태가 없다). Adam에서 보이는 효과는 사라졌다.", made <= 0 and built <= 0
              and m["state"] == 0, "no-state"),
        _both(f"Weights {f['weights']}{master[0]}, input batch {f['inputs']}.",
              f"가중치 {f['weights']}{master[1]}, 입력 배치 {f['inputs']}.", True, "weights"),
        _both(f"{peak2[0]}, error 0 B on every row and phase peak.", f"{peak2[1]}, 모든 항목과 "
              f"단계별 최고점의 오차 0 B.", exact, "estimate-exact"),
        _both(f"{peak2[0]}, off by at most {f['err']} ({f['err_pct']} of the peak, "
              f"{en_rows[f['err_row']]} at batch {f['err_batch']}).", f"{peak2[1]}, 최대 오차 "
              f"{f['err']}(최고점의 {f['err_pct']}, 배치 {f['err_batch']}의 "
              f"{ko_rows[f['err_row']]}).", not exact, "estimate-off"),
        _both(f"{batch[0]} grow in exact proportion to the batch.", f"{batch[1]}는 배치에 정확히 "
              f"비례해 커진다.", linear and not affine, "grow-proportional"),
        # Linear is not proportional: a row that holds bytes at batch 0 is affine in it.
        _both(f"{batch[0]} grow affinely: by the same bytes per added example, on top of a "
              f"fixed {offsets[0]} there at any batch (so not in exact proportion).",
              f"{batch[1]}는 아핀으로 커진다: 예제마다 같은 바이트씩 늘지만, 배치와 무관한 고정분 "
              f"{offsets[1]}가 있어 정확한 비례는 아니다.", linear and affine, "grow-affine"),
        _both(f"{batch[0]} grow (not linearly, or other rows changed too).", f"{batch[1]}는 "
              f"커지며, 선형이 아니거나 다른 항목도 변한다.", not linear, "grow-other"),
        _both(f"{_join([en_rows[row] for row in n['fixed']], False).capitalize()} stay at "
              f"{f['fixed_sum']}; "
              f"peak {f['peaks']} ({where[0]}).", f"{_join([ko_rows[r] for r in n['fixed']], True)}"
              f"는 {f['fixed_sum']}로 그대로다. 최고점 {f['peaks']}({where[1]}).", True, "fixed"),
        _both(f"CUDA: allocator counters (torch.cuda.max_memory_allocated); the GPU shows "
              f"another {cuda.get('outside_allocator')} in use outside the allocator (CUDA "
              f"context, libraries, other processes on it), and the allocator reserved up to "
              f"{cuda.get('reserved')}.", f"CUDA: 할당자 카운터(torch.cuda.max_memory_allocated)로 "
              f"쟀다. GPU에는 그 밖에 {cuda.get('outside_allocator')}가 더 쓰이고 있고(CUDA "
              f"컨텍스트, 라이브러리, 같은 GPU의 다른 프로세스), 할당자는 최대 "
              f"{cuda.get('reserved')}를 예약했다.", bool(cuda), "cuda"),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
