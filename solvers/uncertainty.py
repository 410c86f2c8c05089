"""`uncertainty`: every headline number as a P10-P90 band over the inputs' spreads, and which inputs drive it.

Each input a run depends on (catalog entries, prices, weather, utilization; `twin.uncertainty`) gets a spread
from its evidence tag; `samples` Latin-hypercube (or Sobol) points of those inputs are run on the sweep machinery
(`solvers.sweep`: a dask LocalCluster by default, a scheduler when given, 'serial' here; resumable with `out`).
The result is an xarray Dataset over `sample` and `kpi`: `value` (sample, kpi), `band` (kpi, quantile: P10, P50,
P90), `point` (the deterministic answer at the inputs' medians), the sampled `input_value` (sample, input) and
first-order Sobol indices `s1` (kpi, input) with a `tornado_low`/`tornado_high` (the KPI's mean when an input is
in its lowest / highest fifth); with `sobol=True`, a Saltelli design gives `s1` and the total index `st`
(Jansen) instead, at samples x (inputs + 2) runs.

>>> import blueprints, solvers
>>> ds = solvers.uncertainty(blueprints.load("ai-factory-hall"), samples=4, hours=24, client="serial", progress=False,
...                          families=["electricity_price"])
>>> b = ds["band"].sel(kpi="energy_cost_usd").values
>>> bool(b[0] <= b[1] <= b[2])
True
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from solvers.uncertainty_runs import SIMULATE_KPIS, SimulateJob, run_sample
from twin.errors import TwinError
from twin.uncertainty import (
    QUANTILES, Input, band, catalog_inputs, first_order, global_inputs, overridden, saltelli, saltelli_indices,
    to_values, tornado, unit_points,
)

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

RUNS = ("simulate", "optimize", "compare")
SIMULATE_FAMILIES = ("throughput", "node_power", "gpu_idle", "cooling_units", "chain_losses", "plant_fans",
                     "chiller_cop", "electricity_price", "token_price", "utilization", "weather")
"""The inputs a simulate run samples by default (`families` picks a subset)."""
OPTIMIZE_FAMILIES = ("throughput", "node_power", "gpu_idle", "capex", "cooling_units", "cooling_capex", "chain_losses",
                     "plant_fans", "chiller_cop", "electricity_price", "token_price", "demand", "gpu_hour_price",
                     "capex_plant")
"""The inputs an optimize run samples by default: the design weather stays the design rule (the year's hottest
hours), utilization is the market's (demand and its daily shape)."""
COMPARE_FAMILIES = ("throughput", "capex", "electricity_price", "token_price", "demand", "gpu_hour_price",
                    "capex_plant", "utilization")
"""The inputs a compare run samples: the money and the throughput; the designs and their simulated years stay."""


