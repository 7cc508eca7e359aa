"""`dlprep demo NAME --save-notebook FILE.ipynb`: a demo as a Jupyter notebook.

The notebook runs top to bottom in plain Jupyter with only torch installed (matplotlib for
the plot, guarded): the claim and what is measured, its parameters as one editable cell, the
experiment itself, the demo's helpers (folded), a plot of the loss and of the per-layer quantity
the claim is about, and the verdict computed from this run's numbers. It is built from the
demo's source text and ``META`` literal, so saving one imports no torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from pprint import pformat
from typing import Any

from dlprep import __version__
from dlprep.engine.loader import helper_names
from dlprep.engine.runner import check_request
from dlprep.engine.script import _strip, uses_dlprep
from dlprep.registry import DemoInfo, _read_meta
from dlprep.study.strings import t

RUN = '''torch.set_num_threads(CPU_THREADS)  # tiny nets: more threads only add contention
records = []  # every logged step: run, step, total, metrics
numbers = drain(run(dict(PARAMS), NUM_STEPS, SEED, pick_device(DEVICE)), echo=records.append)
for name in dict.fromkeys(r.run for r in records):
    last = [r for r in records if r.run == name][-1]
    shown = ", ".join(f"{k}={v:.4g}" for k, v in list(last.metrics.items())[:4])
    print(f"{name:>12}  step {last.step}/{last.total}  {shown}")'''

PLOT = '''try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed, so there is no plot: pip install matplotlib "
          "(the numbers above and the verdict below do not need it).")

if plt is not None:
    runs = list(dict.fromkeys(r.run for r in records))
    curves = [m for m in dict.fromkeys(["loss", METRIC]) if any(m in r.metrics for r in records)]
    layer_keys = [k for k in records[-1].metrics if LAYER_PREFIX and k.startswith(LAYER_PREFIX)]
    panels = len(curves) + bool(layer_keys)
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
    for ax, metric in zip(axes[0], curves):
        for name in runs:
            rows = [r for r in records if r.run == name and metric in r.metrics]
            ax.plot([r.step for r in rows], [r.metrics[metric] for r in rows], label=name)
        finite = [abs(r.metrics[metric]) for r in records
                  if 0 < abs(r.metrics.get(metric, 0)) < float("inf")]
        if finite and max(finite) / min(finite) > 10:
            ax.set_yscale("log")  # the series spans more than 10x
        ax.set(xlabel="step", title=metric)
        ax.legend()
    if layer_keys:  # the per-layer quantity at the record the verdict speaks of
        ax, width, bars = axes[0][-1], 0.8 / len(runs), []
        for i, name in enumerate(runs):
            shown = [r for r in records if r.run == name][0 if LAYERS_AT_INIT else -1]
            heights = [abs(shown.metrics.get(k, float("nan"))) for k in layer_keys]
            ax.bar([j + i * width for j in range(len(layer_keys))], heights, width,
                   label=f"{name} @ {shown.step}")  # the step the bars were taken at
            bars += [h for h in heights if h == h and h != float("inf")]
        if bars and min(bars) > 0 and max(bars) / min(bars) > 10:
            ax.set_yscale("log")  # as the curves: only a >10x spread (a share stays linear)
        ax.set(xlabel="layer", title=f"{LAYER_LABEL}, {LAYER_MOMENT}")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(layer_keys))],
                      [k[len(LAYER_PREFIX):] for k in layer_keys])
        ax.legend()
    plt.tight_layout()
    plt.show()'''


def _markdown(text: str) -> dict[str, Any]:
    import nbformat

    return nbformat.v4.new_markdown_cell(text)


def _code(text: str) -> dict[str, Any]:
    import nbformat

    return nbformat.v4.new_code_cell(text.strip() + "\n")


def _folded(cell: dict[str, Any]) -> dict[str, Any]:
    """A code cell whose source Jupyter shows collapsed (one click opens it)."""
    cell["metadata"]["jupyter"] = {"source_hidden": True}
    return cell


def _doc(source: str) -> str:
    """The demo's docstring, the explanation of the phenomenon."""
    import ast

    return (ast.get_docstring(ast.parse(source)) or "").strip()


