"""How a saved notebook reads: it opens on the claim and the experiment (the shared helpers
come after, folded), and its per-layer bars use a log axis only for a spread over 10x."""

from __future__ import annotations

import ast
from types import SimpleNamespace

import pytest

from dlprep.engine.loader import helper_names
from dlprep.export.notebook import PLOT, notebook
from dlprep.registry import registry
from dlprep.study.strings import t


def test_the_notebook_opens_on_the_claim_and_the_experiment() -> None:
    nb = notebook("dying-relu")
    heads = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    experiment = heads.index(t("nb_demo", "en"))
    helpers = heads.index(t("nb_helpers", "en").splitlines()[0])
    assert experiment < helpers and experiment <= 3  # title, claim, parameters, experiment
    code = [c for c in nb.cells if c.cell_type == "code"]
    folded = [c for c in code if c.metadata.get("jupyter", {}).get("source_hidden")]
    assert len(folded) == 1 and "def pick_device" in folded[0].source  # only the helpers


def _module_level_loads(source: str) -> set[str]:
    """Names the module reads while it is being executed (not inside function bodies)."""
    tree = ast.parse(source)
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # only decorators and defaults run at definition time
            parts = [*getattr(node, "decorator_list", []), *node.args.defaults,
                     *[d for d in node.args.kw_defaults if d is not None]]
            for part in parts:
                visit(part)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_demo_defines_before_the_helpers_it_calls(name: str) -> None:
    """The helpers' cell comes after the experiment's: that is only right while the demo's
    module level uses none of the helpers' names, only its functions do."""
    info = registry()[name]
    source = info.path.read_text(encoding="utf-8")
    helpers: set[str] = set()
    for helper in [*helper_names(source), "_kit"]:
        tree = ast.parse((info.path.parent / f"{helper}.py").read_text(encoding="utf-8"))
        helpers |= {n.name for n in tree.body
                    if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        helpers |= {t.id for n in tree.body if isinstance(n, ast.Assign)
                    for t in n.targets if isinstance(t, ast.Name)}
    assert not _module_level_loads(source) & helpers


def _records(values: dict[str, float]) -> list[SimpleNamespace]:
    return [SimpleNamespace(run=run, step=step, total=2,
                            metrics={"loss": 1.0 / step, **values})
            for run in ("relu", "leaky") for step in (1, 2)]


@pytest.mark.parametrize(("values", "scale"), [
    ({"stuck/1": 0.35, "stuck/2": 0.37, "stuck/3": 0.0}, "linear"),  # shares, one of them 0
    ({"grad_norm/1": 1e-4, "grad_norm/2": 1e-2, "grad_norm/3": 1.0}, "log"),  # spans 10^4
])
def test_per_layer_bars_use_a_log_axis_only_for_a_wide_spread(values: dict[str, float],
                                                              scale: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prefix = next(iter(values)).split("/")[0] + "/"
    space = {"records": _records(values), "METRIC": "loss", "LAYER_PREFIX": prefix,
             "LAYER_LABEL": "per layer", "LAYERS_AT_INIT": False,
             "LAYER_MOMENT": "each run's last record"}
    try:
        exec(PLOT, space)  # the notebook's own plot cell
        axes = plt.gcf().axes
        assert axes[-1].get_yscale() == scale
    finally:
        plt.close("all")


@pytest.mark.parametrize(("at_init", "step"), [(False, 2), (True, 1)])
def test_per_layer_bars_show_the_record_the_verdict_speaks_of(at_init: bool, step: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [SimpleNamespace(run=run, step=s, total=2,
                               metrics={"loss": 1.0 / s, "stuck/1": 0.1 * s, "stuck/2": 0.2 * s})
               for run in ("relu", "leaky") for s in (1, 2)]
    space = {"records": records, "METRIC": "loss", "LAYER_PREFIX": "stuck/",
             "LAYER_LABEL": "stuck per layer", "LAYERS_AT_INIT": at_init,
             "LAYER_MOMENT": "at init (step 1)" if at_init else "each run's last record"}
    try:
        exec(PLOT, space)
        ax = plt.gcf().axes[-1]
        heights = [round(bar.get_height(), 6) for bar in ax.patches]
        assert heights == [0.1 * step, 0.2 * step] * 2
        assert [text.get_text() for text in ax.get_legend().get_texts()] == [
            f"relu @ {step}", f"leaky @ {step}"]
        assert ax.get_title() == f"stuck per layer, {space['LAYER_MOMENT']}"
    finally:
        plt.close("all")