def uncertainty(
    facility: str | os.PathLike | Facility,
    samples: int = 200,
    seed: int = 0,
    run: str = "simulate",
    *,
    client: Any = None,
    workers: int = 2,
    method: str = "lhs",
    sobol: bool = False,
    families: Sequence[str] | None = None,
    spreads: Mapping[str, Any] | None = None,
    widths: Mapping[str, float] | None = None,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    hours: int = 8760,
    weather: Any = None,
    utilization: Any = "diurnal",
    workload: Any = None,
    freq: str = "1h",
    objective: str = "profit",
    verify: bool = True,
    time_limit: float = 60.0,
    mip_gap: float = 1e-3,
    design: Mapping[str, Any] | None = None,
    against: str | os.PathLike | Facility | None = None,
    workload_mix: str | Mapping[str, float] | None = None,
    climate: str | None = None,
) -> xr.Dataset:
    """Run `run` over `samples` points of the facility's uncertain inputs; return bands and sensitivities.

    families: input families to sample (default: all the run uses; see twin.uncertainty.CATALOG_FAMILIES and
    GLOBAL_FAMILIES). spreads: per input or family, a half-width (0.2) or a (low, high) pair; 0 fixes it. widths:
    default half-width per evidence tag (e.g. {'assumption': 0.5}). A blueprint's `site.uncertainty` ({spreads,
    widths}) applies under these. method: 'lhs' or 'sobol' points. client: as `solvers.sweep`. out: a .nc file;
    finished samples go to `<out>.parts/` and are reused by the next call with the same seed and inputs.

    simulate: hours, weather, utilization, workload, freq as `twin.simulate`. optimize: objective, time_limit,
    mip_gap and `design` (more keywords of `solvers.optimize`: grid_mw, systems, power_caps, workload, ...); the
    base design is verified by simulation (`verify`) and its correction carried into every sample. The Dataset
    then has a `mode` dimension: 'fixed' (the base design's halls and racks in each sampled world) and
    'reoptimized' (designed anew per sample), `choice` per sample and `choice_changed` against the base design.
    compare: `against` (the other facility), workload_mix, climate, hours, time_limit as `solvers.compare`, run
    once at the medians; each sample revalues both designs (cheap, so here rather than on dask) and the Dataset
    gives the margin per MW of each, `winner` per sample and `win_probability` per site.
    """
    from solvers.sweep import _resolve_base

    if run not in RUNS:
        raise TwinError(f"run={run!r} is not one of {list(RUNS)}")
    base, label = _resolve_base(facility)
    if callable(base):
        raise TwinError("uncertainty needs a facility or a blueprint, not a builder")
    spreads, widths = _site_overrides(base, spreads, widths)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise TwinError(f"samples={samples!r} must be a whole number >= 2")
    from solvers.sweep import _connect

    client, owned = (client, False) if client == "serial" else _connect(client, workers)
    try:
        return _run(base, label, samples, seed, run, client, workers, method, sobol, families, spreads, widths, out,
                    progress, hours=hours, weather=weather, utilization=utilization, workload=workload, freq=freq,
                    objective=objective, verify=verify, time_limit=time_limit, mip_gap=mip_gap, design=design,
                    against=against, workload_mix=workload_mix, climate=climate)
    finally:
        if owned:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()


def _run(base, label, samples, seed, run, client, workers, method, sobol, families, spreads, widths, out, progress, *,
         hours, weather, utilization, workload, freq, objective, verify, time_limit, mip_gap, design, against,
         workload_mix, climate) -> xr.Dataset:
    """The run on a connected client (or 'serial')."""
    if run == "simulate":
        job, inputs, units = _simulate_job(base, families, spreads, widths, hours=hours, weather=weather,
                                           utilization=utilization, workload=workload, freq=freq)
    elif run == "compare":
        job, inputs, units = _compare_job(base, against, families, spreads, widths, hours=hours, climate=climate,
                                          workload_mix=workload_mix, time_limit=time_limit)
        client = "serial"
    else:
        job, inputs, units = _optimize_job(base, families, spreads, widths, objective=objective, verify=verify,
                                           time_limit=time_limit, mip_gap=mip_gap, design=dict(design or {}),
                                           mapper=_mapper(client))
    d = len(inputs)
    unit = saltelli(d, samples, seed, method) if sobol else unit_points(d, samples, seed, method)
    x = to_values([i.spread for i in inputs], unit)
    medians = np.array([i.median for i in inputs])
    rows = [{"values": row.tolist()} for row in x] + [{"values": medians.tolist()}]
    started = time.perf_counter()
    job.key = _fingerprint(base, job, inputs)
    records, computed = _evaluate(job, rows, run, client, workers, progress, out, job.key)
    if run == "optimize":
        ds = _optimize_dataset(job, inputs, x, records, units, samples, sobol)
    else:
        ds = _dataset(inputs, x, records, units, samples, sobol)
    if run == "compare":
        _add_winner(ds, job, records[:samples])
    ds.attrs.update({"run": run, "base": label, "samples": samples, "seed": seed, "method": method,
                     "sensitivity": "saltelli-jansen" if sobol else "given-data first order",
                     "computed": computed, "reused": len(rows) - computed, "seconds": time.perf_counter() - started})
    ds.attrs.update({"hours": int(hours)} if run != "optimize" else {"objective": objective})
    if out is not None:
        from solvers.sweep import _write_netcdf

        _write_netcdf(ds, Path(out))
    return ds


