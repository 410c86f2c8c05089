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

RUNS = ("simulate",)
SIMULATE_FAMILIES = ("throughput", "node_power", "gpu_idle", "cooling_units", "chain_losses", "plant_fans",
                     "chiller_cop", "electricity_price", "token_price", "utilization", "weather")
"""The inputs a simulate run samples by default (`families` picks a subset)."""


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
) -> xr.Dataset:
    """Run `run` over `samples` points of the facility's uncertain inputs; return bands and sensitivities.

    families: input families to sample (default: all the run uses; see twin.uncertainty.CATALOG_FAMILIES and
    GLOBAL_FAMILIES). spreads: per input or family, a half-width (0.2) or a (low, high) pair; 0 fixes it. widths:
    default half-width per evidence tag (e.g. {'assumption': 0.5}). A blueprint's `site.uncertainty` ({spreads,
    widths}) applies under these. method: 'lhs' or 'sobol' points. client: as `solvers.sweep`. out: a .nc file;
    finished samples go to `<out>.parts/` and are reused by the next call with the same seed and inputs.
    """
    from solvers.sweep import _resolve_base

    if run not in RUNS:
        raise TwinError(f"run={run!r} is not one of {list(RUNS)}")
    base, label = _resolve_base(facility)
    if callable(base):
        raise TwinError("uncertainty needs a facility or a blueprint, not a builder")
    spreads, widths = _site_overrides(base, spreads, widths)
    job, inputs, units = _simulate_job(base, families, spreads, widths, hours=hours, weather=weather,
                                       utilization=utilization, workload=workload, freq=freq)
    d = len(inputs)
    unit = saltelli(d, samples, seed, method) if sobol else unit_points(d, samples, seed, method)
    x = to_values([i.spread for i in inputs], unit)
    medians = np.array([i.median for i in inputs])
    rows = [{"values": row.tolist()} for row in x] + [{"values": medians.tolist()}]
    started = time.perf_counter()
    job.key = _fingerprint(base, job, inputs)
    records, computed = _evaluate(job, rows, run, client, workers, progress, out, job.key)
    ds = _dataset(inputs, x, records, units, samples, sobol)
    ds.attrs.update({"run": run, "base": label, "samples": samples, "seed": seed, "method": method,
                     "sensitivity": "saltelli-jansen" if sobol else "given-data first order",
                     "computed": computed, "reused": len(rows) - computed, "seconds": time.perf_counter() - started,
                     "hours": int(hours)})
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
    from models.design_data import ELECTRICITY_USD_PER_KWH
    from twin import weather as weather_mod
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
    price = float(facility.graph.graph.get("electricity_usd_per_kwh") or ELECTRICITY_USD_PER_KWH)
    job = SimulateJob(facility, inputs, wx, util, workload if workload is not None else Workload(), price, freq,
                      racks["system"].astype(str).to_numpy())
    return job, inputs, dict(SIMULATE_KPIS)


# ------------------------------------------------------------------------------------------------ running
def _fingerprint(facility: Facility, job: Any, inputs: Sequence[Input]) -> str:
    """What identifies a sample's inputs besides its values: the facility, the run's settings and the inputs."""
    from solvers.sweep import _fingerprint as facility_fingerprint

    settings = {"facility": facility_fingerprint(facility), "inputs": [i.name for i in inputs],
                "job": {k: repr(v) for k, v in vars(job).items() if k not in ("facility", "inputs", "weather",
                                                                                "utilization", "rack_system", "key")}}
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

    with _ProgressBar(progress, len(rows), len(records), f"uncertainty {run}") as advance:
        if todo and client == "serial":
            for i in todo:
                finished(i, run_sample(job, rows[i], run))
                advance()
        elif todo:
            _distributed(client, workers, job, [(i, rows[i]) for i in todo], run, finished, advance, task=run_sample)
    return [records[i] for i in range(len(rows))], len(todo)


# ------------------------------------------------------------------------------------------------ results
def _dataset(inputs: Sequence[Input], x: np.ndarray, records: list[dict], units: Mapping[str, str], samples: int,
             sobol: bool) -> xr.Dataset:
    """Samples, bands, the point at the medians and sensitivities as one Dataset over (sample, kpi, input)."""
    import xarray as xr

    names = [k for k in units if any(k in r["kpis"] for r in records)]
    f = np.array([[_number(r["kpis"].get(k)) for k in names] for r in records]).reshape(len(records), len(names))
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
