"""Keep `torch._dynamo` out of a demo run unless something really needs it.

Every `torch.optim` optimizer imports `torch._dynamo` lazily: its ``step`` wrapper calls
``torch._dynamo.graph_break()`` and ``add_param_group``/``zero_grad`` go through
``torch._dynamo.disable``. Outside `torch.compile` both are no-ops, yet the import costs
about as much as `import torch` itself (0.8 s of a 1.3 s torch import on a quiet 2-core
machine, 9 s of 9 s under load): the largest single cost of a demo's default run.

:func:`defer_dynamo` registers a stand-in module under that name which answers those two
no-op calls itself. Anything else asked of it (``torch.compile``, ``torch._dynamo.config``,
a submodule) swaps in the real module first, so nothing changes for code that compiles.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

NAME = "torch._dynamo"


class _Deferred(types.ModuleType):
    """Answers ``graph_break`` and ``disable`` (no-ops in eager mode); loads the real module
    for anything else."""

    deferred = True

    @staticmethod
    def graph_break() -> None:
        return None

    @staticmethod
    def disable(fn: Callable[..., Any] | None = None, recursive: bool = True,
                wrapping: bool = True, **_: Any) -> Any:
        # torch._dynamo.disable(fn) returns fn run without tracing: without a tracer, fn.
        return fn if fn is not None else (lambda f: f)

    def __getattr__(self, attr: str) -> Any:
        return getattr(load_real(), attr)


class _Existing(importlib.abc.Loader):
    """Hands importlib a module that loading the real package already created."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _SubmoduleFinder(importlib.abc.MetaPathFinder):
    """``import torch._dynamo.x`` while the stand-in is installed: load the real package
    first (it imports its submodules), then give importlib the module it made."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if not name.startswith(NAME + "."):
            return None
        load_real()
        module = sys.modules.get(name)
        return None if module is None else importlib.util.spec_from_loader(name, _Existing(module))


_FINDER = _SubmoduleFinder()


def load_real() -> types.ModuleType:
    """The real ``torch._dynamo``, imported now if only the stand-in was there."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    module = sys.modules.get(NAME)
    if module is None or getattr(module, "deferred", False):
        torch = sys.modules["torch"]
        sys.modules.pop(NAME, None)
        torch.__dict__.pop("_dynamo", None)
        module = importlib.import_module(NAME)
    return module


def defer_dynamo() -> bool:
    """Install the stand-in unless the real module is already loaded; True if installed."""
    if NAME in sys.modules:
        return False
    import torch

    stand_in = _Deferred(NAME, __doc__)
    # A submodule import (torch._dynamo.x) finds its file through the real package's path.
    stand_in.__path__ = [str(Path(torch.__file__).parent / "_dynamo")]
    sys.modules[NAME] = stand_in
    torch._dynamo = stand_in
    sys.meta_path.insert(0, _FINDER)
    return True
