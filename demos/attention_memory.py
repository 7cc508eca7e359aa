"""Attention memory: what autograd keeps for backward, math attention against fused SDPA.

Math attention builds the scores q k^T and their softmax p, one B x H x T x T tensor each,
and autograd keeps p (and copies of q, k and v) until the backward pass: the saved bytes
grow with T^2. A fused kernel (``scaled_dot_product_attention``'s flash or memory-efficient
path, Dao et al. 2022, "FlashAttention") never writes p out: it keeps q, k, v, the output
and one log-sum-exp per row, and recomputes the probabilities tile by tile in backward.
Everything it keeps is B x T x something, so the saved bytes grow linearly in T.

The demo builds one small causal attention stack (q, k, v and an output projection per
layer, the same layout as memcalc's GPT) and, for T doubling up to ``max_T``, runs one
forward with math attention and one with SDPA on the same weights and input. A
``saved_tensors_hooks`` context around each layer's attention core records every tensor
autograd saves; we count each storage once (p is saved twice, by softmax and by p @ v) and
leave out the causal mask, a buffer the model holds anyway. A backward pass checks that
both paths give the same gradients. The control is a short ``max_T``, where B x H x T^2 is
small against B x T x d and the two paths save about the same.
"""

from __future__ import annotations

import math

import torch
from _kit import Log
from _verdict import LEVEL, Statement, about_level, causal, render, same_outputs
from torch import nn
from torch.nn import functional as F

META = {
    "name": "attention-memory",
    "claim": "The bytes autograd saves for math attention grow with T^2 (the B x H x T x T "
             "probabilities), while scaled_dot_product_attention's fused path saves only "
             "B x T-sized tensors and grows linearly; at short T the two are about equal.",
    "claim_ko": "수식 그대로의 어텐션에서 autograd가 저장하는 바이트는 T^2에 비례해 늘고"
                "(B x H x T x T 확률 행렬), scaled_dot_product_attention의 융합 경로는 "
                "B x T 크기의 텐서만 저장해 선형으로 늘어난다. T가 짧으면 둘은 거의 같다.",
    "cpu_seconds": 0.2,
    "metric": "saved_bytes",
    "steps": 8,
    "control": {"max_T": 8},
    "layers": {"prefix": "saved/", "label": "bytes saved per layer's attention (math run)",
               "label_ko": "층별 어텐션이 저장한 바이트(수식 어텐션 실행)"},
    "params": {
        "max_T": {"default": 256, "choices": [4, 8, 16, 32, 64, 128, 256],
                  "help": "longest sequence (T doubles from 2 up to it)"},
        "batch": {"default": 4, "help": "sequences per batch", "min": 1, "max": 16},
        "num_layers": {"default": 2, "help": "attention layers", "min": 1, "max": 4},
        "d_model": {"default": 64, "choices": [32, 64, 128], "help": "model width"},
        "heads": {"default": 4, "choices": [1, 2, 4, 8], "help": "attention heads"},
    },
}
MODES = ("math", "sdpa")
QUADRATIC = 1.5  # growth exponent over the last doubling above this: "grows like T^2"


class Layer(nn.Module):
    """q, k, v and output projections around an attention core (memcalc's GPT layout)."""

    def __init__(self, d_model: int, n_head: int, max_len: int) -> None:
        super().__init__()
        self.n_head, self.head_dim = n_head, d_model // n_head
        self.q, self.k, self.v, self.o = (nn.Linear(d_model, d_model) for _ in range(4))
        self.register_buffer("mask", torch.ones(max_len, max_len, dtype=torch.bool).triu(1))
        self.saved: list[torch.Tensor] = []

    def core(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mode: str):
        if mode == "sdpa":
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        T = q.shape[-2]
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        p = F.softmax(scores.masked_fill(self.mask[:T, :T], float("-inf")), dim=-1)
        return p @ v

    def forward(self, x: torch.Tensor, mode: str) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (f(x).view(B, T, self.n_head, self.head_dim).transpose(1, 2)
                   for f in (self.q, self.k, self.v))
        self.saved = []
        with torch.autograd.graph.saved_tensors_hooks(self._keep, lambda t: t):
            y = self.core(q, k, v, mode)
        return x + self.o(y.transpose(1, 2).reshape(B, T, C))

    def _keep(self, t: torch.Tensor) -> torch.Tensor:
        self.saved.append(t)
        return t

    def saved_bytes(self) -> int:
        """Bytes of the distinct storages the core saved, the mask buffer left out."""
        mask = self.mask.untyped_storage().data_ptr()
        seen = {}
        for t in self.saved:
            s = t.untyped_storage()
            if s.data_ptr() != mask:
                seen[s.data_ptr()] = s.nbytes()
        return sum(seen.values())


