"""The engine keeps torch._dynamo's import out of a demo run, without breaking code that
really needs it (each check runs in a fresh interpreter: the stand-in is process-wide)."""

from __future__ import annotations

import subprocess
import sys

RUN_A_DEMO = """
import sys
from dlprep.engine import final_result
result = final_result("exploding-gradient", device="cpu", seed=0, steps=5)
module = sys.modules["torch._dynamo"]
print(getattr(module, "deferred", False), "torch._dynamo.utils" in sys.modules,
      result.numbers["effect"])
"""

NEEDS_THE_REAL_ONE = """
import sys, torch
from dlprep.engine.lean import defer_dynamo
assert defer_dynamo() and not defer_dynamo()  # a second call changes nothing
net = torch.nn.Linear(2, 2)
opt = torch.optim.Adam(net.parameters(), lr=0.1)
net(torch.ones(1, 2)).sum().backward()
opt.step()
assert getattr(sys.modules["torch._dynamo"], "deferred", False)
import torch._dynamo.utils  # a submodule: the real package is loaded first
real = sys.modules["torch._dynamo"]
assert not getattr(real, "deferred", False) and torch._dynamo is real
assert torch._dynamo.utils is sys.modules["torch._dynamo.utils"]
assert isinstance(torch._dynamo.config.cache_size_limit, int)
opt.step()
print("ok")
"""


def python(code: str) -> str:
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.split()


def test_a_demo_run_does_not_import_dynamo() -> None:
    assert python(RUN_A_DEMO) == ["True", "False", "True"]


def test_anything_else_gets_the_real_module() -> None:
    assert python(NEEDS_THE_REAL_ONE) == ["ok"]