# ------------------------------------------------------------------------------------------------ inputs and jobs
def _site_overrides(facility: Facility, spreads: Mapping | None, widths: Mapping | None) -> tuple[dict, dict]:
    """The blueprint's `site.uncertainty` spreads and widths, with the call's over them."""
    own = facility.graph.graph.get("uncertainty") or {}
    if not isinstance(own, Mapping) or set(own) - {"spreads", "widths"}:
        raise TwinError(f"site attribute uncertainty={own!r} must be a mapping with 'spreads' and/or 'widths'")
    return {**(own.get("spreads") or {}), **(spreads or {})}, {**(own.get("widths") or {}), **(widths or {})}


def _pick(families: Sequence[str] | None, default: Sequence[str]) -> tuple[list[str], list[str]]:
    """(catalog families, global families) of those asked for, checked against the run's."""
    from twin.uncertainty import CATALOG_FAMILIES

    chosen = list(default if families is None else families)
    unknown = [f for f in chosen if f not in default]
    if unknown:
        from twin.errors import did_you_mean

        raise TwinError(f"input family {unknown[0]!r} is not sampled by this run; {did_you_mean(unknown[0], default)}")
    return [f for f in chosen if f in CATALOG_FAMILIES], [f for f in chosen if f not in CATALOG_FAMILIES]


def _used_entries(facility: Facility) -> dict[str, list[str]]:
    """Catalog ids the facility's simulation uses: systems and coolings of populated racks, power equipment and
    heat-rejection models of its devices."""
    from twin.physics.topology import build

    topo = build(facility)
    return {"systems": sorted(set(topo.racks["system"].astype(str))),
            "coolings": sorted(set(topo.racks["cooling"].astype(str))),
            "equipment": sorted({m.id for m in topo.power_models if m is not None}),
            "plants": sorted({m.id for m in topo.plant_models if m is not None})}


def _tier_evidence(facility: Facility) -> str:
    tags = {t.evidence_of("price_usd_per_mtok") for t in facility.catalog.tiers.values()}
    for tag in ("assumption", "vendor_claim", "analyst_estimate", "secondary", "vendor_spec"):
        if tag in tags:
            return tag
    return sorted(tags)[0] if tags else "vendor_spec"


def _simulate_job(facility: Facility, families, spreads, widths, *, hours, weather, utilization, workload,
                  freq) -> tuple[SimulateJob, list[Input], dict[str, str]]:
    from twin import weather as weather_mod
    from twin.economics import finance_for
    from twin.physics.profiles import resolve
    from twin.physics.tokens import Workload
    from twin.physics.topology import build

    cat_families, global_families = _pick(families, SIMULATE_FAMILIES)
    used = _used_entries(facility)
    inputs = catalog_inputs(facility.catalog, **used, families=cat_families, widths=widths) if cat_families else []
    inputs += global_inputs(global_families, tier_evidence=_tier_evidence(facility), widths=widths)
    inputs = overridden(inputs, spreads)
    source = weather if weather is not None else facility.climate
    if source is None:
        raise TwinError(f"facility {facility.name!r} has no climate: pass weather='phoenix' (or a file or Dataset)")
    wx = weather_mod.load(source, hours=int(hours), freq=freq)
    racks = build(facility).racks
    util = resolve(utilization, wx["time"].values, len(racks), racks.index)
    price = finance_for(facility.graph.graph).electricity_usd_per_kwh
    job = SimulateJob(facility, inputs, wx, util, workload if workload is not None else Workload(), price, freq,
                      racks["system"].astype(str).to_numpy())
    return job, inputs, dict(SIMULATE_KPIS)