def lengths(max_T: int, num_steps: int) -> list[int]:
    """T = 2, 4, ... max_T; ``num_steps`` keeps the longest that many."""
    Ts = [2 ** i for i in range(1, int(math.log2(max_T)) + 1)]
    return Ts[-max(1, num_steps):]


def run(p: dict, num_steps: int, seed: int, device: torch.device):
    B, d, H, L = p["batch"], p["d_model"], p["heads"], p["num_layers"]
    Ts = lengths(p["max_T"], num_steps)
    torch.manual_seed(seed)
    net = nn.ModuleList(Layer(d, H, Ts[-1]) for _ in range(L)).to(device)
    g = torch.Generator().manual_seed(seed)
    element = 4  # float32
    numbers: dict = {"batch": B, "d_model": d, "heads": H, "n_layer": L, "T": Ts,
                     "element": element}
    runs: dict = {m: {"saved": [], "per_layer": []} for m in MODES}
    gaps, sizes = [], []
    for step, T in enumerate(Ts, 1):
        X = torch.randn(B, T, d, generator=g).to(device)
        outs, grads = {}, {}
        for part, mode in enumerate(MODES):
            x = X.clone().requires_grad_(True)
            h = x
            for layer in net:
                h = layer(h, mode)
            per_layer = [layer.saved_bytes() for layer in net]
            h.square().sum().backward()
            outs[mode], grads[mode] = h.detach(), x.grad
            r = runs[mode]
            r["saved"].append(sum(per_layer))
            r["per_layer"].append(per_layer)
            metrics = {"saved_bytes": float(sum(per_layer)), "T": float(T)}
            if mode == "math":
                metrics.update({f"saved/{i}": float(b) for i, b in enumerate(per_layer, 1)})
            yield Log(mode, step, len(Ts), metrics, part, 2)
        gaps.append(max((outs["math"] - outs["sdpa"]).abs().max().item(),
                        (grads["math"] - grads["sdpa"]).abs().max().item()))
        sizes.append(max(outs["math"].abs().max().item(), grads["math"].abs().max().item()))
    numbers.update(runs)
    numbers["gap"], numbers["magnitude"] = max(gaps), max(sizes)
    numbers["formula"] = {m: [L * formula(m, B, T, d, H, element) for T in Ts] for m in MODES}
    m, s = runs["math"]["saved"], runs["sdpa"]["saved"]
    numbers["ratio"] = m[-1] / s[-1]
    numbers["growth"] = {k: growth(v["saved"], Ts) for k, v in runs.items()}
    numbers["effect"] = bool(numbers["growth"]["math"] is not None
                             and numbers["growth"]["math"] > QUADRATIC
                             and numbers["ratio"] > LEVEL)
    return numbers


def formula(mode: str, B: int, T: int, d: int, H: int, element: int) -> int:
    """One layer's saved bytes. Math: copies of q, k (transposed) and v for the matmuls, and
    p. SDPA: q, k, v, the output, and a float32 log-sum-exp per (batch, head, row)."""
    if mode == "math":
        return 3 * B * T * d * element + B * H * T * T * element
    return 4 * B * T * d * element + B * H * T * 4


def growth(saved: list[int], Ts: list[int]) -> float | None:
    """Exponent k in saved ~ T^k over the last doubling of T (None with one length)."""
    if len(Ts) < 2:
        return None
    return math.log(saved[-1] / saved[-2]) / math.log(Ts[-1] / Ts[-2])


# --- the verdict: each sentence with the check that allows it --------------------------------


