"""Load + validate a generated 5,000-card bank; compare with a bare CSafeLoader parse.

Targets (issue 2): under 0.5 s on a 2-core machine, and within 2x of bare yaml.load.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_of, verdict  # noqa: E402

from dlprep.bank import load_paths  # noqa: E402

CARDS, FILES = 5000, 50
TYPES = [
    """- id: gen-{i}-mcq
  topic: activations
  type: mcq
  difficulty: 1
  tags: [map-3-1, generated]
  q:
    en: "Card {i}: what is the maximum derivative of the sigmoid function?"
    ko: "카드 {i}: 시그모이드 함수 도함수의 최댓값은?"
  choices: ["0.25", "0.5", "1", {{en: "unbounded", ko: "제한 없음"}}]
  answer: "0.25"
  explain:
    en: "σ'(x) = σ(x)(1 − σ(x)) peaks at x = 0, where σ = 0.5, giving 0.25."
    ko: "σ'(x) = σ(x)(1 − σ(x))는 σ = 0.5인 x = 0에서 최대 0.25다."
  refs: ["Goodfellow, Bengio & Courville, Deep Learning, MIT Press 2016, §6.3.2"]
""",
    """- id: gen-{i}-num
  topic: memory
  type: numeric
  difficulty: 2
  tags: [map-10-2]
  q:
    en: "Card {i}: bytes for {{n}} fp32 weights, gradients and Adam state?"
    ko: "카드 {i}: fp32 파라미터 {{n}}개의 가중치, 기울기, Adam 상태는 몇 바이트인가?"
  template:
    vars: {{n: [1000000, 2000000, 4000000]}}
    formula: "n * 4 * 4"
  unit: B
  tolerance: {{rel: 0.01}}
  explain:
    en: "Four fp32 tensors of the parameters' size: weights, gradients, exp_avg, exp_avg_sq."
    ko: "파라미터 크기의 fp32 텐서 네 개: 가중치, 기울기, exp_avg, exp_avg_sq."
  refs: ["PyTorch docs: torch.optim.Adam"]
""",
]


def generate(root: Path) -> None:
    per_file = CARDS // FILES
    for f in range(FILES):
        body = "".join(
            TYPES[i % len(TYPES)].format(i=i) for i in range(f * per_file, (f + 1) * per_file)
        )
        (root / f"bank-{f:03d}.yaml").write_text(body, encoding="utf-8")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root)
        files = sorted(root.glob("*.yaml"))

        def bare() -> None:
            for path in files:
                yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)

        def ours() -> None:
            bank = load_paths([root])
            assert len(bank.cards) == CARDS and not bank.problems, bank.problems[:3]

        t_bare = best_of(bare, repeat=3)
        t_ours = best_of(ours, repeat=3)
    ratio = t_ours / t_bare
    print(f"bank_load: {CARDS} cards in {FILES} files")
    print(f"  bare yaml.load(CSafeLoader)   {t_bare * 1000:7.1f} ms")
    print(f"  dlprep load + validate        {t_ours * 1000:7.1f} ms   "
          f"[{verdict(t_ours < 0.5)}: target < 500 ms]")
    print(f"  ratio to bare parse           {ratio:7.2f}x   "
          f"[{verdict(ratio <= 2.0)}: target <= 2x]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
