"""Quantization: int8 and int4 weights of a trained tiny transformer, with one scale per
tensor, per output channel or per group of 16 inputs.

Symmetric weight quantisation stores round(w / s) in b bits and one scale s = max|w| /
(2^(b-1) - 1) for every weight that shares it. With one scale per tensor, a few outlier
channels set s for everyone: the ordinary weights fall onto a handful of levels, most of
them zero. Dettmers et al. (2022, "LLM.int8()") found such outlier features in every large
transformer; scales per output channel, or per group of a few inputs, keep each outlier's
range to itself.

The demo trains a 2-block transformer to copy 6 tokens, then plants outlier channels
without changing what it computes: in each block it multiplies two query features' weights
by ``outlier`` and divides the matching key features' weights by it, so every q.k, every
attention weight and every output stay the same (we check the logits). Then it quantises
every block Linear's weight (embeddings and the head stay fp32) to int8 and int4 with the
three scale layouts and measures held-out accuracy, the weights' relative error per layer,
and the bytes of the packed integers plus their fp32 scales. The control is ``outlier=1``:
the same model without outlier channels.
"""

from __future__ import annotations

import copy

import torch
from _gpt import GPT, lm_steps, scored_accuracy, sequence_task
from _kit import Log, is_log_step
from _verdict import CLOSE, Statement, about_equal, causal, render, same_outputs
from torch import nn

META = {
    "name": "quantization",
    "claim": "With a few outlier channels in its weights, a trained transformer quantised to "
             "int4 with one scale per tensor loses its accuracy, while per-channel or "
             "group-wise scales keep it; at int8 the per-tensor weight error grows by the same "
             "cause. Without outliers per-tensor int4 is fine too.",
    "claim_ko": "가중치에 이상치 채널이 몇 개 있으면, 학습된 트랜스포머를 텐서당 스케일 하나로 "
                "int4 양자화할 때 정확도를 잃지만 채널별이나 그룹별 스케일은 정확도를 지킨다. "
                "int8에서도 같은 원인으로 텐서당 가중치 오차가 커진다. 이상치가 없으면 텐서당 "
                "int4도 괜찮다.",
    "cpu_seconds": 1,
    "metric": "accuracy",
    "steps": 60,
    "control": {"outlier": 1},
    "layers": {"prefix": "error/", "label": "relative weight error per block Linear, int4 "
               "per-tensor", "label_ko": "블록 Linear별 상대 가중치 오차, 텐서당 int4"},
    "params": {
        "outlier": {"default": 30, "choices": [1, 3, 10, 30, 100],
                    "help": "factor on the planted outlier channels (1: none)"},
        "channels": {"default": 2, "help": "outlier channels per block", "min": 1, "max": 8},
        "group": {"default": 16, "choices": [8, 16, 32], "help": "inputs per group scale"},
        "lr": {"default": 0.003, "help": "Adam learning rate", "min": 0.0001, "max": 0.03},
    },
}
WIDTH, HEADS, LAYERS, VOCAB, BATCH, LENGTH = 64, 4, 2, 16, 32, 6
SCHEMES = ("tensor", "channel", "group")
BITS = (8, 4)


