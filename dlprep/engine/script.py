"""`--save-script`: one standalone Python file that reruns a demo with only torch installed.

The file is a short header (what it is, how to run it), then only the helper code the demo
uses (from ``demos/_kit.py`` and any other ``_`` helper it imports: the definitions the demo
and the script's ``__main__`` name, and what those need in turn), then the demo itself,
then the settings and seed used and a ``__main__`` that prints one line per run and the
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


_last: list[Log] = []  # the latest record of the run under way


def _print_run(entry: Log) -> None:
    """One line per run, where it ended: its last step, or the step where it blew up."""
    shown = [(k, v) for k, v in entry.metrics.items() if not k.rsplit("/", 1)[-1].isdigit()]
    text = ", ".join(f"{{k}}={{v:.4g}}" for k, v in shown[:4])
    blown = any(v != v or v in (float("inf"), float("-inf")) for v in entry.metrics.values())
    print(f"{{entry.run:>12}}  step {{entry.step}}/{{entry.total}}  {{text}}"
          + ("  (inf/NaN: stopped)" if blown else ""))


def _echo(entry: Log) -> None:
    if _last and _last[0].run != entry.run:  # the previous run is over, however early
        _print_run(_last[0])
    _last[:] = [entry]


if __name__ == "__main__":
    torch.set_num_threads(CPU_THREADS)
    numbers = drain(run(dict(PARAMS), NUM_STEPS, SEED, pick_device(DEVICE)), echo=_echo)
    if _last:
        _print_run(_last[0])
    print(verdict(numbers))
'''

# Names the __main__ above uses from the helpers, besides what the demo imports.
MAIN_NEEDS = {"Log", "drain", "pick_device", "torch"}


def _bound(node: ast.stmt) -> set[str]:
    """Top-level names a statement defines."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.value.id for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}


def _prune(source: str, wanted: set[str]) -> str:
    """Only what a helper must define for ``wanted`` names: the top-level statements that
    bind them and, transitively, what those use; import lines cut to the names needed."""
    body = [node for node in ast.parse(source).body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    imports = [node for node in body if isinstance(node, ast.Import | ast.ImportFrom)]
    code = [node for node in body if node not in imports]
    needed, keep, todo = set(wanted), set(), set(wanted)
    while todo:
        name = todo.pop()
        for index, node in enumerate(code):
            if index not in keep and name in _bound(node):
                keep.add(index)
                new = _used(node) - needed
                needed |= new
                todo |= new
    lines = source.splitlines()
    head: list[str] = []
    for node in imports:
        names = [a for a in node.names if (a.asname or a.name).split(".")[0] in needed]
        if not names:
            continue
        listed = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in names)
        module = node.module if isinstance(node, ast.ImportFrom) else names[0].name
        if (module or "").split(".")[0] == "torch" and head and "torch" not in head[-1]:
            head.append("")  # third-party imports after the standard library's
        head.append(f"from {node.module} import {listed}" if isinstance(node, ast.ImportFrom)
                    else f"import {listed}")
    chunks = []
    for index in sorted(keep):
        node = code[index]
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        chunks.append("\n".join(lines[first - 1:node.end_lineno]))
    return "\n".join(head) + "\n\n\n" + "\n\n\n".join(chunks)


def _imported_from(source: str, helper: str) -> set[str]:
    return {a.asname or a.name for node in ast.parse(source).body
            if isinstance(node, ast.ImportFrom) and node.module == helper for a in node.names}


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
    needs = ("a script that needs torch and dlprep (it imports dlprep; pip install dlprep)"
             if any(uses_dlprep(t) for t in texts)
             else "a standalone script (needs only torch)")
    parts = [
        "#!/usr/bin/env python3",
        f'"""dlprep demo {info.name}, saved as {needs}.\n\n'
        f"Claim: {info.claim}\n\nIt reruns the demo with the settings and seed below, prints "
        f"one line per run and the verdict.\nSaved by dlprep {__version__}. Run: python "
        f"THIS_FILE\n\"\"\"",
        "",
        "from __future__ import annotations",
        "",
    ]
    for helper in helpers:
        text = (info.path.parent / f"{helper}.py").read_text(encoding="utf-8")
        wanted = _imported_from(source, helper) | (MAIN_NEEDS if helper == "_kit" else set())
        parts += [f"# ---- from dlprep demos/{helper}.py: only what this demo uses " + "-" * 20,
                  _prune(_strip(text, keep_docstring=False), wanted) + "\n"]
    parts += [f"# ---- the demo: dlprep demos/{info.path.name} " + "-" * 40,
              _strip(source, keep_docstring=True)]
    parts.append(MAIN.format(params=repr(dict(values)), seed=seed, steps=num_steps,
                             device=device, threads=cpu_threads(module)))
    return "\n".join(parts)


def save_script(path: Path, name: str, params: Mapping[str, object] | None = None, *,
                seed: int = 0, steps: int | None = None, device: str = "auto") -> Path:
    from dlprep.atomic import replace_atomically

    text = script_text(name, params, seed=seed, steps=steps, device=device)
    # like an export: a full disk or a crash leaves the old script whole, never half of one
    replace_atomically(path, lambda temp: temp.write_text(text, encoding="utf-8"))
    return path
