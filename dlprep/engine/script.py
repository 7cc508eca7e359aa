"""`--save-script`: one standalone Python file that reruns a demo with only torch installed.

The file is the demo's helpers (``demos/_kit.py`` and any other ``_`` helper it imports),
then the demo itself, then the settings and seed used and a ``__main__`` that prints the
verdict. Import lines of the helpers and ``from __future__`` lines are dropped because the
pasted code now defines those names in the same file. A demo that imports dlprep itself
(gpu-memory, built on memcalc) says in the header that the script needs dlprep installed.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from dlprep import __version__
from dlprep.engine.loader import helper_names, is_helper
from dlprep.engine.runner import check_request, cpu_threads

MAIN = '''
# ---- settings of this run ------------------------------------------------------------------
PARAMS = {params}
SEED = {seed}
NUM_STEPS = {steps}
DEVICE = {device!r}  # auto picks cuda, then mps, then cpu
CPU_THREADS = {threads}  # tiny nets: more threads only add contention


def _echo(entry: Log) -> None:
    if entry.step == entry.total:  # one line per run: where it ended
        shown = ", ".join(f"{{k}}={{v:.4g}}" for k, v in list(entry.metrics.items())[:4])
        print(f"{{entry.run:>12}}  step {{entry.step}}/{{entry.total}}  {{shown}}")


if __name__ == "__main__":
    torch.set_num_threads(CPU_THREADS)
    numbers = drain(run(dict(PARAMS), NUM_STEPS, SEED, pick_device(DEVICE)), echo=_echo)
    print(verdict(numbers))
'''


def _strip(source: str, keep_docstring: bool) -> str:
    """Drop ``from __future__`` and ``_helper`` imports; turn the docstring into comments."""
    tree = ast.parse(source)
    drop: set[int] = set()
    comment: list[str] = []
    for index, node in enumerate(tree.body):
        end = node.end_lineno or node.lineno
        lines = range(node.lineno, end + 1)
        if isinstance(node, ast.ImportFrom) and node.module and (
            node.module == "__future__" or (is_helper(node.module) and node.level == 0)
        ):
            drop.update(lines)
        elif isinstance(node, ast.Import) and any(is_helper(a.name) for a in node.names):
            drop.update(lines)
        elif (index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
              and isinstance(node.value.value, str)):
            drop.update(lines)
            if keep_docstring:
                comment = ["# " + line if line else "#"
                           for line in node.value.value.strip().splitlines()]
    kept = [line for number, line in enumerate(source.splitlines(), 1) if number not in drop]
    return "\n".join(comment + kept).strip() + "\n"


def uses_dlprep(source: str) -> bool:
    """Whether a demo or helper imports dlprep itself (gpu-memory is built on memcalc)."""
    for node in ast.parse(source).body:
        names = ([node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0
                 else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        if any(name == "dlprep" or name.startswith("dlprep.") for name in names):
            return True
    return False


def script_text(name: str, params: Mapping[str, object] | None = None, *, seed: int = 0,
                steps: int | None = None, device: str = "auto") -> str:
    """The standalone script for ``name`` with validated ``params`` (raises DemoError)."""
    info, values = check_request(name, params, device, seed, steps)
    from dlprep.engine.loader import load_demo

    source = info.path.read_text(encoding="utf-8")
    module = load_demo(info.path)
    num_steps = steps if steps is not None else int(module.META.get("steps", 100))
    helpers = helper_names(source)
    if "_kit" not in helpers:
        helpers.append("_kit")  # pick_device and drain live there
    texts = [source] + [(info.path.parent / f"{h}.py").read_text(encoding="utf-8")
                        for h in helpers]
    needs = ("a standalone copy that needs torch and dlprep (it imports dlprep; "
             "pip install dlprep)" if any(uses_dlprep(t) for t in texts)
             else "a standalone copy that needs only torch")
    parts = [
        "#!/usr/bin/env python3",
        f'"""dlprep demo {info.name}: {needs}.\n\n'
        f"Claim: {info.claim}\n\nSaved by dlprep {__version__}. Run: python THIS_FILE\n\"\"\"",
        "",
        "from __future__ import annotations",
        "",
    ]
    for helper in helpers:
        text = (info.path.parent / f"{helper}.py").read_text(encoding="utf-8")
        parts += [f"# ---- helpers from dlprep demos/{helper}.py " + "-" * 40,
                  _strip(text, keep_docstring=False)]
    parts += [f"# ---- the demo: dlprep demos/{info.path.name} " + "-" * 40,
              _strip(source, keep_docstring=True)]
    parts.append(MAIN.format(params=repr(dict(values)), seed=seed, steps=num_steps,
                             device=device, threads=cpu_threads(module)))
    return "\n".join(parts)


def save_script(path: Path, name: str, params: Mapping[str, object] | None = None, *,
                seed: int = 0, steps: int | None = None, device: str = "auto") -> Path:
    path.write_text(script_text(name, params, seed=seed, steps=steps, device=device),
                    encoding="utf-8")
    return path