def statements(n: dict) -> list[Statement]:
    Ts, B, H, d, L = n["T"], n["batch"], n["heads"], n["d_model"], n["n_layer"]
    m, s = n["math"]["saved"], n["sdpa"]["saved"]
    gm, gs = n["growth"]["math"], n["growth"]["sdpa"]
    exact = m == n["formula"]["math"] and s == n["formula"]["sdpa"]
    layers_equal = all(about_level(row) and len(set(row)) == 1 for row in n["math"]["per_layer"])
    sweep = len(Ts) >= 2
    quadratic = sweep and gm is not None and gm > QUADRATIC
    probs = B * H * Ts[-1] ** 2 * n["element"] * L
    return [
        Statement("measured",
                  f"At T = {Ts[-1]} (batch {B}, {H} heads, width {d}, {L} layers) autograd saved "
                  f"{m[-1]:,} bytes for math attention and {s[-1]:,} for SDPA "
                  f"({n['ratio']:.3g}x).",
                  f"T = {Ts[-1]}(배치 {B}, 헤드 {H}개, 폭 {d}, {L}층)에서 autograd가 "
                  f"저장한 바이트는 수식 어텐션이 {m[-1]:,}, SDPA가 {s[-1]:,}입니다"
                  f"({n['ratio']:.3g}배)."),
        Statement("formula",
                  "Both match their formula at every T: math 3 x B x T x d x 4 + B x H x T^2 "
                  "x 4 per layer, SDPA 4 x B x T x d x 4 + B x H x T x 4.",
                  "모든 T에서 두 값이 공식과 일치합니다: 층마다 수식 어텐션은 3 x B x T x d x 4 + "
                  "B x H x T^2 x 4, SDPA는 4 x B x T x d x 4 + B x H x T x 4.", exact),
        Statement("growth",
                  f"Doubling T from {Ts[-2] if sweep else Ts[-1]} to {Ts[-1]} multiplied the "
                  f"math bytes by {m[-1] / m[-2] if sweep else 1:.3g} (T^{gm or 0:.2f}) and the "
                  f"SDPA bytes by {s[-1] / s[-2] if sweep else 1:.3g} (T^{gs or 0:.2f}).",
                  f"T를 {Ts[-2] if sweep else Ts[-1]}에서 {Ts[-1]}로 두 배 늘리자 수식 어텐션의 "
                  f"바이트는 {m[-1] / m[-2] if sweep else 1:.3g}배(T^{gm or 0:.2f}), SDPA는 "
                  f"{s[-1] / s[-2] if sweep else 1:.3g}배(T^{gs or 0:.2f})가 되었습니다.", sweep),
        causal("attention", ["attention"], "quadratic",
               f"The T x T probabilities caused it: math attention kept {probs:,} bytes of them, "
               f"which SDPA never stores.",
               f"원인은 T x T 확률 행렬입니다: 수식 어텐션은 그중 {probs:,}바이트를 보관했고 "
               f"SDPA는 이를 저장하지 않습니다.", quadratic and n["ratio"] > LEVEL),
        Statement("level",
                  f"At this length the two are within {LEVEL:g}x: the T^2 term is still small "
                  f"against the B x T x d copies.",
                  f"이 길이에서는 둘이 {LEVEL:g}배 안에 있습니다: T^2 항이 아직 B x T x d 크기의 "
                  f"복사본보다 작습니다.", about_level([m[-1], s[-1]])),
        Statement("layers", f"Every layer saved the same ({m[-1] // L:,} bytes at T = {Ts[-1]}).",
                  f"모든 층이 같은 양을 저장했습니다(T = {Ts[-1]}에서 {m[-1] // L:,}바이트).",
                  layers_equal),
        Statement("same", f"Outputs and input gradients agree (largest difference "
                  f"{n['gap']:.2g}): only the memory differs.",
                  f"출력과 입력 기울기는 일치합니다(최대 차이 {n['gap']:.2g}). "
                  f"다른 것은 메모리뿐입니다.",
                  same_outputs(n["gap"], n["magnitude"])),
        Statement("differ", f"Outputs or gradients differ by up to {n['gap']:.2g}.",
                  f"출력이나 기울기가 최대 {n['gap']:.2g}만큼 다릅니다.",
                  not same_outputs(n["gap"], n["magnitude"])),
    ]


def verdict(n: dict, lang: str = "en") -> str:
    return render(statements(n), lang)