def plant_outliers(net: GPT, factor: float, channels: int) -> None:
    """q_j x factor and k_j / factor for ``channels`` features j per block: q.k unchanged."""
    d = WIDTH
    for block in net.blocks:
        w, b = block.attn.qkv.weight.data, block.attn.qkv.bias.data
        for j in range(channels):
            col = (j * (d // channels)) % d  # spread over the heads
            w[col] *= factor
            b[col] *= factor
            w[d + col] /= factor
            b[d + col] /= factor


def quantise(w: torch.Tensor, bits: int, scheme: str, group: int):
    """(dequantised weight, integer codes, fp32 scales): symmetric absmax rounding."""
    top = 2 ** (bits - 1) - 1
    if scheme == "tensor":
        amax = w.abs().max().reshape(1, 1)
    elif scheme == "channel":
        amax = w.abs().amax(dim=1, keepdim=True)
    else:
        amax = w.reshape(w.shape[0], -1, group).abs().amax(dim=2)
    scale = amax.clamp_min(1e-12) / top
    per = scale if scheme != "group" else scale.repeat_interleave(group, dim=1)
    codes = torch.round(w / per).clamp(-top, top).to(torch.int8)
    return codes.float() * per, codes, scale.float()


def packed_bytes(codes: torch.Tensor, bits: int) -> int:
    """Bytes of the codes as stored: int8 as is, int4 two to a byte."""
    if bits == 8:
        return codes.nbytes
    flat = (codes.flatten() & 0xF).to(torch.uint8)
    flat = torch.cat([flat, flat.new_zeros(flat.numel() % 2)])
    return (flat[0::2] | (flat[1::2] << 4)).nbytes


def block_linears(net: GPT) -> list[nn.Linear]:
    return [m for b in net.blocks for m in b.modules() if isinstance(m, nn.Linear)]


def quantised(net: GPT, bits: int, scheme: str, group: int):
    """A copy of ``net`` with every block Linear's weight quantised and dequantised, the
    weights' relative error per Linear, and the bytes of the codes plus scales."""
    qnet = copy.deepcopy(net)
    errors, nbytes = [], 0
    for m in block_linears(qnet):
        w = m.weight.data
        deq, codes, scale = quantise(w, bits, scheme, group)
        errors.append(((deq - w).norm() / w.norm()).item())
        nbytes += packed_bytes(codes, bits) + scale.nbytes
        m.weight.data = deq
    return qnet, errors, nbytes


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    X, Y, _ = sequence_task("copy", 2048, LENGTH, VOCAB, seed)
    Xt, Yt, _ = sequence_task("copy", 512, LENGTH, VOCAB, seed + 1)
    X, Y, Xt, Yt = X.to(device), Y.to(device), Xt.to(device), Yt.to(device)
    torch.manual_seed(seed)
    net = GPT(VOCAB + 1, WIDTH, LAYERS, HEADS, X.shape[1]).to(device)
    trainer = torch.optim.Adam(net.parameters(), lr=p["lr"])
    for step, loss, logits, targets in lm_steps(net, trainer, X, Y, num_steps, BATCH, seed):
        if is_log_step(step, num_steps, points=20):
            yield Log("train", step, num_steps,
                      {"loss": loss, "accuracy": scored_accuracy(logits, targets)}, 0, 2)
    net.eval()
    with torch.no_grad():
        before = net(Xt)
        # the arm without outliers: the same trained model, per-tensor int4, before planting
        unplanted = scored_accuracy(quantised(net, 4, "tensor", p["group"])[0](Xt), Yt)
        plant_outliers(net, p["outlier"], p["channels"])
        after = net(Xt)
    linears = block_linears(net)
    numbers: dict = {"outlier": p["outlier"], "channels": p["channels"], "group": p["group"],
                     "steps": num_steps, "n_weights": sum(m.weight.numel() for m in linears),
                     "chance": 1 / VOCAB, "unplanted_int4_tensor": unplanted,
                     "layer_names": [f"{i // 4 + 1}.{n}" for i, n in
                                     enumerate(["qkv", "proj", "up", "down"] * LAYERS)]}
    numbers["plant_gap"] = (after - before).abs().max().item()
    numbers["plant_magnitude"] = before.abs().max().item()
    numbers["float"] = {"accuracy": scored_accuracy(after, Yt),
                        "bytes": sum(m.weight.nbytes for m in linears)}
    numbers["ratio_max_median"] = max(
        (m.weight.abs().max() / m.weight.abs().median()).item() for m in linears)
    total = len(SCHEMES) * len(BITS)
    for k, (bits, scheme) in enumerate((b, s) for b in BITS for s in SCHEMES):
        qnet, errors, nbytes = quantised(net, bits, scheme, p["group"])
        with torch.no_grad():
            acc = scored_accuracy(qnet(Xt), Yt)
        name = f"int{bits}-{scheme}"
        numbers[name] = {"accuracy": acc, "errors": errors, "bytes": nbytes}
        metrics = {"accuracy": acc, "error": max(errors)}
        if name == "int4-tensor":
            metrics.update({f"error/{i}": e for i, e in enumerate(errors, 1)})
        yield Log("quantise", k + 1, total, metrics, 1, 2)
    fa = numbers["float"]["accuracy"]
    numbers["per_tensor_int4_lost"] = not about_equal(numbers["int4-tensor"]["accuracy"], fa)
    numbers["effect"] = bool(not about_equal(numbers["int4-tensor"]["accuracy"], fa)
                             and about_equal(unplanted, fa)
                             and about_equal(numbers["int4-channel"]["accuracy"], fa)
                             and about_equal(numbers["int4-group"]["accuracy"], fa))
    return numbers


# --- the verdict: each sentence with the check that allows it --------------------------------


def _worst(n: dict, name: str) -> tuple[str, float]:
    errors = n[name]["errors"]
    i = max(range(len(errors)), key=errors.__getitem__)
    return n["layer_names"][i], errors[i]


def statements(n: dict) -> list[Statement]:
    fa, o = n["float"]["accuracy"], n["outlier"]
    acc = {k: n[k]["accuracy"] for k in n if k.startswith("int")}
    kept = {k: about_equal(a, fa) for k, a in acc.items()}
    layer, err = _worst(n, "int4-tensor")
    e8t, e8c = max(n["int8-tensor"]["errors"]), max(n["int8-channel"]["errors"])
    planted = o != 1
    u = n["unplanted_int4_tensor"]
    plain_kept = planted and about_equal(u, fa)
    fb = n["float"]["bytes"]
    table_en = "; ".join(f"{k} {acc[k]:.1%} ({n[k]['bytes']:,} B)" for k in acc)
    table_ko = "; ".join(f"{k} {acc[k]:.1%}({n[k]['bytes']:,} B)" for k in acc)
    broke = [k for k in acc if not kept[k]]
    fine = kept["int4-channel"] and kept["int4-group"]
    return [
        Statement("planted", f"Planting {n['channels']} outlier channels per block (q x {o}, "
                  f"k / {o}) left the logits the same (largest change {n['plant_gap']:.2g}); "
                  f"the largest weight is now {n['ratio_max_median']:.3g}x its Linear's median.",
                  f"블록마다 이상치 채널 {n['channels']}개를 심어도(q x {o}, k / {o}) 로짓은 "
                  f"같았고(최대 변화 {n['plant_gap']:.2g}), 가장 큰 가중치는 이제 그 Linear "
                  f"중앙값의 {n['ratio_max_median']:.3g}배입니다.",
                  planted and same_outputs(n["plant_gap"], n["plant_magnitude"])),
        Statement("no-outliers", f"No outlier channels were planted (outlier = 1); the largest "
                  f"weight is {n['ratio_max_median']:.3g}x its Linear's median.",
                  f"이상치 채널을 심지 않았습니다(outlier = 1). 가장 큰 가중치는 그 Linear "
                  f"중앙값의 {n['ratio_max_median']:.3g}배입니다.", not planted),
        Statement("table", f"Held-out accuracy: fp32 {fa:.1%} ({fb:,} B of block weights); "
                  f"{table_en}.",
                  f"검증 정확도: fp32 {fa:.1%}(블록 가중치 {fb:,} B); {table_ko}."),
        causal("outlier", ["outlier"] if planted else [], "tensor-broke",
               f"The outlier channels broke per-tensor int4: {acc['int4-tensor']:.1%} against "
               f"{fa:.1%}, where the same model before planting kept {u:.1%}; the worst Linear "
               f"is {layer} (relative weight error {err:.2g}).",
               f"이상치 채널이 텐서당 int4를 망가뜨렸습니다: {fa:.1%} 대신 "
               f"{acc['int4-tensor']:.1%}인데, 심기 전 같은 모델은 {u:.1%}를 지켰습니다. 가장 "
               f"나쁜 Linear는 {layer}입니다(상대 가중치 오차 {err:.2g}).",
               not kept["int4-tensor"] and plain_kept),
        Statement("tensor-lost",
                  f"Per-tensor int4 lost accuracy: {acc['int4-tensor']:.1%} against {fa:.1%} "
                  f"({u:.1%} before planting).",
                  f"텐서당 int4가 정확도를 잃었습니다: {fa:.1%} 대신 {acc['int4-tensor']:.1%}"
                  f"(심기 전 {u:.1%}).", not kept["int4-tensor"] and not plain_kept),
        Statement("tensor-kept", f"Per-tensor int4 kept the accuracy (within {CLOSE:.0%}).",
                  f"텐서당 int4는 정확도를 지켰습니다({CLOSE:.0%} 이내).", kept["int4-tensor"]),
        Statement("fine-kept", f"Per-channel and group-wise int4 kept it (within "
                  f"{CLOSE:.0%}).",
                  f"채널별과 그룹별 int4는 정확도를 지켰습니다({CLOSE:.0%} 이내).", fine),
        Statement("lost", f"More than {CLOSE:.0%} below fp32: {', '.join(broke)}.",
                  f"fp32보다 {CLOSE:.0%} 넘게 낮은 것: {', '.join(broke)}.", bool(broke)),
        Statement("int8-error", f"At int8 the worst relative weight error is {e8t:.2g} with "
                  f"one scale per tensor and {e8c:.2g} per channel.",
                  f"int8에서 가장 큰 상대 가중치 오차는 텐서당 스케일로 {e8t:.2g}, 채널별로 "
                  f"{e8c:.2g}입니다."),
        Statement("memory", f"int8 stores the block weights in {n['int8-channel']['bytes']:,} B "
                  f"per channel, int4 in {n['int4-group']['bytes']:,} B with group scales "
                  f"(fp32: {fb:,} B).",
                  f"int8 채널별은 블록 가중치를 {n['int8-channel']['bytes']:,} B, int4 그룹별은 "
                  f"{n['int4-group']['bytes']:,} B에 저장합니다(fp32: {fb:,} B)."),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
