"""`sweep`: many scenarios of one base design, optimized or simulated on dask.distributed, as one xarray.Dataset.

A grid (`{"grid_mw": [50, 100], "climate": ["phoenix", "lulea"]}`) gives one dimension per parameter; a table
(a list of dicts) gives a `scenario` dimension. KPIs are variables; `status` and `message` say, per scenario,
whether it solved ('ok'), had no feasible design ('infeasible') or failed ('error'). With `out`, every finished
scenario is written at once to `<out>.parts/` so that an interrupted sweep resumes where it stopped (a scenario
lost with its worker is reported as an error but not written, so the next run tries it again).

The default local cluster starts worker processes that import the calling script: in a script, call `sweep`
under `if __name__ == "__main__":`.

>>> import solvers
>>> ds = solvers.sweep("ai-factory-hall", {"grid_mw": [6, 12]}, verify=False, client="serial", progress=False)
>>> ds["status"].values.tolist(), bool(ds["tokens_per_s"].sel(grid_mw=12) > ds["tokens_per_s"].sel(grid_mw=6))
(['ok', 'ok'], True)
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from twin.errors import InfeasibleDesign, TwinError, did_you_mean

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility

RUNS = ("optimize", "simulate")
STATUSES = ("ok", "infeasible", "error")
DEFAULT_WORKERS = 2

KEYS: dict[str, str] = {
    "grid_mw": "grid connection, MW (optimize: the limit; simulate: the site limit for overload flags)",
    "climate": "site climate: design ambient for optimize, default weather for simulate",
    "electricity_usd_per_kwh": "electricity price, USD/kWh (site attribute)",
    "system": "GPU system id, or a list (a+b) the optimizer may choose from",
    "cooling": "cooling technology id, or a list the optimizer may choose from, in every hall",
    "tiers": "token tier, or list of tiers (a+b), served: optimize drops demand elsewhere; simulate serves only these",
    "llm": "LLM served (deepseek-r1, gpt-oss-120b)",
    "precision": "fp8 or fp4",
    "isl": "input tokens per request",
    "osl": "output tokens per request",
    "objective": "optimize: profit (default), revenue, tokens or tokens-per-dollar",
    "power_caps": "optimize: allow GPU power caps",
    "capex_budget_usd": "optimize: capex budget, USD",
    "verify": "optimize: check and correct the design with the simulator",
    "time_limit": "optimize: solver time limit, s",
    "mip_gap": "optimize: relative MIP gap",
    "hours": "simulate: hours from the start",
    "freq": "simulate: time step (1h, 15min, ...)",
    "utilization": "simulate: constant, diurnal, training or a number 0..1",
    "weather": "simulate: climate name or weather file (default: the site climate)",
    "start": "simulate: first time step (2025-01-01)",
}
ONLY = {"optimize": ("objective", "power_caps", "capex_budget_usd", "verify", "time_limit", "mip_gap", "system", "cooling"),
        "simulate": ("hours", "freq", "utilization", "weather", "start")}
NUMBERS = {"grid_mw": 0.0, "electricity_usd_per_kwh": None, "capex_budget_usd": 0.0, "time_limit": 0.0, "mip_gap": None,
           "isl": 0.0, "osl": 0.0, "hours": 0.0}
"""Keys whose values are finite numbers, each above its bound (None: at least zero)."""
FLAGS = ("power_caps", "verify", "gpu_nodes")
"""Keys whose values are true or false (yes/no, on/off)."""
WORKLOAD_KEYS = ("llm", "precision", "isl", "osl")
RESERVED = ("scenario", "tier", "status", "message", "seconds", "tokens_per_s_by_tier")
KPI_UNITS = {"tokens_per_s": "s-1", "facility_mw": "MW", "it_mw": "MW", "grid_limit_mw": "MW", "simulated_grid_mw": "MW",
             "pue": "1", "revenue_usd_per_year": "USD year-1", "capex_usd": "USD", "usd_per_mtok": "USD Mtok-1",
             "gpus": "1", "racks": "1", "design_ambient_c": "degC", "design_wet_bulb_c": "degC", "interactivity_tok_s_user": "s-1", "peak_grid_mw": "MW",
             "revenue_usd": "USD", "energy_cost_usd": "USD", "energy_usd_per_mtok": "USD Mtok-1", "tokens": "1"}


# ------------------------------------------------------------------------------------------------ public entry
def sweep(
    base: str | os.PathLike | Facility | Callable[..., Facility],
    scenarios: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    run: str = "optimize",
    *,
    client: Any = None,
    out: str | os.PathLike | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: bool = True,
    callback: Callable[[dict[str, Any]], None] | None = None,
    **options: Any,
) -> xr.Dataset:
    """Run `run` ('optimize' or 'simulate') on `base` for every scenario; return KPIs, status and message.

    base: a blueprint name or path, a Facility, or a builder such as `blueprints.parametric.ai_factory` that is
    called with the scenario keys it accepts. options: keys fixed for every scenario (same names as the
    scenario keys, see KEYS). client: None starts a LocalCluster of `workers` processes (1 thread each); a
    `distributed.Client` or a scheduler address uses that cluster; 'serial' runs here without dask. out: a
    .nc file written at the end; finished scenarios go to `<out>.parts/` as they finish and are reused on
    the next call. callback(record) is called after each newly finished scenario.
    """
    if run not in RUNS:
        raise TwinError(f"run={run!r} is not one of {list(RUNS)}")
    rows, axes = expand(scenarios)
    base_obj, base_label = _resolve_base(base)
    merged = [{**options, **row} for row in rows]
    check_keys(merged, run, base_obj)
    parts = _parts_folder(out)
    records: dict[int, dict] = {}
    keys: list[str] = []
    if parts is not None:
        fingerprint = _fingerprint(base_obj)
        keys = [_scenario_key(fingerprint, run, s) for s in merged]
        records = {i: rec for i, k in enumerate(keys) if (rec := _read_part(parts / f"{k}.json")) is not None}
    todo = [i for i in range(len(merged)) if i not in records]
    started = time.perf_counter()

    def finished(i: int, record: dict) -> None:
        record = {"scenario": _plain(merged[i]), **record}
        records[i] = record
        if parts is not None and not record.get("retry"):
            _write_part(parts / f"{keys[i]}.json", record)
        if callback is not None:
            callback(record)

    with _ProgressBar(progress, len(merged), len(records), run) as advance:
        if todo and client == "serial":
            for i in todo:
                finished(i, run_scenario(base_obj, merged[i], run))
                advance()
        elif todo:
            _distributed(client, workers, base_obj, [(i, merged[i]) for i in todo], run, finished, advance)
    attrs = {"run": run, "base": base_label, "options": json.dumps(_plain(options), sort_keys=True),
             "computed": len(todo), "reused": len(merged) - len(todo), "seconds": time.perf_counter() - started}
    ds = to_dataset(rows, axes, [records[i] for i in range(len(merged))], attrs, fixed=options)
    if out is not None:
        _write_netcdf(ds, Path(out))
    return ds


def expand(scenarios: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> tuple[list[dict], dict[str, list] | None]:
    """Scenario dicts in order, and the grid axes (None for a table). A scalar grid value is a 1-long axis."""
    if isinstance(scenarios, Mapping):
        axes = {str(k): list(v) if isinstance(v, (list, tuple, range, np.ndarray)) else [v] for k, v in scenarios.items()}
        for key, values in axes.items():
            labels = [_label(v) for v in values]
            if not values or len(set(labels)) < len(labels):
                raise TwinError(f"grid parameter {key!r} needs distinct values, got {values!r}")
        return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())], axes
    rows = list(scenarios)
    if not rows or not all(isinstance(r, Mapping) for r in rows):
        raise TwinError("scenarios must be a dict of lists (a grid) or a non-empty list of dicts (a table)")
    return [dict(r) for r in rows], None


def check_keys(scenarios: Sequence[Mapping[str, Any]], run: str, base: Any) -> None:
    """Raise TwinError naming any key that is unknown or means nothing for this run and base."""
    built = set(_builder_params(base)) if callable(base) else set()
    other = "simulate" if run == "optimize" else "optimize"
    for key in sorted({k for s in scenarios for k in s}):
        if key in RESERVED:
            hint = "; set the tiers served with 'tiers'" if key == "tier" else ""
            raise TwinError(f"{key!r} names part of the sweep results ({', '.join(RESERVED)}); it cannot be a parameter{hint}")
        if key in built:
            continue
        if key not in KEYS:
            raise TwinError(f"unknown sweep parameter {key!r}; {did_you_mean(key, list(KEYS) + sorted(built))}")
        if run == "simulate" and key in ("system", "cooling"):
            raise TwinError(f"parameter {key!r} needs run='optimize' or a builder base that takes it "
                            "(e.g. blueprints.parametric.ai_factory) when simulating").on_cli(
                f"parameter {key!r} needs --run optimize, or the base 'parametric', when simulating")
        if key in ONLY[other] and key not in ONLY[run]:
            raise TwinError(f"parameter {key!r} applies to run={other!r}, not {run!r}").on_cli(
                f"parameter {key!r} applies to --run {other}, not --run {run}")
    for s in scenarios:
        for key, value in s.items():
            _check_value(key, value)


def _check_value(key: str, value: Any) -> None:
    """A number key holds a finite number in range, a flag key true or false; else a TwinError naming both."""
    if key in FLAGS and not isinstance(value, (bool, np.bool_)):
        raise TwinError(f"parameter {key}={value!r} is not true or false; write {key}=true or {key}=false")
    if key not in NUMBERS:
        return
    floor = NUMBERS[key]
    number = isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))
    if not number or not np.isfinite(value) or (value <= floor if floor is not None else value < 0):
        bound = f"above {floor:g}" if floor is not None else "at least 0"
        raise TwinError(f"parameter {key}={value!r} is not a finite number {bound}; {KEYS.get(key, key)}")


# ------------------------------------------------------------------------------------------------ one scenario
def run_scenario(base: Any, scenario: Mapping[str, Any], run: str) -> dict[str, Any]:
    """Optimize or simulate one scenario; never raises: failures come back as status and message."""
    started = time.perf_counter()
    status, message, kpis, tiers = "ok", "", {}, {}
    try:
        facility = _facility(base, scenario, run)
        kpis, tiers = (_optimize if run == "optimize" else _simulate)(facility, scenario)
    except Exception as exc:  # noqa: BLE001  (a scenario's failure must not stop the sweep)
        status, message = failure(exc)
    return {"status": status, "message": message, "kpis": kpis, "tokens_per_s_by_tier": tiers,
            "seconds": time.perf_counter() - started}


def failure(exc: Exception) -> tuple[str, str]:
    """Status and message of a scenario or sample that raised: 'infeasible' for an infeasible design, else 'error'
    with our own errors' message as it is and any other exception's prefixed by its type."""
    if isinstance(exc, InfeasibleDesign):
        return "infeasible", str(exc)
    if isinstance(exc, TwinError):
        return "error", str(exc)
    return "error", f"{type(exc).__name__}: {exc}"


def _facility(base: Any, s: Mapping[str, Any], run: str) -> Facility:
    """The scenario's facility: built by a builder, or the shared base (copied only when a scenario edits it)."""
    if callable(base):
        facility, fresh = base(**{k: s[k] for k in _builder_params(base) if k in s}), True
    else:
        facility, fresh = base, False
    site: dict[str, Any] = {k: s[k] for k in ("climate", "electricity_usd_per_kwh") if k in s}
    if run == "simulate" and "grid_mw" in s:
        site["grid_limit_mw"] = float(s["grid_mw"])
    if run == "optimize" and "tiers" in s:
        keep = set(_listify(s["tiers"]))
        for t in keep:
            facility.catalog.tier(t)
        market = dict(facility.graph.graph.get("market") or {})
        site["market"] = {**market, **{t: {**(market.get(t) or {}), "demand_tokens_per_s": 0.0}
                                        for t in facility.catalog.tiers if t not in keep}}
    coolings = _listify(s["cooling"]) if run == "optimize" and "cooling" in s else None
    if not (site or coolings):
        return facility
    if not fresh:
        facility = facility.copy()
    facility.graph.graph.update(site)
    if coolings:
        for c in coolings:
            facility.catalog.cooling_tech(c)
        for hall in facility.nodes_of("hall"):
            facility.graph.nodes[hall]["cooling_options"] = list(coolings)
    return facility


