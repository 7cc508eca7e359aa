"""Load a demo file by path, with the `demos/_*.py` helpers it imports.

Demos are plain files (shipped as ``dlprep/demos/`` in the wheel), never a ``demos``
package, so each is executed from its path. A demo imports helpers with
``from _kit import ...``; those helper files are loaded by path too and registered under
their own name in :data:`sys.modules` so the import statement resolves.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def is_helper(module: str | None) -> bool:
    return bool(module) and module.startswith("_") and not module.startswith("__")  # type: ignore[union-attr]


def helper_names(source: str) -> list[str]:
    """Names of the ``_helper`` modules a demo source imports, in order of first use."""
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and is_helper(node.module):
            found = [node.module or ""]
        elif isinstance(node, ast.Import):
            found = [a.name for a in node.names if is_helper(a.name)]
        else:
            continue
        names += [name for name in found if name not in names]
    return names


def _exec(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before exec: dataclasses and pickling look the module up by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def load_helper(name: str, directory: Path) -> ModuleType:
    path = directory / f"{name}.py"
    loaded = sys.modules.get(name)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "") == path:
        return loaded
    if not path.is_file():
        raise ImportError(f"demo helper {name!r} not found in {directory}")
    return _exec(name, path)


def load_demo(path: Path) -> ModuleType:
    """Execute a demo file (a fresh module each time) after loading its helpers."""
    for helper in helper_names(path.read_text(encoding="utf-8")):
        load_helper(helper, path.parent)
    return _exec(f"dlprep_demo_{path.stem}", path)
