"""A solved dispatch as an xarray Dataset on `twin.simulate`'s coords (time, tier, device) plus `rack_class`,
its KPIs, and, where a limit, target or deadline could not be met, an explanation in MW, hours and tokens.

The facility's power series (grid_power_kw = IT + losses + cooling + aux, every part) are the twin's engine run on
the dispatched rack power; grid_import_kw = grid_power_kw + battery charge - discharge - generator, exactly.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import numpy as np

from models.dispatch import MTOK
from models.dispatch_data import TRAINING, DispatchData
from twin.simulation import VARIABLES

if TYPE_CHECKING:
    import xarray as xr

ENGINE_SKIP = ("tokens_per_s", "revenue_usd_per_h", "utilization", "throttle")
"""Engine outputs the dispatch replaces (tokens and revenue come from its decisions; utilization is per class)."""
DISPATCH_VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "grid_import_kw": (("time",), "kW", "power imported from the grid (facility power + battery charge - discharge - generator)"),
    "grid_limit_kw": (("time",), "kW", "import allowed: the connection, or a grid event's target"),
    "over_limit_kw": (("time",), "kW", "import the dispatch could not keep under the limit"),
    "event": (("time",), "1", "a grid event is in force"),
    "price_usd_per_kwh": (("time",), "USD kWh-1", "energy price of imports"),
    "battery_charge_kw": (("time",), "kW", "battery charging power (from the meter)"),
    "battery_discharge_kw": (("time",), "kW", "battery discharging power (to the meter)"),
    "battery_soc_kwh": (("time",), "kWh", "battery state of charge at the end of the step"),
    "generator_kw": (("time",), "kW", "on-site generation"),
    "demand_tokens_per_s": (("time", "tier"), "s-1", "tokens per second asked (training: nominal full-speed racks)"),
    "dropped_tokens_per_s": (("time", "tier"), "s-1", "interactive demand not served"),
    "backlog": (("time", "tier"), "1", "deferred work waiting at the end of the step (tokens; training: rack-hours)"),
    "late": (("time", "tier"), "1", "deferred work past its deadline (tokens; training: rack-hours)"),
    "racks_on": (("time", "rack_class"), "1", "racks powered"),
    "class_power_kw": (("time", "rack_class"), "kW", "rack power of the class"),
    "class_utilization": (("time", "rack_class"), "1", "work as a share of the class's racks (utilization x racks on / racks)"),
    "class_cap_fraction": (("time", "rack_class"), "1", "work-weighted GPU power cap, fraction of TDP (nan: no work)"),
    "class_speed": (("time", "rack_class"), "1", "full-speed rack equivalents served / racks"),
}


def dataset(facility, data: DispatchData, info, solved, sim, wx, workload, events, device_coords=None) -> xr.Dataset:
    """Decisions and simulated series of a dispatch (see the module docstring)."""
    import xarray as xr

    import twin
    import twin.state  # noqa: F401  (registers the `ds.twin` accessor)

    v = solved.values
    n, d = data.n_steps, len(data.classes)
    zeros = np.zeros(n)
    col = (lambda name: v[name][:, 0] if name in v else zeros)
    charge, discharge, gen = col("charge"), col("discharge"), col("gen")
    gk = np.argwhere(np.isfinite(data.dyn_kw))
    gj = np.argwhere(data.tokens_per_s > 0)
    work_by_class = np.zeros((n, d))
    np.add.at(work_by_class.T, gk[:, 0], v["work"].T)
    capw = np.zeros((n, d))
    levels = np.array([info.levels[g][k] for g, k in gk])
    np.add.at(capw.T, gk[:, 0], (v["work"] * levels[None, :]).T)
    served = np.zeros((n, len(data.tiers)))
    np.add.at(served.T, gj[:, 1], (v["serve"] * data.tokens_per_s[gj[:, 0], gj[:, 1]][None, :]).T)
    revenue = np.zeros((n, len(data.tiers)))
    usd_h = data.usd_per_mtok[gj[:, 0], gj[:, 1]] * data.tokens_per_s[gj[:, 0], gj[:, 1]] * 3600.0 / MTOK
    np.add.at(revenue.T, gj[:, 1], (v["serve"] * usd_h[None, :]).T)
    speed = np.zeros((n, d))
    np.add.at(speed.T, gj[:, 0], v["serve"].T)
    deferred = np.flatnonzero(data.deadline_h > 0)
    interactive = np.flatnonzero(data.deadline_h <= 0)
    rate = data.tier_rate()
    per_rack_h = rate * data.unit_per_h()
    per_tier = (lambda name, cols, scale: _spread(v.get(name), cols, n, len(data.tiers)) * scale[None, :])
    event = np.zeros(n, dtype=bool)
    for e in events:
        event |= e.mask(data.time, data.step_h)
    grid_power = sim["grid_power_kw"]
    out = {
        "grid_import_kw": grid_power + charge - discharge - gen,
        "grid_limit_kw": data.limit_kw, "over_limit_kw": np.maximum(grid_power + charge - discharge - gen - data.limit_kw, 0.0),
        "event": event, "price_usd_per_kwh": data.price_usd_per_kwh,
        "battery_charge_kw": charge, "battery_discharge_kw": discharge, "battery_soc_kwh": col("soc"),
        "generator_kw": gen, "demand_tokens_per_s": data.demand, "dropped_tokens_per_s": per_tier("drop", interactive, rate),
        "backlog": per_tier("backlog", deferred, per_rack_h), "late": per_tier("late", deferred, per_rack_h),
        "racks_on": v["on"], "class_power_kw": _class_power(data, v),
        "class_utilization": work_by_class / data.count[None, :],
        "class_cap_fraction": np.where(work_by_class > 1e-12, capw / np.maximum(work_by_class, 1e-300), np.nan),
        "class_speed": speed / data.count[None, :],
    }
    variables = {}
    for name, value in sim.items():
        if name in ENGINE_SKIP or name not in VARIABLES:
            continue
        dims, units, long_name = VARIABLES[name]
        variables[name] = xr.Variable(dims, value, {"units": units, "long_name": long_name})
    it = sim["it_power_kw"]
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, value in (("pue", grid_power / it), ("wue_l_per_kwh", sim["water_l_per_h"] / it)):
            variables[name] = xr.Variable(("time",), value, {"units": VARIABLES[name][1], "long_name": VARIABLES[name][2]})
    for name in ("tokens_per_s", "revenue_usd_per_h"):
        dims, units, long_name = VARIABLES[name]
        variables[name] = xr.Variable(dims, served if name == "tokens_per_s" else revenue, {"units": units, "long_name": long_name})
    for name, value in out.items():
        dims, units, long_name = DISPATCH_VARIABLES[name]
        variables[name] = xr.Variable(dims, value, {"units": units, "long_name": long_name})
    for name in ("dry_bulb_c", "wet_bulb_c"):
        variables[name] = xr.Variable(("time",), wx[name].values, dict(wx[name].attrs))
    variables["step_hours"] = xr.Variable(("time",), data.step_h, {"units": "h", "long_name": "length of each time step"})
    coords = {
        "time": ("time", data.time, {"long_name": "time (local standard time of the weather)"}),
        "tier": ("tier", np.array(data.tiers, dtype=str), {"long_name": "token tier (training: full-speed racks)"}),
        "rack_class": ("rack_class", np.array(data.classes, dtype=str), {"long_name": "dispatch class of identical racks"}),
        "class_racks": ("rack_class", data.count, {"long_name": "racks in the class"}),
        "class_role": ("rack_class", np.array(info.role, dtype=str)),
    }
    if device_coords is not None:
        coords.update(device_coords)
    attrs = {
        "Conventions": "CF-1.10",
        "title": f"twin dispatch of {facility.name}",
        "facility": facility.name,
        "weather_site": str(wx.attrs.get("site", wx.attrs.get("source", "user weather"))),
        "workload": workload.describe(),
        "events": "; ".join(f"{e.id}: {e.start} for {e.duration_h:g} h" for e in events),
        "grid_limit_mw": float(facility.grid_limit_mw),
        "assumptions": "\n".join(ASSUMPTIONS),
        "history": f"twin {twin.__version__} dispatch ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ})",
        "source": "aifactory-twin dispatch LP (HiGHS) on the twin's reduced-order physics",
    }
    return xr.Dataset(variables, coords=coords, attrs=attrs)


ASSUMPTIONS = (
    "facility power is the twin's engine at the dispatched rack power; the LP uses its line through the solution",
    "racks of a class run identically; switching racks on and off is free and immediate",
    "batteries and generators sit at the site meter; their power offsets grid import one for one",
    "interactive demand not served costs the catalog standard tier's price per token (SLA credit proxy)",
    "default demand: each tier's capacity share x the twin's diurnal profile (until a market model is given)",
    "event payments are paid per MWh of the requested cut that is met (cutting deeper earns nothing more)",
)


def _spread(values, cols, n, nj) -> np.ndarray:
    out = np.zeros((n, nj))
    if values is not None and len(cols):
        out[:, cols] = values
    return out


def _class_power(data: DispatchData, v) -> np.ndarray:
    gk = np.argwhere(np.isfinite(data.dyn_kw))
    kw = v["on"] * data.fixed_kw[None, :]
    np.add.at(kw.T, gk[:, 0], (v["work"] * data.dyn_kw[gk[:, 0], gk[:, 1]][None, :]).T)
    return kw


def kpis(data: DispatchData, ds: xr.Dataset, objective: float, baseline=None) -> dict[str, float]:
    """Money, energy and tokens over the horizon (USD, MWh, tokens); with a baseline, what the events cost: in cash
    (revenue lost and energy bought; negative when shifting work saved money) and in the LP's terms (cash plus the
    holding cost of deferred work and the penalty of dropped interactive demand)."""
    h = ds["step_hours"].values
    imp = ds["grid_import_kw"].values
    base_price = data.price_usd_per_kwh
    ev = ds["event"].values
    out: dict[str, float] = {}
    revenue = float((ds["revenue_usd_per_h"].sum("tier").values * h).sum())
    energy = float((imp * h * base_price).sum())
    months = data.month()
    peaks = np.zeros(int(months.max()) + 1)
    np.maximum.at(peaks, months, imp)
    demand_charge = float(peaks.sum() * data.demand_charge_usd_per_kw)
    fuel = float((ds["generator_kw"].values * h).sum() * data.generator.cost_usd_per_kwh)
    wear = float((ds["battery_discharge_kw"].values * h).sum() * data.storage.wear_usd_per_kwh)
    over = ds["over_limit_kw"].values
    tokens = ds["tokens_per_s"].values * h[:, None] * 3600.0
    out.update({
        "hours": float(h.sum()),
        "revenue_usd": revenue,
        "energy_cost_usd": energy,
        "demand_charge_usd": demand_charge,
        "generator_cost_usd": fuel,
        "battery_wear_usd": wear,
        "grid_energy_mwh": float((imp * h).sum()) / 1000.0,
        "facility_energy_mwh": float((ds["grid_power_kw"].values * h).sum()) / 1000.0,
        "peak_import_mw": float(imp.max()) / 1000.0,
        "co2_generator_t": float((ds["generator_kw"].values * h).sum() * data.generator.co2_kg_per_kwh) / 1000.0,
        "over_limit_mwh": float((over * h).sum()) / 1000.0,
        "over_limit_hours": float(h[over > 1e-6 * max(float(data.limit_kw.max()), 1.0)].sum()),
        "pue": ds.twin.pue(),
    })
    for j, t in enumerate(data.tiers):
        key = "training_rack_hours" if t == TRAINING else f"tokens_{t}"
        out[key] = float(tokens[:, j].sum() / (3600.0 if t == TRAINING else 1.0))
        if data.deadline_h[j] <= 0:
            out[f"dropped_tokens_{t}"] = float((ds["dropped_tokens_per_s"].values[:, j] * h).sum() * 3600.0)
        else:
            out[f"late_{t}"] = float(ds["late"].values[:, j].max())
    out["profit_usd"] = revenue - energy - demand_charge - fuel - wear
    out["objective_usd"] = objective
    if baseline is not None:
        b = baseline.kpis
        base_imp = baseline.dataset["grid_import_kw"].values
        asked = np.maximum(base_imp - data.limit_kw, 0.0)              # the cut each event step asks for
        met = np.maximum(asked - ds["over_limit_kw"].values, 0.0)
        out["event_payment_usd"] = float((data.payment_usd_per_kwh * met * h).sum())
        cut = np.where(ev, base_imp - imp, 0.0)
        out["curtailed_mwh"] = float((cut * h).sum()) / 1000.0
        out["curtailment_cost_usd"] = b["profit_usd"] - out["profit_usd"]
        out["curtailment_shadow_cost_usd"] = b["objective_usd"] - out["objective_usd"]
        late = ds["backlog"].values - baseline.dataset["backlog"].values
        out["deferred_peak_rack_hours"] = float(late[:, [j for j, t in enumerate(data.tiers) if t == TRAINING]].max(initial=0.0))
        after = np.flatnonzero(ev)[-1] + 1 if ev.any() else h.size
        behind = np.abs(late[after:]) > 1e-6 * np.maximum(np.abs(baseline.dataset["backlog"].values[after:]), 1.0)
        caught = np.flatnonzero(~behind.any(axis=1))
        out["recovery_h"] = float(h[after:after + (caught[0] if caught.size else behind.shape[0])].sum())
        out["profit_usd"] += out["event_payment_usd"]
        out["revenue_lost_usd"] = b["revenue_usd"] - revenue
        for j, t in enumerate(data.tiers):
            if t != TRAINING:
                out[f"tokens_lost_{t}"] = b[f"tokens_{t}"] - out[f"tokens_{t}"]
    return out


def explain(data: DispatchData, ds: xr.Dataset, events) -> str:
    """What could not be met, in MW, hours and tokens ('' when everything was)."""
    h = ds["step_hours"].values
    over = ds["over_limit_kw"].values
    tol = 1e-6 * max(float(data.limit_kw.max()), 1.0)
    parts = []
    bad = over > tol
    if bad.any():
        ev = ds["event"].values
        for label, m in (("during grid events", bad & ev), ("against the connection", bad & ~ev)):
            if m.any():
                worst = int(np.argmax(np.where(m, over, -1.0)))
                parts.append(f"import exceeds the limit {label} for {h[m].sum():g} h ({(over[m] * h[m]).sum() / 1000:,.2f} MWh): "
                             f"needs up to {over[worst] / 1000:,.3f} MW more than the {data.limit_kw[worst] / 1000:,.3f} MW "
                             f"allowed at {str(data.time[worst])[:16]}")
    late = ds["late"].values
    for j in np.flatnonzero(data.deadline_h > 0):
        worst = float(late[:, j].max())
        if worst > 1e-6:
            t = data.tiers[j]
            what = (f"training falls {worst:,.1f} rack-hours behind its slowdown limit" if t == TRAINING else
                    f"{worst:,.4g} {t} tokens miss their {data.deadline_h[j]:g} h deadline")
            parts.append(what)
    return "; ".join(parts)


__all__ = ["dataset", "kpis", "explain", "DISPATCH_VARIABLES", "ASSUMPTIONS"]