def _optimize(facility: Facility, s: Mapping[str, Any]) -> tuple[dict, dict]:
    from solvers.design import optimize

    kwargs = {k: s[k] for k in ("grid_mw", "power_caps", "capex_budget_usd", "verify", "time_limit", "mip_gap") if k in s}
    if "system" in s:
        kwargs["systems"] = _listify(s["system"])
    plan = optimize(facility, s.get("objective", "profit"), workload=_workload(s, None), **kwargs)
    tiers = {k[len("tokens_per_s["):-1]: float(v) for k, v in plan.kpis.items() if k.startswith("tokens_per_s[")}
    kpis = {k: v for k, v in plan.kpis.items() if not k.startswith("tokens_per_s[")}
    kpis["interactivity_tok_s_user"] = _interactivity(facility, tiers)
    return kpis, tiers


def _simulate(facility: Facility, s: Mapping[str, Any]) -> tuple[dict, dict]:
    from models.design_data import ELECTRICITY_USD_PER_KWH
    from twin.simulation import simulate

    kwargs = {k: s[k] for k in ("hours", "freq", "utilization", "start") if k in s}
    tiers_served = _listify(s["tiers"]) if "tiers" in s else None
    ds = simulate(facility, weather=s.get("weather"), workload=_workload(s, tiers_served), per_rack=False,
                  per_device=False, **kwargs)
    kpis = ds.twin.summary()
    kpis["simulated_hours"] = kpis.pop("hours")                # 'hours' is the parameter
    hours = ds["step_hours"]
    mean = (ds["tokens_per_s"] * hours).sum("time") / hours.sum()
    tiers = {str(t): float(v) for t, v in zip(ds["tier"].values, mean.values)}
    price = float(facility.graph.graph.get("electricity_usd_per_kwh") or ELECTRICITY_USD_PER_KWH)
    kpis["tokens_per_s"] = sum(tiers.values())
    kpis["energy_cost_usd"] = kpis["grid_energy_mwh"] * 1000.0 * price
    kpis["energy_usd_per_mtok"] = kpis["energy_cost_usd"] / (kpis["tokens"] / 1e6) if kpis["tokens"] else float("nan")
    kpis["interactivity_tok_s_user"] = _interactivity(facility, tiers)
    return kpis, tiers


