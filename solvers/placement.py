"""`place`: put workloads on a built facility's racks within every device rating (optionally N-1 secure).

>>> import blueprints, solvers
>>> site = blueprints.load("ai-factory-hall")
>>> work = [{"id": "chat", "tier": "standard"}, {"id": "api", "tier": "premium", "demand_tokens_per_s": 2e6}]
>>> result = solvers.place(site, work, objective="revenue")
>>> result.problems, result.kpis["racks_working"] <= 64
([], True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from models.placement import OBJECTIVES, build
from models.placement_data import PlacementData, placement_data
from solvers.highs import Solution, Status, solve_direct, solve_pyomo
from twin.contingency import IDLE
from twin.errors import InfeasibleDesign, TwinError
from twin.graph import bulk
from twin.progress import Progress, Stages

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

CHECKS = ("base", "n1", "none")


@dataclass
class Placement:
    """A placement: KPIs, per-rack/workload/group decisions (xarray), the placed facility and the solve.

    `problems` lists what the independent checker found (empty when every rating holds).
    """

    objective: str
    kpis: dict[str, Any]
    decisions: xr.Dataset
    original: Facility
    racks: pd.DataFrame
    solution: Solution
    data: PlacementData
    problems: list[str] = field(default_factory=list)
    _placed: Facility | None = field(default=None, repr=False)

    @property
    def facility(self) -> Facility:
        """The placed facility (a copy, built on first use: copying a 1 GW graph takes seconds)."""
        if self._placed is None:
            self._placed = placed_facility(self.original, self.racks)
        return self._placed

    def save(self, path: str | Path) -> Path:
        """Write the decisions as NetCDF, atomically (a temporary file renamed into place)."""
        from twin.state import save

        return save(self.decisions, path)


def place(
    facility: Facility,
    workloads: Any,
    *,
    objective: str = "revenue",
    secure: bool = False,
    capacity: str = "rating",
    migration_penalty: float = 0.05,
    levels: Sequence[float] | None = None,
    time_limit: float = 60.0,
    mip_gap: float = 1e-3,
    path: str = "pyomo",
    check: str = "base",
    progress: Progress | None = None,
) -> Placement:
    """Assign `workloads` (a workloads YAML path, a mapping or a list; see `models.placement_data`) to racks.

    objective: 'revenue' (USD/h) or 'tokens' (tokens/s), less `migration_penalty` x the value of each rack
    moved off the workload its `workload`/`tier` attribute names. secure: after any single device failure
    the surviving racks fit every rating once re-capped to the catalog's minimum cap. capacity: 'rating'
    (group members share the load up to their ratings) or 'usable' (spares held back). path: 'pyomo' or
    'direct' (highspy). check: re-derive device loads with the independent checker ('base', 'n1', 'none').
    progress: `progress(done, total, stage)` as the model data, the solve and the check start.
    """
    with bulk():
        if objective not in OBJECTIVES:
            raise TwinError(f"objective {objective!r} is not one of {list(OBJECTIVES)}")
        if check not in CHECKS or path not in ("pyomo", "direct"):
            raise TwinError(f"check must be one of {CHECKS} and path 'pyomo' or 'direct', got {check!r}, {path!r}")
        t0 = time.perf_counter()
        stages = Stages(progress, ["preparing blocks and ratings", "solving"] + (["checking"] if check != "none" else []))
        data = placement_data(facility, workloads, secure=secure, capacity=capacity, levels=levels)
        if objective == "revenue":
            missing = [w.id for w in data.workloads if w.kind == "training" and w.usd_per_gpu_hour is None]
            if missing:
                raise TwinError(f"training workload {missing[0]!r} has no usd_per_gpu_hour, so it is worth nothing under "
                                "objective revenue; give it one or use objective tokens")
        t1 = time.perf_counter()
        stages.next()
        lp = build(data, objective, migration_penalty=migration_penalty)
        solve = solve_pyomo if path == "pyomo" else solve_direct
        sol = solve(lp, time_limit=time_limit, mip_gap=mip_gap)
        if sol.status is Status.INFEASIBLE:
            raise InfeasibleDesign(explain(data, objective))
        if not sol.ok:
            raise InfeasibleDesign(f"HiGHS ended with status {sol.status.value} and no usable placement; raise time_limit")
        t2 = time.perf_counter()
        values = lp.split(sol.x)
        racks = rack_decisions(facility, data, values)
        t3 = time.perf_counter()
        stages.next()
        result = Placement(objective, {}, decisions_dataset(data, racks, sol, objective, secure), facility, racks, sol, data)
        if check != "none":
            from twin.contingency_check import n1_overloads, overloads

            result.problems = overloads(facility, capacity=capacity, kw=racks["power_kw"])
            if check == "n1":
                result.problems += [p for ps in n1_overloads(result.facility).values() for p in ps]
            stages.next()
        t4 = time.perf_counter()
        timings = {"data_s": t1 - t0, **{k: v for k, v in sol.timings.items()}, "apply_s": t3 - t2, "check_s": t4 - t3,
                   "total_s": t4 - t0}
        result.kpis = _kpis(data, racks, sol, objective, secure, timings)
        return result


def rack_decisions(facility: Facility, data: PlacementData, values: dict) -> pd.DataFrame:
    """Per populated rack: workload, tier, cap, kW, tokens/s, USD/h and whether it moved; racks of a (block,
    workload) share the mean cap of their levels (exact power, tokens from the concave curve at that cap)."""
    from twin.physics import gpu

    cat = facility.catalog
    net = data.net
    specs = data.workloads
    racks = net.racks
    n = len(racks)
    model_block = data.super_of[racks["block"].to_numpy()]
    out = pd.DataFrame({"block": racks["block"].to_numpy(), "model_block": model_block, "workload": IDLE, "tier": None,
                        "cap_w": np.nan, "power_kw": 0.0, "tokens_per_s": 0.0, "revenue_usd_per_h": 0.0},
                       index=racks.index)
    x = np.rint(np.array(list(values["racks"].values()))).astype(np.int64)
    q = np.array(list(values["level"].values())).reshape(len(x), len(data.levels))
    job_level = values.get("job_level", {})
    order = out.groupby("model_block", sort=False).indices
    taken = {b: 0 for b in order}
    pairs = sorted(range(len(x)), key=lambda p: (data.current[data.pair_b[p]] != data.pair_w[p], p))
    cols = {c: out.columns.get_loc(c) for c in out.columns}
    block_tdp = {}
    for p in pairs:
        if x[p] <= 0:
            continue
        b, w = int(data.pair_b[p]), int(data.pair_w[p])
        spec = specs[w]
        system = data.system[b]
        tdp = block_tdp.setdefault(system, cat.system(system).gpu_tdp_w)
        if spec.kind == "training":
            frac = max((lv for (j, lv), z in job_level.items() if j == spec.id and z > 0.5), default=1.0)
            tokens_tdp, usd_tdp = data.job_tokens[w, -1] / x_job(x, data, w), data.job_usd[w, -1] / x_job(x, data, w)
        else:
            frac = float(q[p] @ data.levels / max(q[p].sum(), 1e-12))
            tokens_tdp, usd_tdp = data.tokens[p, -1], data.usd[p, -1]
        frac = float(np.clip(frac, data.levels[0], 1.0))
        factor = float(gpu.cap_factor(cat, frac * tdp, tdp))
        rows = order[b][taken[b]:taken[b] + x[p]]
        taken[b] += x[p]
        out.iloc[rows, cols["workload"]] = spec.id
        out.iloc[rows, cols["tier"]] = spec.tier or "training"
        out.iloc[rows, cols["cap_w"]] = frac * tdp
        out.iloc[rows, cols["tokens_per_s"]] = tokens_tdp * factor
        out.iloc[rows, cols["revenue_usd_per_h"]] = usd_tdp * factor
    systems = racks["system"].to_numpy(dtype=object)
    nodes = racks["nodes"].to_numpy(dtype=float)
    low = data.levels[0]
    idle = (out["workload"] == IDLE).to_numpy()
    for system in pd.unique(systems):
        spec = cat.system(system)
        sel = systems == system
        out.loc[sel & idle, "cap_w"] = low * spec.gpu_tdp_w
        cap = np.where(idle[sel], spec.gpu_idle_w, out["cap_w"].to_numpy(float)[sel])
        out.loc[sel, "power_kw"] = spec.rack_power_kw(nodes[sel], cap)
    now = np.array([specs[c].id if c >= 0 else None for c in data.current], dtype=object)[model_block]
    out["moved"] = np.array([c is not None and c != w for c, w in zip(now, out["workload"])], dtype=bool)
    out["hall"] = racks["hall"].to_numpy(dtype=object)
    return out


def x_job(x: np.ndarray, data: PlacementData, w: int) -> float:
    """Racks a training job got (to spread its value over them)."""
    return float(max(1, x[data.pair_w == w].sum()))


def placed_facility(facility: Facility, racks: pd.DataFrame, *, copy: bool = True) -> Facility:
    """A copy of the facility with each rack's `workload`, `tier`, `power_cap_w`, `tokens_per_s` and
    `revenue_usd_per_h` set (idle racks: workload 'idle', capped at the minimum; training racks: no tier).
    `copy=False` writes them onto `facility` itself (a 1 GW graph takes seconds to copy)."""
    placed = facility.copy() if copy else facility
    nodes = placed.graph.nodes
    for rack, work, tier, cap, tok, usd in zip(racks.index, racks["workload"], racks["tier"], racks["cap_w"],
                                               racks["tokens_per_s"], racks["revenue_usd_per_h"]):
        tier = tier if tier != "training" else None         # not a catalog tier: the simulator would reject it
        nodes[rack].update(workload=work, tier=tier, power_cap_w=float(cap), tokens_per_s=float(tok),
                           revenue_usd_per_h=float(usd))
    return placed


def _kpis(data: PlacementData, racks: pd.DataFrame, sol: Solution, objective: str, secure: bool,
          timings: dict) -> dict[str, Any]:
    working = racks["workload"] != IDLE
    out = {
        "objective": objective, "status": sol.status.value, "objective_value": sol.objective, "gap": sol.gap,
        "tokens_per_s": float(racks["tokens_per_s"].sum()), "revenue_usd_per_h": float(racks["revenue_usd_per_h"].sum()),
        "it_kw": float(racks["power_kw"].sum()), "racks": int(len(racks)), "racks_working": int(working.sum()),
        "racks_idle": int((~working).sum()), "racks_moved": int(racks["moved"].sum()), "blocks": int(data.net.n_blocks), "model_blocks": int(len(data.count)),
        "secure": secure, "n1_rows": int(len(data.n1_capacity)), "device_rows": int(len(data.group_capacity)),
    }
    for w in data.workloads:
        out[f"tokens_per_s[{w.id}]"] = float(racks.loc[racks["workload"] == w.id, "tokens_per_s"].sum())
    out.update({f"time_{k}": v for k, v in timings.items()})
    return out


def decisions_dataset(data: PlacementData, racks: pd.DataFrame, sol: Solution, objective: str,
                      secure: bool) -> xr.Dataset:
    """Per rack, per workload and per device group, with units; coords are the facility's own ids."""
    import xarray as xr

    specs = data.workloads
    blocks = racks.groupby("block")["power_kw"].sum().reindex(range(data.net.n_blocks), fill_value=0.0).to_numpy()
    weight = data.net.base_weights()
    by_w = racks.groupby("workload")
    ds = xr.Dataset(
        {
            "rack_workload": ("rack", racks["workload"].to_numpy(dtype=str), {"long_name": "workload served ('idle': none)"}),
            "rack_tier": ("rack", racks["tier"].fillna("").to_numpy(dtype=str), {"long_name": "token tier"}),
            "rack_cap_w": ("rack", racks["cap_w"].to_numpy(float), {"units": "W", "long_name": "GPU power cap"}),
            "rack_power_kw": ("rack", racks["power_kw"].to_numpy(float), {"units": "kW", "long_name": "rack power at full load"}),
            "rack_tokens_per_s": ("rack", racks["tokens_per_s"].to_numpy(float), {"units": "s-1"}),
            "rack_revenue_usd_per_h": ("rack", racks["revenue_usd_per_h"].to_numpy(float), {"units": "USD h-1"}),
            "rack_moved": ("rack", racks["moved"].to_numpy(dtype=np.int8), {"long_name": "1 if moved off its workload"}),
            "workload_kind": ("workload", np.array([w.kind for w in specs], dtype=str)),
            "workload_tier": ("workload", np.array([w.tier or "training" for w in specs], dtype=str)),
            "workload_racks": ("workload", np.array([int(by_w.size().get(w.id, 0)) for w in specs])),
            "workload_tokens_per_s": ("workload", np.array([float(by_w["tokens_per_s"].sum().get(w.id, 0.0)) for w in specs]),
                                      {"units": "s-1"}),
            "workload_demand_tokens_per_s": ("workload", np.array([w.demand_tokens_per_s for w in specs]), {"units": "s-1"}),
            "workload_revenue_usd_per_h": ("workload", np.array([float(by_w["revenue_usd_per_h"].sum().get(w.id, 0.0))
                                                                 for w in specs]), {"units": "USD h-1"}),
            "group_load_kw": ("group", weight @ blocks, {"units": "kW", "long_name": "rack kW or heat a group carries"}),
            "group_capacity_kw": ("group", data.net.capacity(data.capacity_mode), {"units": "kW"}),
        },
        coords={"rack": racks.index.to_numpy(dtype=str), "workload": np.array([w.id for w in specs], dtype=str),
                "group": np.array(data.net.group_names, dtype=str)},
        attrs={"title": f"placement of {len(specs)} workloads on {data.site}", "objective": objective,
               "status": sol.status.value, "objective_value": float(sol.objective), "gap": float(sol.gap),
               "secure_n1": int(secure), "capacity": data.capacity_mode},
    )
    return ds


def explain(data: PlacementData, objective: str) -> str:
    """Which promises make the placement impossible: re-solve without each in turn and say which one frees it."""
    import dataclasses

    found = []
    relaxed_specs = [dataclasses.replace(w, min_tokens_per_s=0.0, required=False) for w in data.workloads]
    for label, trial in (
        ("the tokens/s commitments and required training jobs", dataclasses.replace(data, workloads=relaxed_specs)),
        ("the N-1 rows (survive any single failure at minimum caps)",
         dataclasses.replace(data, n1_weight=data.n1_weight[:0], n1_capacity=np.zeros(0), n1_labels=[])),
    ):
        if trial is data or (label.startswith("the N-1") and not len(data.n1_capacity)):
            continue
        sol = solve_direct(build(trial, objective), time_limit=30)
        if sol.status is not Status.INFEASIBLE:
            found.append(label)
    if not found:
        return "no placement fits the device ratings, and neither commitments nor N-1 explain it"
    return "no placement meets every promise; it becomes possible without " + " or without ".join(found)


__all__ = ["place", "Placement", "rack_decisions", "placed_facility", "decisions_dataset", "explain"]