def _compare_job(facility: Facility, against: Any, families, spreads, widths, *, hours, climate, workload_mix,
                 time_limit) -> tuple[Any, list[Input], dict[str, str]]:
    from solvers.compare import compare
    from solvers.sweep import _resolve_base
    from solvers.uncertainty_compare import COMPARE_KPIS, make_job, systems

    if against is None:
        raise TwinError("run='compare' needs the other facility: against='ai-datacenter-20mw' (a blueprint or "
                        "Facility)").on_cli("--run compare needs --against BLUEPRINT")
    other, _ = _resolve_base(against)
    comparison = compare(facility, other, workload_mix=workload_mix, climate=climate, hours=int(hours), render=False,
                         time_limit=time_limit)
    cat_families, global_families = _pick(families, COMPARE_FAMILIES)
    inputs = catalog_inputs(facility.catalog, systems=systems(comparison), coolings=[], equipment=[], plants=[],
                            families=cat_families, widths=widths) if cat_families else []
    inputs += global_inputs(global_families, tier_evidence=_tier_evidence(facility), widths=widths)
    inputs = overridden(inputs, spreads)
    return make_job(comparison, inputs), inputs, dict(COMPARE_KPIS)


def _add_winner(ds: xr.Dataset, job: Any, records: list[dict]) -> None:
    """`winner` per sample ('a', 'b' or 'tie'), `win_probability` per site and the sites' names."""
    winner = np.array([r.get("labels", {}).get("winner", "") for r in records], dtype=str)
    ok = ds["status"].values == "ok"
    ds["winner"] = ("sample", winner, {"long_name": "the site with the larger margin per MW-year in the sample"})
    share = [float(np.mean(winner[ok] == s)) if ok.any() else float("nan") for s in ("a", "b")]
    ds["win_probability"] = ("site", share, {"long_name": "share of samples in which the site's margin is larger"})
    ds.coords["site"] = ["a", "b"]
    ds.coords["site_name"] = ("site", [s.name for s in job.comparison.sites])
    ds.attrs["verdict_at_medians"] = job.comparison.verdict.get("text", "")


def _mapper(client: Any):
    """fn over items here ('serial') or on the client's workers, results in order."""
    if client == "serial":
        return lambda fn, items: [fn(x) for x in items]
    return lambda fn, items: client.gather(client.map(fn, items, pure=False)) if items else []


def _optimize_job(facility: Facility, families, spreads, widths, *, objective, verify, time_limit, mip_gap,
                  design, mapper) -> tuple[Any, list[Input], dict[str, str]]:
    from models.design_data import design_data
    from solvers.uncertainty_design import OPTIMIZE_KPIS, make_job

    options = {k: design[k] for k in ("grid_mw", "power_caps", "cap_levels", "systems", "workload", "evidence",
                                      "cap_curve", "market", "finance", "keep_plant") if k in design}
    unknown = set(design) - set(options)
    if unknown:
        raise TwinError(f"design option {sorted(unknown)[0]!r} is not one uncertainty passes to the design model; "
                        "use grid_mw, power_caps, cap_levels, systems, workload, evidence, cap_curve, market, "
                        "finance, keep_plant")
    data = design_data(facility, **options)
    default = [f for f in OPTIMIZE_FAMILIES if f != ("gpu_hour_price" if data.billing == "tokens" else "token_price")]
    cat_families, global_families = _pick(families, default)
    used = {"systems": sorted({o[0] for o in data.options}), "coolings": list(data.coolings),
            "equipment": _used_entries(facility)["equipment"],
            "plants": sorted({p for ids in data.rejection.values() for p in ids})}
    inputs = catalog_inputs(facility.catalog, **used, families=cat_families, widths=widths) if cat_families else []
    inputs += global_inputs(global_families, tier_evidence=_tier_evidence(facility), widths=widths)
    inputs = overridden(inputs, spreads)
    job = make_job(facility, inputs, objective, options, verify=verify, time_limit=time_limit, mip_gap=mip_gap,
                   mapper=mapper)
    return job, inputs, dict(OPTIMIZE_KPIS)