def _what(info: DemoInfo, meta: Mapping[str, Any], lang: str) -> str:
    lines = [f"### {t('nb_measured', lang)}", t("nb_metric", lang, metric=info.metric)]
    if info.layers:
        label = info.layers.get("label_ko" if lang == "ko" else "label") or info.layers["prefix"]
        lines.append(t("nb_layers", lang, label=label, prefix=info.layers["prefix"]))
    if info.control:
        settings = ", ".join(f"`PARAMS[{k!r}] = {v!r}`" for k, v in info.control.items())
        lines.append(t("nb_control", lang, settings=settings))
    return "\n\n".join(lines)


def notebook(name: str, params: Mapping[str, object] | None = None, *, seed: int = 0,
             steps: int | None = None, device: str = "auto", lang: str = "en") -> Any:
    """The notebook for demo ``name`` with validated ``params`` (raises DemoError)."""
    import nbformat

    info, values = check_request(name, params, device, seed, steps)
    source = info.path.read_text(encoding="utf-8")
    meta = _read_meta(info.path) or {}
    num_steps = steps if steps is not None else int(meta.get("steps", 100))
    claim = info.claim_ko if lang == "ko" else info.claim
    helpers = helper_names(source)
    if "_kit" not in helpers:
        helpers.append("_kit")  # pick_device and drain live there
    helper_texts = [(info.path.parent / f"{h}.py").read_text(encoding="utf-8") for h in helpers]
    helper_code = "\n\n".join(_strip(h, keep_docstring=False) for h in helper_texts)
    own = any(uses_dlprep(h) for h in [source, *helper_texts])  # needs dlprep installed
    saved = "nb_saved_dlprep" if own else "nb_saved"
    layers = info.layers
    label = layers.get("label_ko" if lang == "ko" else "label", "") if layers else ""
    at_init = layers.get("verdict") == "init"
    # The first code cell: Jupyter keeps a __future__ flag for the cells after it, so the
    # experiment's annotations stay unevaluated (a signature may name a helper's type,
    # `Statement`, whose cell comes after the experiment's).
    settings = ("from __future__ import annotations\n\n"
                f"PARAMS = {pformat(dict(values), sort_dicts=False)}\n"
                f"SEED = {seed}\nNUM_STEPS = {num_steps}\nDEVICE = {device!r}\n"
                f"LANG = {lang!r}  # language of the verdict: en or ko\n"
                f"CPU_THREADS = {int(meta.get('cpu_threads', 1))}\n"
                f"METRIC = {info.metric!r}  # the demo's main quantity, plotted beside the loss\n"
                f"LAYER_PREFIX = {layers.get('prefix', '')!r}\n"
                f"LAYER_LABEL = {label!r}\n"
                f"# the bars the verdict speaks of: each run's first record (the nets at init) "
                f"or its last\nLAYERS_AT_INIT = {at_init!r}\n"
                f"LAYER_MOMENT = {t('bars_at_init' if at_init else 'bars_last', lang)!r}")
    cells = [
        _markdown(f"# {t('nb_title', lang)}: {info.name}\n\n**{t('claim', lang)}:** {claim}\n\n"
                  f"_{t(saved, lang, version=__version__)}_"),
        _markdown(_doc(source) + "\n\n" + _what(info, meta, lang)),
        _markdown(t("nb_params", lang)), _code(settings),
        _markdown(t("nb_demo", lang)), _code(_strip(source, keep_docstring=False)),
        # After the experiment and folded: the notebook opens on the claim and the experiment,
        # whose module level only defines functions that call the helpers when run.
        _markdown(t("nb_helpers", lang)), _folded(_code(helper_code)),
        _markdown(t("nb_run", lang)), _code(RUN),
        _markdown(t("nb_plot", lang)), _code(PLOT),
        _markdown(t("nb_verdict", lang)), _code("print(verdict(numbers, LANG))"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def save_notebook(path: Path, name: str, params: Mapping[str, object] | None = None, *,
                  force: bool = False, **request: Any) -> Path:
    """Write the notebook atomically; refuses an existing file unless ``force``."""
    import nbformat

    from dlprep.export.files import check_target, write_atomically

    check_target(path, force)
    nb = notebook(name, params, **request)
    nbformat.validate(nb)
    write_atomically(path, lambda temp: temp.write_text(nbformat.writes(nb), encoding="utf-8"))
    return path
