"""Validation rules that make `validate` cover what `simulate` and `optimize` need: explicit power sources,
a complete heat path for every stream of a rack's heat, and throughput curves for the site's workload.

Each rule takes the validation `Context` and returns every `Problem` it finds (see `twin.validation`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from twin.errors import Problem
from twin.graph import FEEDLESS_KINDS, PLANT_KINDS, POWER_KINDS

if TYPE_CHECKING:
    from twin.validation import Context

STREAM_UNITS = {"liquid": frozenset({"cdu", "rdhx"}), "air": frozenset({"crah"})}
"""Which in-hall units take each stream of a rack's heat (the liquid share goes to CDUs and rear doors)."""


def check_sources(ctx: Context) -> list[Problem]:
    """Only grid, generator and battery devices may be sources: any other power device needs a feed.

    A UPS or busway written with `fed_by: []` would otherwise draw its power from nowhere, and the
    simulator and the N-1 scan would treat it as a source of its own.
    """
    power = ctx.subgraph("power")
    out = []
    for node, kind in ctx.kinds.items():
        if kind in POWER_KINDS and kind not in FEEDLESS_KINDS and (node not in power or power.in_degree(node) == 0):
            out.append(Problem(node, "power-source", f"{kind} has no power feed, so nothing powers it; only "
                               f"{', '.join(sorted(FEEDLESS_KINDS))} devices may be sources",
                               "add fed_by=[...] naming the device that feeds it, or remove it"))
    return out


def check_heat_streams(ctx: Context) -> list[Problem]:
    """Each stream of a populated rack's heat (liquid share, residual air) has a unit that takes it and reaches
    a heat-rejection plant: DLC racks need a CRAH for the air their cold plates leave."""
    racks = ctx.racks[ctx.racks["system"].notna() & (ctx.racks["gpus"] > 0)]
    links = ctx.rack_links("heat")
    if racks.empty:
        return []
    heat = ctx.subgraph("heat")
    sinks = [n for n, k in ctx.kinds.items() if k in PLANT_KINDS and (n not in heat or heat.out_degree(n) == 0)]
    reaches = set(sinks).union(*(nx.ancestors(heat, s) for s in sinks if s in heat))
    kinds = links["device"].map(ctx.kinds)
    lf = np.nan_to_num(racks["liquid_fraction"].to_numpy(float))
    needs = {"liquid": lf > 0, "air": lf < 1}
    out = []
    for stream, units in STREAM_UNITS.items():
        ok = links["rack"][kinds.isin(units) & links["device"].isin(reaches)]
        missing = needs[stream] & ~racks.index.isin(pd.Index(ok.unique()))
        shares = lf if stream == "liquid" else 1 - lf
        for node, share in zip(racks.index[missing], shares[missing]):
            names = " or ".join(k.upper() for k in sorted(units))
            out.append(Problem(node, "heat-stream", f"{share:.0%} of its heat goes to {stream} ({racks.at[node, 'cooling']} "
                               f"cooling) but no {names} that rejects to a plant takes it",
                               f"add cooled_by=[...] a {names} with rejects_to a chiller, dry cooler or tower"))
    return out


def check_throughput(ctx: Context) -> list[Problem]:
    """Every populated rack's system has a throughput point for each tier it serves under the site's workload
    (`site.workload`, else the default), as the simulator and the optimizer need."""
    from twin.physics import PhysicsError, ThroughputRangeError, tokens

    racks = ctx.racks[ctx.racks["system"].notna() & (ctx.racks["gpus"] > 0)]
    cat = ctx.facility.catalog
    racks = racks[racks["system"].isin(list(cat.systems))]
    if "workload" in racks:
        racks = racks[racks["workload"].astype(object) != "idle"]
    if "tokens_per_s" in racks:
        racks = racks[pd.to_numeric(racks["tokens_per_s"], errors="coerce").isna()]
    if racks.empty:
        return []
    try:
        workload = tokens.site_workload(ctx.facility.graph.graph)
        mix = [t for t, share in workload.tiers(cat).items() if share > 0]
    except (PhysicsError, ValueError, LookupError) as exc:
        return [Problem("site.workload", "workload", str(exc), "use the fields of twin.physics.tokens.Workload "
                        "(llm, precision, isl, osl, kind, tier_mix, params_b, mfu) and catalog tier ids")]
    own = racks["tier"] if "tier" in racks else pd.Series(None, index=racks.index, dtype=object)
    wanted: dict[tuple[str, str], list[str]] = {}
    for node, system, tier in zip(racks.index, racks["system"], own):
        for t in ([tier] if isinstance(tier, str) else mix):
            wanted.setdefault((system, t), []).append(node)
    fix = ("set site.workload to one the system has curves for (llm, precision, isl, osl, tier_mix), or give "
           "these racks another system")
    out, no_curve = [], set()
    for (system, tier), nodes in wanted.items():
        where = f"{nodes[0]}" + (f" (and {len(nodes) - 1} more {system} racks)" if len(nodes) > 1 else "")
        if system in no_curve:
            continue
        try:
            tokens.tier_point(cat, system, tier, workload)  # curves kept with the table: the passing case is cheap
            continue
        except (ThroughputRangeError, LookupError) as exc:
            failed = exc
        try:
            if workload.kind == "inference":
                tokens.curve(cat, system, workload)
        except ThroughputRangeError as exc:
            no_curve.add(system)
            out.append(Problem(where, "throughput", str(exc), fix))
            continue
        out.append(Problem(where, "throughput", f"{system} cannot serve tier {tier!r}: {failed}", fix))
    return out


__all__ = ["check_heat_streams", "check_sources", "check_throughput", "STREAM_UNITS"]