def _workload(s: Mapping[str, Any], tiers: list[str] | None):
    from twin.physics.tokens import Workload

    given = {k: s[k] for k in WORKLOAD_KEYS if k in s}
    if not given and tiers is None:
        return None
    return Workload(**given, tier_mix=None if tiers is None else dict.fromkeys(tiers, 1.0))


def _interactivity(facility: Facility, tiers: Mapping[str, float]) -> float:
    """Token-weighted tokens/s per user that the served tiers ask for (NaN when nothing is served)."""
    known = facility.catalog.tiers
    served = {t: v for t, v in tiers.items() if v > 0 and t in known}
    total = sum(served.values())
    if not total:
        return float("nan")
    return sum(v * known[t].min_interactivity_tok_s_user for t, v in served.items()) / total


# ------------------------------------------------------------------------------------------------ running
def _distributed(client: Any, workers: int, base: Any, todo: list[tuple[int, dict]], run: str,
                 finished: Callable[[int, dict], None], advance: Callable[[], None],
                 task: Callable[[Any, dict, str], dict] | None = None) -> None:
    """Submit every scenario against one scattered base; record results in completion order. `task(base,
    scenario, run)` computes one record (default `run_scenario`; `solvers.uncertainty` passes its samples')."""
    from distributed import as_completed

    client, owned = _connect(client, workers)
    futures = {}
    try:
        client.run(_warm_up, run)
        shared = base if callable(base) else client.scatter(base, broadcast=True, hash=False)
        futures = {client.submit(task or run_scenario, shared, scenario, run, pure=False): i for i, scenario in todo}
        for future, record in as_completed(futures, with_results=True, raise_errors=False):
            if future.status != "finished":   # e.g. a lost worker: that scenario fails, the sweep goes on
                exc = record[1] if isinstance(record, tuple) else record      # (type, exception, traceback)
                record = {"status": "error", "message": f"{type(exc).__name__}: {exc}", "kpis": {},
                          "tokens_per_s_by_tier": {}, "seconds": float("nan"), "retry": True}
            finished(futures[future], record)
            advance()
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        if owned:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()