# ------------------------------------------------------------------------------------------------ running
def _fingerprint(facility: Facility, job: Any, inputs: Sequence[Input]) -> str:
    """What identifies a sample's inputs besides its values: the facility, the run's settings and the inputs."""
    from solvers.sweep import _fingerprint as facility_fingerprint

    skip = ("facility", "inputs", "weather", "utilization", "rack_system", "key", "data", "responses")
    settings = {"facility": facility_fingerprint(facility), "inputs": [i.name for i in inputs],
                "job": {k: repr(v) for k, v in vars(job).items() if k not in skip}}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for name in ("weather", "utilization"):
        value = getattr(job, name, None)
        if value is not None:
            digest.update(np.ascontiguousarray(value if name == "utilization" else value["dry_bulb_c"].values).tobytes())
    return digest.hexdigest()


def _evaluate(job: Any, rows: list[dict], run: str, client: Any, workers: int, progress: bool,
              out: str | os.PathLike | None, fingerprint: str) -> tuple[list[dict], int]:
    """Every row's record, reusing those written to `<out>.parts/` by an earlier call; (records, computed)."""
    from solvers.sweep import _distributed, _parts_folder, _ProgressBar, _read_part, _write_part

    parts = _parts_folder(out)
    keys: list[str] = []
    records: dict[int, dict] = {}
    if parts is not None:
        keys = [hashlib.sha256(json.dumps([fingerprint, run, r["values"]]).encode()).hexdigest()[:24] for r in rows]
        records = {i: rec for i, k in enumerate(keys) if (rec := _read_part(parts / f"{k}.json")) is not None}
    todo = [i for i in range(len(rows)) if i not in records]

    def finished(i: int, record: dict) -> None:
        records[i] = record
        if parts is not None and not record.get("retry"):
            _write_part(parts / f"{keys[i]}.json", record)

    with _ProgressBar(progress, len(rows), len(records), f"uncertainty {run}", "samples") as advance:
        if todo and client == "serial":
            for i in todo:
                finished(i, run_sample(job, rows[i], run))
                advance()
        elif todo:
            _distributed(client, workers, job, [(i, rows[i]) for i in todo], run, finished, advance, task=run_sample)
    return [records[i] for i in range(len(rows))], len(todo)


# ------------------------------------------------------------------------------------------------ results
def _optimize_dataset(job: Any, inputs: Sequence[Input], x: np.ndarray, records: list[dict], units: Mapping[str, str],
                      samples: int, sobol: bool) -> xr.Dataset:
    """Both modes over a `mode` dimension, each sample's re-optimized choice and whether it left the base's."""
    import pandas as pd
    import xarray as xr

    from solvers.uncertainty_design import MODES

    names = [k for k in units if any(f"{m}|{k}" in r["kpis"] for r in records for m in MODES)]
    parts = [_dataset(inputs, x, records, units, samples, sobol, prefix=f"{m}|", names=names) for m in MODES]
    ds = parts[0].copy()
    for var in ("value", "band", "point", "s1", "st", "tornado_low", "tornado_high"):
        if var in ds:
            ds[var] = xr.concat([p[var] for p in parts], dim=pd.Index(list(MODES), name="mode"))
    chosen = np.array([r.get("labels", {}).get("choice", "") for r in records[:samples]], dtype=str)
    ok = ds["status"].values == "ok"
    ds["choice"] = ("sample", chosen, {"long_name": "systems/coolings the re-optimized design builds"})
    ds["choice_changed"] = ("sample", ok & (chosen != job.choice),
                            {"long_name": "the re-optimized design builds other systems or coolings than the base"})
    excess = ds["value"].sel(mode="fixed", kpi="grid_excess_mw").values if "grid_excess_mw" in names else np.zeros(samples)
    ds.attrs.update({"base_choice": job.choice,
                     "choice_change_share": float(ds["choice_changed"].values[ok].mean()) if ok.any() else float("nan"),
                     "fixed_grid_exceeded_share": float(np.mean(excess[ok] > 1e-6)) if ok.any() else float("nan")})
    return ds


