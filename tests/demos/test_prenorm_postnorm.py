"""prenorm-postnorm: at 12 blocks and lr 0.003 without warm-up, post-norm's gradient fades on
its way down the stack and it stays at a uniform guess while pre-norm learns; in a 2-block
stack (the control) both learn and no gradient fades."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from dlprep.engine import Step, final_result, stream
from dlprep.engine.loader import load_helper
from dlprep.engine.script import script_text
from dlprep.paths import demos_dir

NAME = "prenorm-postnorm"


def test_post_norm_gradient_fades_and_it_does_not_learn_while_pre_norm_does(demo: Any) -> None:
    result = demo.run(0)
    n, pre, post = result.numbers, result.numbers["pre"], result.numbers["post"]
    assert n["effect"] is True and n["num_layers"] == 12 and n["warmup"] == 0
    # At init post-norm's last block gets a few times pre-norm's gradient (Xiong et al.:
    # their bounds differ by sqrt(12) = 3.46), and no block of either stack is starved yet.
    assert 2 < n["init_ratio"] < 6
    assert all(v > 0.3 for v in post["grad_init"] + pre["grad_init"])
    # After 40 steps at lr 0.003: post-norm's weakest block has under 1/10 of the last
    # block's gradient (measured 0.0021, block 1); pre-norm's weakest still about all of it.
    assert post["reach"] < 0.01 and post["weakest"] == 1
    assert pre["reach"] > 0.5 and pre["grad_end"][0] > pre["grad_end"][-1]
    assert post["grad_end"][0] < post["grad_init"][0] / 100  # block 1 lost its gradient
    # The consequence: pre-norm learned the copy, post-norm stayed at the uniform guess.
    assert pre["accuracy"] > 0.5 and pre["loss"] < 0.6 * n["floor"]
    assert post["accuracy"] < n["chance"] + 0.05
    assert post["loss"] == pytest.approx(math.log(16), abs=0.1)
    assert demo.printed(n) == ["setup", "reach", "faded", "accuracy", "post-failed"]
    assert f"block {post['weakest']}, has {post['reach']:.2g} times" in result.verdict


@pytest.mark.parametrize("seed", [1, 2])
def test_the_gradient_fades_in_post_norm_only_at_other_seeds(demo: Any, seed: int) -> None:
    n = demo.run(seed).numbers
    assert n["post"]["reach"] < 0.1 <= 0.5 < n["pre"]["reach"]
    assert n["pre"]["learned"] and not n["post"]["learned"]


def test_a_shallow_stack_is_the_control_where_both_learn(demo: Any) -> None:
    result = demo.run(0, **demo.control)
    n = result.numbers
    assert n["effect"] is False and n["num_layers"] == 2
    assert n["pre"]["learned"] and n["post"]["learned"]
    assert n["pre"]["reach"] > 0.5 and n["post"]["reach"] > 0.5
    assert abs(n["pre"]["accuracy"] - n["post"]["accuracy"]) < 0.1
    assert demo.printed(n) == ["setup", "reach", "reaches", "accuracy", "both-learned"]


def test_a_diverged_run_is_said_and_not_compared(demo: Any) -> None:
    n = dict(demo.run(0).numbers)
    n["post"] = {**n["post"], "finite": False, "diverged_at": 7}
    printed = demo.printed(n)
    assert printed[:2] == ["setup", "diverged"]
    assert not {"reach", "faded", "reaches", "accuracy", "post-failed"} & set(printed)
    assert "post-norm at step 7" in demo.module.verdict(n)


def test_block_gradients_are_streamed_per_block_for_both_runs_and_runs_repeat() -> None:
    def events() -> list:
        return list(stream(NAME, device="cpu", seed=1, steps=3, params={"num_layers": 3}))

    first, again = events(), events()
    for run in ("pre", "post"):
        steps = [e for e in first if isinstance(e, Step) and e.run == run]
        assert [s.step for s in steps] == [1, 2, 3]
        assert {"grad/1", "grad/2", "grad/3"} <= set(steps[-1].metrics)
        assert "grad/4" not in steps[-1].metrics
    assert first[-1].numbers == again[-1].numbers


def test_post_norm_blocks_normalise_each_residual_sum_and_pre_norm_is_unchanged() -> None:
    gpt = load_helper("_gpt", demos_dir())
    X = torch.randint(0, 9, (4, 6))
    torch.manual_seed(0)
    post = gpt.GPT(10, 16, 2, 2, 8, norm="post")
    h = post.blocks[0](post.tok(X) + post.wpe(torch.arange(6)))
    assert h.mean(-1).abs().max() < 1e-5  # LayerNorm's output, gamma 1 and beta 0 at init
    assert h.std(-1, unbiased=False).sub(1).abs().max() < 1e-3
    assert isinstance(post.ln_f, torch.nn.Identity)
    torch.manual_seed(0)
    default = gpt.GPT(10, 16, 2, 2, 8)
    torch.manual_seed(0)
    pre = gpt.GPT(10, 16, 2, 2, 8, norm="pre")
    assert torch.equal(default(X), pre(X))  # the other demos' model, the same draws
    with pytest.raises(ValueError, match="unknown norm placement 'middle'"):
        gpt.GPT(10, 16, 2, 2, 8, norm="middle")


def test_saved_script_runs_with_only_torch_and_prints_the_verdict(tmp_path: Path) -> None:
    params = {"num_layers": 2, "length": 2}
    text = script_text(NAME, params, seed=3, device="cpu", steps=2)
    assert "from _gpt" not in text and "class GPT" in text and 'norm == "post"' in text
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    for helper in ("dlprep", "_kit", "_gpt", "_verdict"):
        (blocker / f"{helper}.py").write_text("raise ImportError('not allowed')\n")
    script = tmp_path / "prenorm.py"
    script.write_text(text, encoding="utf-8")
    ran = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(blocker), "PATH": ""},
                         timeout=300)
    assert ran.returncode == 0, ran.stderr
    expected = final_result(NAME, device="cpu", seed=3, steps=2, params=params).verdict
    assert ran.stdout.splitlines()[-1] == expected