QUIET = {
    "distributed.worker.profile.enabled": False,          # the statistical profiler: ~10 % of a worker's CPU here
    "distributed.admin.tick.interval": "500ms",           # event-loop health ticks: every 20 ms by default
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
    # dask's default also sets MALLOC_TRIM_THRESHOLD_, which fixes glibc's mmap threshold: every array over
    # 128 kB (a year of hourly values per device) is then mapped and unmapped anew, and a simulate sample ran
    # 1.6x slower in a worker than in the calling process
    "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1},
}
"""Config of the default local cluster: its idle scheduler and nannies took ~9 % of a core with the defaults,
and its workers keep one thread per library and glibc's adaptive allocator."""


def local_client(workers: int = DEFAULT_WORKERS) -> Any:
    """A `distributed.Client` on a new LocalCluster of `workers` processes, 1 thread each, no dashboard and the
    QUIET config (with 2 cores, every bit of CPU the cluster itself uses is taken from a scenario). Close
    `client.cluster` too."""
    import logging
    import multiprocessing
    import warnings

    import dask
    from distributed import Client, LocalCluster

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise TwinError(f"workers={workers!r} must be a whole number >= 1")
    if getattr(multiprocessing.current_process(), "_inheriting", False):   # a worker importing the calling script
        raise TwinError(NO_MAIN_GUARD)
    try:
        with dask.config.set(QUIET), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Port 8787 is already in use")   # its health page then takes a free port
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
    except (RuntimeError, TimeoutError, OSError) as exc:   # "Nanny failed to start", mostly for want of the guard
        raise TwinError(f"the local dask cluster did not start ({type(exc).__name__}: {exc}). {NO_MAIN_GUARD}") from None
    return Client(cluster)