def _dataset(inputs: Sequence[Input], x: np.ndarray, records: list[dict], units: Mapping[str, str], samples: int,
             sobol: bool, prefix: str = "", names: Sequence[str] | None = None) -> xr.Dataset:
    """Samples, bands, the point at the medians and sensitivities as one Dataset over (sample, kpi, input); KPIs
    are read from each record under `prefix` + name."""
    import xarray as xr

    names = list(names) if names is not None else [k for k in units if any(k in r["kpis"] for r in records)]
    f = np.array([[_number(r["kpis"].get(prefix + k)) for k in names] for r in records]).reshape(len(records), len(names))
    point, evals = f[-1], f[:-1]
    values, xs = evals[:samples], x[:samples]
    d = len(inputs)
    if sobol:
        pairs = [saltelli_indices(evals[:, j], samples, d) for j in range(len(names))]
        s1 = np.array([p[0] for p in pairs]).reshape(len(names), d)
        st = np.array([p[1] for p in pairs]).reshape(len(names), d)
    else:
        s1 = np.array([first_order(xs, values[:, j]) for j in range(len(names))]).reshape(len(names), d)
    lows, highs = zip(*[tornado(xs, values[:, j]) for j in range(len(names))]) if names and d else ((), ())
    status = np.array([r["status"] for r in records[:samples]], dtype=str)
    data = {
        "value": (("sample", "kpi"), values, {"long_name": "KPI of each sample"}),
        "band": (("kpi", "quantile"), band(values), {"long_name": "P10, P50 and P90 over the samples that ran"}),
        "point": (("kpi",), point, {"long_name": "deterministic answer at the inputs' medians"}),
        "input_value": (("sample", "input"), xs, {"long_name": "sampled value (factor, or offset in its unit)"}),
        "s1": (("kpi", "input"), s1, {"long_name": "first-order Sobol index: share of the KPI's variance the "
                                                   "input explains alone"}),
        "tornado_low": (("kpi", "input"), np.array(lows).reshape(len(names), d),
                        {"long_name": "mean KPI over the samples in the input's lowest fifth"}),
        "tornado_high": (("kpi", "input"), np.array(highs).reshape(len(names), d),
                         {"long_name": "mean KPI over the samples in the input's highest fifth"}),
        "status": (("sample",), status, {"long_name": "ok, infeasible or error"}),
        "message": (("sample",), np.array([r["message"] for r in records[:samples]], dtype=str)),
        "seconds": (("sample",), np.array([_number(r.get("seconds")) for r in records[:samples]]),
                    {"units": "s", "long_name": "compute time of the sample in its worker"}),
    }
    if sobol:
        data["st"] = (("kpi", "input"), st, {"long_name": "total Sobol index (Jansen): share of variance with "
                                                          "the input's interactions"})
    coords = {
        "sample": np.arange(samples), "kpi": names, "quantile": list(QUANTILES),
        "kpi_units": ("kpi", [units[k] for k in names]),
        "input": [i.name for i in inputs],
        "input_label": ("input", [i.label for i in inputs]),
        "input_evidence": ("input", [i.evidence for i in inputs]),
        "input_kind": ("input", [i.kind for i in inputs]),
        "input_low": ("input", [i.spread.low_value for i in inputs]),
        "input_median": ("input", [i.median for i in inputs]),
        "input_high": ("input", [i.spread.high_value for i in inputs]),
        "input_why": ("input", [i.spread.why for i in inputs]),
    }
    return xr.Dataset(data, coords=coords)


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


__all__ = ["uncertainty", "RUNS", "SIMULATE_FAMILIES"]
