"""Demo settings that META's ranges accept one by one but the demo cannot run together
(issue 25, "demo links whose params validate only at run time"): refused by the registry's
rule before torch is imported, with one line and exit 2. The card files of this class are
files/demo-params-*.yaml (`bank validate` names their file:line).

Registered into ``cases.CASES`` on import.
"""

from __future__ import annotations

from pathlib import Path

from .cases import Run, case

# The child dies with exit 99 the moment anything imports torch: a refusal that needs
# torch (a demo's own run-time check) cannot pass as the one clean line of exit 2.
NO_TORCH = """
import os, sys
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            sys.stderr.write("torch imported for " + name + "\\n")
            os._exit(99)
sys.meta_path.insert(0, _NoTorch())
"""
GPU_MEMORY = ["demo", "gpu-memory", "--plain", "--device", "cpu"]


@case("demo-set-layers-too-big-for-the-demo")
def _too_big(tmp: Path, home: Path) -> Run:
    return Run([*GPU_MEMORY, "--set", "layers=784,100000,100000,10"],
               "layers 784,100000,100000,10", exit_code=2, lines=1, prelude=NO_TORCH)


@case("demo-set-a-batch-in-range-too-big-for-the-default-layers")
def _batch_too_big(tmp: Path, home: Path) -> Run:
    return Run([*GPU_MEMORY, "--set", "batch=65536"], "at batch 262144", exit_code=2,
               lines=1, prelude=NO_TORCH)


@case("demo-set-checkpointing-without-a-hidden-layer")
def _checkpointing(tmp: Path, home: Path) -> Run:
    return Run([*GPU_MEMORY, "--set", "layers=784,10", "--set", "checkpointing=yes"],
               "checkpointing recomputes hidden blocks", exit_code=2, lines=1,
               prelude=NO_TORCH)


@case("demo-save-script-with-settings-the-demo-cannot-run")
def _save_script(tmp: Path, home: Path) -> Run:
    mine = tmp / "mine.py"
    mine.write_text("# my own script\n")
    return Run(["demo", "gpu-memory", "--set", "layers=784", "--save-script", str(mine),
                "--force"], "layers must be positive widths", exit_code=2, lines=1,
               precious=[mine], prelude=NO_TORCH)