NO_MAIN_GUARD = ("The local cluster's workers import the calling script: in a script, call sweep under "
                 "`if __name__ == \"__main__\":` (or pass client='serial', or a scheduler address)")


def _connect(client: Any, workers: int) -> tuple[Any, bool]:
    from distributed import Client

    if client is None:
        return local_client(workers), True
    if isinstance(client, str):
        try:
            return Client(client, timeout="20s"), True
        except OSError as exc:
            raise TwinError(f"cannot reach the dask scheduler at {client!r} ({exc}); check the address") from None
    return client, False


def _warm_up(run: str) -> None:
    """Do the one-off work (imports, many lazy; the packaged catalog) on every worker before the first scenario."""
    import importlib

    import xarray as xr

    modules = ("dask.array", "solvers.design", "models.linear", "twin.simulation", "twin.state", "twin.weather")
    if run == "optimize":
        modules += ("pyomo.environ", "pyomo.contrib.solver.solvers.highs", "highspy")
    for name in modules:
        importlib.import_module(name)
    xr.Dataset({"x": ("i", np.zeros(1))})
    from twin.catalog import default_catalog

    default_catalog()


class _ProgressBar:
    """A rich progress bar over scenarios (or nothing), yielding a function that advances it by one."""

    def __init__(self, show: bool, total: int, done: int, run: str, unit: str = "scenarios"):
        self.show, self.total, self.done, self.run, self.unit = show, total, done, run, unit

    def __enter__(self) -> Callable[[], None]:
        if not self.show:
            return lambda: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn(f"[bold]{self.run}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn(self.unit), TimeElapsedColumn(), TimeRemainingColumn(), transient=True,
                                 console=Console(stderr=True))     # stdout may carry CSV/JSON
        self.progress.start()
        task = self.progress.add_task("sweep", total=self.total, completed=self.done)
        return lambda: self.progress.advance(task)

    def __exit__(self, *exc: Any) -> None:
        if self.show:
            self.progress.stop()


