"""Rules for magnitudes: every number finite, every listed field inside its plausible range, and a warning for
devices rated far beyond what they carry. The ranges, with their rationale, are data: twin/data/plausible.yaml.

Each rule takes the validation `Context` (see `twin.validation`) and returns the `Problem`s it finds.
"""

from __future__ import annotations

import functools
import math
from importlib import resources
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from twin.errors import Problem
from twin.graph import POWER_KINDS

if TYPE_CHECKING:
    from twin.validation import Context

TABLE_KINDS = ("hall", "row", "rack")


@functools.lru_cache(maxsize=1)
def ranges() -> tuple[pd.DataFrame, float]:
    """The plausible ranges (one row per field and node kind) and the oversized-rating ratio."""
    from twin import yamlsafe

    doc = yamlsafe.load(resources.files("twin").joinpath("data/plausible.yaml").read_text(encoding="utf-8"))
    rows = []
    for entry in doc["ranges"]:
        kinds = entry["applies_to"] if isinstance(entry["applies_to"], list) else [entry["applies_to"]]
        rows += [{**entry, "applies_to": k} for k in kinds]
    return pd.DataFrame(rows), float(doc["oversized_ratio"])


def _frames(ctx: Context) -> dict[str, pd.DataFrame]:
    """The tables the rules read: halls, rows, racks, all devices, and the site as a one-row table."""
    site = pd.DataFrame([dict(ctx.facility.graph.graph)], index=pd.Index(["site"], dtype=object))
    out = {"site": site, "device": ctx.devices}
    out.update({k: ctx.facility.table(k) for k in TABLE_KINDS})
    out["rack"] = ctx.racks
    return out


def _not_finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (Real, np.number)):
        return False
    try:
        return not math.isfinite(value)
    except OverflowError:
        return True


def check_finite(ctx: Context) -> list[Problem]:
    """No attribute of the site or of a node (GPUs, which carry none, apart) is NaN, infinite or too large for
    a float: a NaN rating or an infinite width would flow silently into every sum."""
    out = [Problem(f"site.{k}", "finite", f"{k} is {v!r}", f"give {k} a finite number")
           for k, v in ctx.facility.graph.graph.items() if _not_finite(v)]
    for kind, pairs in ctx.facility.graph.by_kind().items():
        if kind == "gpu":
            continue
        for node, attrs in pairs:
            for k, v in attrs.items():
                if _not_finite(v) or (isinstance(v, list) and any(_not_finite(x) for x in v)):
                    out.append(Problem(str(node), "finite", f"{k} is {v!r}", f"give {k} a finite number"))
    return out


def check_ranges(ctx: Context) -> list[Problem]:
    """Listed fields lie inside their plausible range (twin/data/plausible.yaml, with the reason for each)."""
    table, _ = ranges()
    frames = _frames(ctx)
    out = []
    for r in table.itertuples(index=False):
        frame = frames.get(r.applies_to)
        if frame is None or r.field not in frame:
            continue
        values = pd.to_numeric(frame[r.field], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(np.isfinite(values) & ((values < r.min) | (values > r.max)))
        for i in bad:
            where = f"site.{r.field}" if r.applies_to == "site" else frame.index[i]
            out.append(Problem(str(where), "plausible", f"{r.field} = {values[i]:g} {r.unit} is outside the plausible "
                               f"{r.min:g}-{r.max:g} {r.unit} ({r.note})", f"check {r.field} for a typo (units?)"))
    return out


def check_oversized(ctx: Context) -> list[Problem]:
    """Power-chain devices rated more than the oversized ratio times the nameplate load they carry (warnings,
    not errors): their fixed losses scale with the rating. Heat plants are left out: a standby plant for a
    hall left empty, or residual-air chillers sized for a whole hall, are oversized by design."""
    _, ratio = ranges()
    if ctx.devices.empty:
        return []
    loads = ctx.loads()
    rating = pd.to_numeric(ctx.devices["rating_kw"], errors="coerce")
    out = []
    for node, r in rating.items():
        if node not in loads or not np.isfinite(r):
            continue
        load = loads.total(node)
        if load > 0 and r > ratio * load and ctx.kinds.get(node) in POWER_KINDS:
            out.append(Problem(str(node), "oversized", f"rated {r:,.0f} kW but carries {load:,.1f} kW ({r / load:,.0f}x)",
                               "check rating_kw for a typo: fixed losses grow with the rating"))
    return out


__all__ = ["check_finite", "check_oversized", "check_ranges", "ranges"]
