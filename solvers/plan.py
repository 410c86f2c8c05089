"""`Plan`: what the design optimizer returns: KPIs, decisions as xarray, the solved facility, solver stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.design_data import HOURS_PER_YEAR, DesignData
from models.economics import economic_kpis
from solvers.highs import Solution

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility


@dataclass
class Plan:
    """A solved design. `kpis` are the model's design-point numbers; `cross_check()` re-derives them with
    the simulator on the solved facility."""

    objective: str
    kpis: dict[str, Any]
    decisions: xr.Dataset
    facility: Facility
    solution: Solution
    data: DesignData = field(repr=False)
    changes: Any = field(default=None, repr=False)   # solvers.changes.Changes against the input facility
    timings: dict[str, float] = field(default_factory=dict)   # seconds per stage of `solvers.optimize`

    @property
    def status(self) -> str:
        return self.solution.status.value

    def save(self, path: str | Path) -> Path:
        """Write the KPIs and decisions as JSON (atomically)."""
        import json

        from twin.io import atomic_write

        payload = {"objective": self.objective, "status": self.status, "kpis": self.kpis,
                   "solver": {"objective": self.solution.objective, "bound": self.solution.bound,
                              "gap": self.solution.gap, **self.solution.timings},
                   "decisions": decision_records(self.decisions),
                   "changes": self.changes.records() if self.changes is not None else None}
        return atomic_write(path, lambda fh: json.dump(payload, fh, indent=1, default=_plain))

    def cross_check(self, *, rtol: float = 0.02) -> dict[str, float]:
        """Simulate the solved facility through its design year at full load; compare to the plan.

        Returns the simulated peak grid MW (and, with an allowed exceedance, the highest hour that must hold),
        the lowest full-load tokens/s over the year (per tier) and their ratios to the plan; raises
        InfeasibleDesign if the simulated grid power exceeds the limit by more than `rtol`.
        """
        from solvers.verify import simulate_year
        from twin.errors import InfeasibleDesign

        year = simulate_year(self.facility, self.data).year
        grid = np.sort(year["grid_power_kw"].values)[::-1]
        grid_mw = float(grid[min(self.data.year.exceedance_hours, grid.size - 1)]) / 1000.0
        tokens_t = year["tokens_per_s"].sum("tier").values
        low = int(np.argmin(tokens_t))
        by_tier = {str(t): float(year["tokens_per_s"].sel(tier=t).values[low]) for t in year["tier"].values}
        tokens = sum(by_tier.values())
        out = {"grid_mw": grid_mw, "peak_grid_mw": float(grid[0]) / 1000.0, "tokens_per_s": tokens,
               "tokens_per_s_by_tier": by_tier,
               "grid_ratio": grid_mw / self.kpis["facility_mw"] if self.kpis["facility_mw"] else float("nan"),
               "tokens_ratio": tokens / self.kpis["tokens_per_s"] if self.kpis["tokens_per_s"] else float("nan")}
        if grid_mw > self.kpis["grid_limit_mw"] * (1 + rtol):
            raise InfeasibleDesign(f"the solved facility draws {grid_mw:.2f} MW in its simulated design year, "
                                   f"above the {self.kpis['grid_limit_mw']:g} MW limit")
        return out


def binding_hour(data: DesignData, racks: dict[tuple, float]) -> int:
    """The design-year hour whose grid row has the least room left for a rack decision (its correction counted)."""
    from models.design_year import model_grid_kw

    rows = data.year.rows()
    return int(rows[np.argmax(model_grid_kw(data, racks, rows) + data.year.correction(rows))])


def kpis(data: DesignData, values: dict[str, dict[tuple, float]], year: Any = None, rounds: int | None = None,
         ) -> dict[str, Any]:
    """KPIs from the decisions and the data arrays: power at the design year's binding hour, energy-like
    figures (WUE) over the year; with a verified `year` (twin.design_year.YearCheck) its simulated figures."""
    opt_index = {o: i for i, o in enumerate(data.options)}
    cool_index = {c: j for j, c in enumerate(data.coolings)}
    class_index = {h.name: k for k, h in enumerate(data.halls)}
    hour = binding_hour(data, values["racks"])
    overhead = data.overhead_at(hour)[0]                  # grid kW per rack at the design year's binding hour
    mean = data.overhead()                                # ... and over the year on average (energy)
    racks = it = grid = gpus = capex = water = 0.0
    built: list[tuple[int, float, float]] = []
    for (k, c, o), n in values["racks"].items():
        if n < 0.5:
            continue
        i, j, kk = opt_index[o], cool_index[c], class_index[k]
        built.append((i, round(n), float(mean[kk, i, j])))
        racks += n
        it += n * data.rack_kw[i]
        grid += n * overhead[kk, i, j]
        gpus += n * data.gpus[i]
        capex += n * data.capex_rack[i]
        water += n * data.rack_kw[i] * data.water_l_per_kwh[i, j]
    tier_index = {t: j for j, t in enumerate(data.tiers)}
    by_tier = dict.fromkeys(data.tiers, 0.0)
    by_option_tier: dict[tuple[int, int], float] = {}
    for (o, t), n in values["serve"].items():
        if n < 0.5:
            continue
        i, j = opt_index[o], tier_index[t]
        by_tier[t] += round(n) * data.tokens[i, j]
        by_option_tier[(i, j)] = round(n)
    plant_it = sum(values["plant_it"].values())
    plant_heat = {c: v for (c,), v in values["plant_heat"].items()}
    money = economic_kpis(data, built, by_tier, plant_it, plant_heat, *_evidence_shares(data, by_option_tier, by_tier))
    revenue = money["market_revenue_usd_per_year"]
    capex = money["total_capex_usd"]
    facility_kw = grid + data.aux_kw
    tokens = sum(by_tier.values())
    cost_year = money["capital_cost_usd_per_year"] + money["om_usd_per_year"] + money["energy_usd_per_year"]
    mtok_year = tokens * 3600 * HOURS_PER_YEAR / 1e6
    out = {
        "tokens_per_s": tokens,
        "facility_mw": facility_kw / 1000.0,
        "it_mw": it / 1000.0,
        "grid_limit_mw": data.grid_limit_kw / 1000.0,
        "pue": facility_kw / it if it else float("nan"),
        "gpus": int(round(gpus)),
        "racks": int(round(racks)),
        "revenue_usd_per_year": revenue,
        "capex_usd": capex,
        "usd_per_mtok": cost_year / mtok_year if mtok_year else float("nan"),
        "tokens_per_joule": tokens / (facility_kw * 1000.0) if facility_kw else float("nan"),
        "wue_l_per_kwh": water / it if it else 0.0,
        "design_ambient_c": float(data.year.dry_bulb_c[hour]),
        "design_wet_bulb_c": float(data.year.wet_bulb_c[hour]),
        "design_hour": data.year.describe(hour),
        "design_weather": data.year.weather,
        "design_rows": int(data.year.rows().size),
        "design_exceedance_hours": data.year.exceedance_hours,
        **{f"tokens_per_s[{t}]": v for t, v in by_tier.items()},
        **money,
    }
    if year is not None:
        out.update({"simulated_grid_mw": year.peak_grid_mw, "grid_hours_over_limit": year.over_grid_hours,
                    "throttled_hours": year.throttled_hours, "over_temperature_hours": year.over_temperature_hours,
                    "verify_rounds": rounds})
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in out.items()}


def _evidence_shares(data: DesignData, serve: dict[tuple[int, int], float],
                     by_tier: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """Tokens/s and revenue at list prices per evidence label (measured, derived, vendor_claim) of the
    serving racks (the shares the KPI table reports)."""
    tokens: dict[str, float] = {}
    usd: dict[str, float] = {}
    for (i, j), n in serve.items():
        label = data.evidence[i] if data.evidence else "measured"
        rate = n * data.tokens[i, j]
        tokens[label] = tokens.get(label, 0.0) + rate
        usd[label] = usd.get(label, 0.0) + n * data.usd_per_hour[i, j]
    for label in ("measured", "derived", "vendor_claim"):
        tokens.setdefault(label, 0.0)
        usd.setdefault(label, 0.0)
    return tokens, usd


def decisions_dataset(data: DesignData, values: dict[str, dict[tuple, float]]) -> xr.Dataset:
    """Racks per (hall class, cooling, option), racks serving each tier, halls per cooling, plant sizes.

    Coordinates equal the data's index sets; the option coordinate carries system, nodes and cap_w.
    """
    import xarray as xr

    classes = [h.name for h in data.halls]
    opts = [f"{s}/{n}n/{c:g}W" for s, n, c in data.options]
    racks = np.zeros((len(classes), len(data.coolings), len(opts)))
    serve = np.zeros((len(opts), len(data.tiers)))
    halls = np.zeros((len(classes), len(data.coolings)))
    oi = {o: i for i, o in enumerate(data.options)}
    for (k, c, o), v in values["racks"].items():
        racks[classes.index(k), data.coolings.index(c), oi[o]] = round(v)
    for (o, t), v in values["serve"].items():
        serve[oi[o], data.tiers.index(t)] = round(v)
    for (k, c), v in values["halls"].items():
        halls[classes.index(k), data.coolings.index(c)] = round(v)
    return xr.Dataset(
        {
            "racks": (("hall_class", "cooling", "option"), racks, {"long_name": "racks built", "units": "1"}),
            "serve": (("option", "tier"), serve, {"long_name": "racks serving a tier", "units": "1"}),
            "halls": (("hall_class", "cooling"), halls, {"long_name": "halls given a cooling technology", "units": "1"}),
            "plant_heat_kw": (("cooling",), [values["plant_heat"].get((c,), 0.0) for c in data.coolings],
                              {"long_name": "cooling plant built for", "units": "kW"}),
            "plant_it_kw": ((), sum(values["plant_it"].values()), {"long_name": "power chain built for", "units": "kW"}),
        },
        coords={
            "hall_class": classes, "cooling": data.coolings, "option": opts, "tier": data.tiers,
            "system": ("option", [o[0] for o in data.options]), "nodes": ("option", [o[1] for o in data.options]),
            "cap_w": ("option", [o[2] for o in data.options]), "rack_kw": ("option", data.rack_kw),
        },
        attrs={"site": data.site, "design_weather": data.year.weather},
    )


def decision_records(ds: xr.Dataset) -> list[dict[str, Any]]:
    """The non-zero rack decisions as plain records (for JSON and tables)."""
    racks = ds["racks"]
    out = []
    for k, c, o in zip(*np.nonzero(racks.values)):
        opt = ds["option"].values[o]
        out.append({"hall_class": str(ds["hall_class"].values[k]), "cooling": str(ds["cooling"].values[c]),
                    "system": str(ds["system"].values[o]), "nodes": int(ds["nodes"].values[o]),
                    "cap_w": float(ds["cap_w"].values[o]), "racks": int(racks.values[k, c, o]),
                    "tiers": {str(t): int(v) for t, v in zip(ds["tier"].values, ds["serve"].sel(option=opt).values) if v}})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)