# ------------------------------------------------------------------------------------------------ results
def to_dataset(rows: list[dict], axes: dict[str, list] | None, records: list[dict], attrs: dict,
               fixed: Mapping[str, Any] | None = None) -> xr.Dataset:
    """KPIs, tokens/s by tier, status, message and seconds over the grid axes or a `scenario` dimension;
    parameters fixed for every scenario become scalar coordinates."""
    import xarray as xr

    if axes is not None:
        dims = list(axes)
        coords: dict[str, Any] = {k: (k, _coord_values(v)) for k, v in axes.items()}
    else:
        dims = ["scenario"]
        coords = {"scenario": np.arange(len(rows))}
        for key in dict.fromkeys(k for r in rows for k in r):
            coords[key] = ("scenario", _coord_values([r.get(key) for r in rows]))
    shape = tuple(len(v) for v in axes.values()) if axes is not None else (len(rows),)
    names = list(dict.fromkeys(k for r in records for k in r["kpis"]))
    tiers = list(dict.fromkeys(t for r in records for t in r["tokens_per_s_by_tier"]))
    data: dict[str, Any] = {}
    for name in names:
        values = _kpi_values([r["kpis"].get(name) for r in records]).reshape(shape)
        data[name] = (dims, values, {"units": KPI_UNITS[name]} if name in KPI_UNITS else {})
    if tiers:
        by_tier = np.array([[_number(r["tokens_per_s_by_tier"].get(t)) for t in tiers] for r in records])
        data["tokens_per_s_by_tier"] = (dims + ["tier"], by_tier.reshape(shape + (len(tiers),)), {"units": "s-1"})
        coords["tier"] = tiers
    data["status"] = (dims, np.array([r["status"] for r in records], dtype=str).reshape(shape),
                      {"long_name": "ok, infeasible or error"})
    data["message"] = (dims, np.array([r["message"] for r in records], dtype=str).reshape(shape))
    data["seconds"] = (dims, np.array([_number(r["seconds"]) for r in records]).reshape(shape),
                       {"units": "s", "long_name": "compute time of the scenario"})
    swept = set(axes or ()) | {k for r in rows for k in r}
    for key, value in (fixed or {}).items():
        if key not in swept:
            coords[key] = _coord_values([value])[0]
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _coord_values(values: list[Any]) -> np.ndarray:
    """Numbers stay numbers (missing -> NaN), booleans stay booleans, anything else becomes a label."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present) and len(present) == len(values):
        return np.array(values, dtype=bool)
    if present and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in present):
        if len(present) == len(values) and all(isinstance(v, (int, np.integer)) for v in values):
            return np.array(values, dtype=np.int64)
        return np.array([np.nan if v is None else float(v) for v in values])
    return np.array(["" if v is None else _label(v) for v in values], dtype=str)


def _label(value: Any) -> str:
    return "+".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _listify(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split("+")
    return [str(v) for v in value]


def _kpi_values(values: list[Any]) -> np.ndarray:
    """A KPI across scenarios: numbers as floats (missing -> NaN), text KPIs (the design hour) as labels."""
    if any(isinstance(v, str) for v in values):
        return np.array(["" if v is None else str(v) for v in values], dtype=str)
    return np.array([_number(v) for v in values], dtype=float)


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


# ------------------------------------------------------------------------------------------------ the base
def _resolve_base(base: Any) -> tuple[Any, str]:
    """A Facility or a builder to ship to the workers, and a label for the results."""
    from twin.facility import Facility

    if isinstance(base, Facility):
        return base, base.name
    if callable(base):
        return base, _callable_name(base)
    if isinstance(base, (str, os.PathLike)):
        import blueprints

        return blueprints.load(base), str(base)
    raise TwinError(f"base must be a blueprint name or path, a Facility or a builder, got {type(base).__name__}")


def _builder_params(builder: Callable) -> list[str]:
    return [p.name for p in inspect.signature(builder).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _callable_name(fn: Any) -> str:
    import functools

    if isinstance(fn, functools.partial):
        return f"{_callable_name(fn.func)}({json.dumps(_plain(fn.keywords), sort_keys=True)})"
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


def _fingerprint(base: Any) -> str:
    """What identifies the base across runs: the builder's name, or the facility's content and catalog."""
    if callable(base):
        return _callable_name(base)
    from twin.catalog import default_catalog
    from twin.io import to_node_link

    digest = hashlib.sha256(json.dumps(to_node_link(base), sort_keys=True, default=str).encode())
    if base.catalog is not default_catalog():
        for section in ("systems", "cooling", "equipment", "heat_rejection", "tiers", "power_caps", "throughput"):
            digest.update(base.catalog.table(section).to_json().encode())
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------ files
def _parts_folder(out: str | os.PathLike | None) -> Path | None:
    if out is None:
        return None
    if Path(out).suffix.lower() != ".nc":
        raise TwinError(f"out={str(out)!r}: sweep results are written as NetCDF; give a path ending in .nc")
    return Path(f"{out}.parts")


def _scenario_key(fingerprint: str, run: str, scenario: Mapping[str, Any]) -> str:
    text = json.dumps({"base": fingerprint, "run": run, "scenario": _plain(scenario)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _read_part(path: Path) -> dict | None:
    """A finished scenario's record, or None if it is missing or unreadable (then it is recomputed)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("status") in STATUSES else None


def _write_part(path: Path, record: dict) -> None:
    from twin.atomic import atomic_write

    atomic_write(path, lambda fh: json.dump(record, fh))


def _write_netcdf(ds: xr.Dataset, path: Path) -> None:
    from twin.atomic import atomic_path

    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp)


__all__ = ["sweep", "expand", "check_keys", "run_scenario", "failure", "to_dataset", "local_client", "KEYS", "RUNS"]
