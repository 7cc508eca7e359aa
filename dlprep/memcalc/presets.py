"""Published model shapes (``presets.json``, shipped with the package; pure Python)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from dlprep.memcalc.config import ConfigError
from dlprep.memcalc.shape import GPT
from dlprep.paths import memcalc_presets_path


@dataclass(frozen=True)
class Preset:
    name: str
    shape: GPT
    context: int
    published: str
    source: str
    note: str = ""


@cache
def presets() -> dict[str, Preset]:
    """Each entry is a model's config.json (read as ``--hf-config`` reads one) and its
    ``memcalc`` metadata: the published count, the source, what the answer must say."""
    from dlprep.memcalc.hf_config import parse

    path = memcalc_presets_path()
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, entry in raw.items():
        if name.startswith("_"):
            continue
        config = {k: v for k, v in entry.items() if k != "memcalc"}
        meta = entry["memcalc"]
        m = parse(config, f"{path.name}: {name}", name)
        note = "; ".join(n for n in (meta.get("note", ""), m.note) if n)
        out[name] = Preset(name, m.shape, m.context, meta["published"], meta["source"], note)
    return out


def preset(name: str) -> Preset:
    table = presets()
    key = name.strip().lower()
    if key not in table:
        raise ConfigError(f"unknown model {name!r}; choose from {', '.join(table)} "
                          "(dlprep memcalc --list-models)")
    return table[key]


def listing() -> str:
    import textwrap

    """One line per preset: name, parameters, shape, context, for ``--list-models``."""
    lines = [f"{'model':<12} {'parameters':>15}  shape"]
    for p in presets().values():
        g = p.shape
        heads = f"{g.n_head} heads" + (f" ({g.kv_heads} KV)" if g.kv_heads != g.n_head else "")
        lines.append(f"{p.name:<12} {sum(g.param_shapes()):>15,}  {g.n_layer} x {g.d_model}, "
                     f"{heads}, ctx {p.context}")
    lines.append("")
    for p in presets().values():
        if p.note:
            lines += textwrap.wrap(f"{p.name}: {p.note}.", 80)
    lines.append("Sources: dlprep/memcalc/presets.json ('source' of each entry).")
    return "\n".join(lines)
