"""`twin.check`: a facility through its design weather year at full load, and what fails where.

>>> import blueprints, twin
>>> result = twin.check(blueprints.load("ai-factory-hall"))
>>> result.ok, result.over_grid_hours, result.throttled_hours
(True, 0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.design_year.hours import exceedance_hours as allowed_hours

if TYPE_CHECKING:
    import xarray as xr

    from twin.facility import Facility
    from twin.physics.tokens import Workload

FULL_LOAD = 1.0
POWER_PARAMS_B = 70.0
"""Active parameters (billions) of the training workload power-only runs use: every GPU busy at its cap
whatever its system serves (tokens are not reported, so the value does not matter)."""


@dataclass
class YearCheck:
    """What a facility does at full load through a design year: hours over the grid limit, throttled,
    over temperature and with a device above its rating; the worst hour; what binds there."""

    facility: str
    weather: str
    grid_limit_mw: float | None
    allowed_exceedance_hours: int
    allowed_throttle_hours: int
    hours: int
    over_grid_hours: int
    throttled_hours: int
    over_temperature_hours: int
    overload_hours: int
    peak_grid_mw: float
    worst: dict[str, Any]
    binding: list[str] = field(default_factory=list)
    year: xr.Dataset | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when the year stays within the limit (but for the allowed hours), never throttles or runs over
        temperature beyond the allowed throttle hours, and never loads a device above its rating."""
        return (self.over_grid_hours <= self.allowed_exceedance_hours
                and self.throttled_hours <= self.allowed_throttle_hours
                and self.over_temperature_hours <= self.allowed_throttle_hours
                and self.overload_hours == 0)

    def failures(self) -> list[str]:
        """One sentence per failed criterion (empty when `ok`)."""
        out = []
        if self.over_grid_hours > self.allowed_exceedance_hours:
            out.append(f"{self.over_grid_hours} h over the {self.grid_limit_mw:g} MW grid limit "
                       f"(allowed {self.allowed_exceedance_hours} h; peak {self.peak_grid_mw:.3f} MW)")
        if self.throttled_hours > self.allowed_throttle_hours:
            out.append(f"{self.throttled_hours} h throttled (allowed {self.allowed_throttle_hours} h)")
        if self.over_temperature_hours > self.allowed_throttle_hours:
            out.append(f"{self.over_temperature_hours} h over temperature even after throttling")
        if self.overload_hours:
            out.append(f"{self.overload_hours} h with a device above its rating")
        return out

    def summary(self) -> dict[str, Any]:
        """The report as plain values (for tables and JSON)."""
        return {
            "facility": self.facility, "weather": self.weather, "hours": self.hours,
            "grid_limit_mw": self.grid_limit_mw, "peak_grid_mw": self.peak_grid_mw,
            "hours_over_grid_limit": self.over_grid_hours, "allowed_exceedance_hours": self.allowed_exceedance_hours,
            "throttled_hours": self.throttled_hours, "over_temperature_hours": self.over_temperature_hours,
            "allowed_throttle_hours": self.allowed_throttle_hours, "device_overload_hours": self.overload_hours,
            "worst_hour": str(self.worst.get("time", "")), "worst_dry_bulb_c": self.worst.get("dry_bulb_c"),
            "worst_wet_bulb_c": self.worst.get("wet_bulb_c"), "worst_grid_mw": self.worst.get("grid_mw"),
            "binding": list(self.binding), "ok": self.ok,
        }

    def __str__(self) -> str:
        where = f"({self.weather}, {self.hours} h at full load)"
        if self.ok:
            return f"{self.facility} holds its design year {where}"
        return f"{self.facility} fails its design year {where}: {'; '.join(self.failures())}"


def check(
    facility: Facility,
    weather: Any = None,
    *,
    exceedance_hours: int | str | None = None,
    throttle_hours: int | str | None = None,
    workload: Workload | None = None,
    explain: bool = True,
) -> YearCheck:
    """Simulate `facility` at full load through its design weather year (its climate's 8,760 hours, or
    `weather`: a climate name, file or Dataset) and report the hours that fail.

    exceedance_hours / throttle_hours: hours the grid limit / cooling may be exceeded (default: the site's
    `design_exceedance_hours` / `design_throttle_hours`, else 0; ASHRAE '0.4%', '1%', '2%' accepted).
    workload: what the GPUs run (default `power_workload()`: power does not depend on it at full load).
    explain: also find the worst hour's binding limit and devices (one more one-step simulation).
    """
    from twin.design_year import design_weather
    from twin.simulation import simulate

    site = facility.graph.graph
    year = design_weather(facility if weather is None else weather)
    allowed = exceedance_hours if exceedance_hours is not None else site.get("design_exceedance_hours")
    throttle = throttle_hours if throttle_hours is not None else site.get("design_throttle_hours")
    n_exceed = allowed_hours(allowed, "design_exceedance_hours", year.sizes["time"])
    n_throttle = allowed_hours(throttle, "design_throttle_hours", year.sizes["time"])
    workload = workload if workload is not None else power_workload()
    ds = simulate(facility, weather=year, workload=workload, hours=year.sizes["time"], utilization=FULL_LOAD,
                  per_rack=False, per_device=False)
    grid = ds["grid_power_kw"].values
    throttled = ds["throttling"].values
    limit = facility.grid_limit_mw
    limit_mw = float(limit) if isinstance(limit, (int, float)) else None
    over = ds["grid_overload"].values
    if over.any():
        worst = int(np.argmax(grid))
    elif throttled.any():
        worst = int(np.argmin(ds["throttle"].values))
    else:
        worst = int(np.argmax(grid))
    result = YearCheck(
        facility=facility.name, weather=_weather_label(ds), grid_limit_mw=limit_mw,
        allowed_exceedance_hours=n_exceed, allowed_throttle_hours=n_throttle, hours=int(grid.size),
        over_grid_hours=int(over.sum()), throttled_hours=int(throttled.sum()),
        over_temperature_hours=int(ds["over_temperature"].values.sum()),
        overload_hours=int(ds["device_overload_any"].values.sum()), peak_grid_mw=float(grid.max()) / 1000.0,
        worst=_hour(ds, worst), year=ds,
    )
    if explain:
        result.binding = binding(facility, year.isel(time=[worst]), workload, limit_mw)
    return result


def power_workload() -> Workload:
    """A workload every system can run, for power-only runs: training (GPUs busy at their cap)."""
    from twin.physics.tokens import Workload

    return Workload(kind="training", params_b=POWER_PARAMS_B)


def binding(facility: Facility, hour: xr.Dataset, workload: Workload, limit_mw: float | None) -> list[str]:
    """At one hour: the grid limit's margin, the most loaded device against its rating, and the free-cooling
    unit closest to (or past) the heat it can reject at that ambient."""
    from twin.physics.cooling import free_capacity_kw
    from twin.physics.power_chain import group_by_model
    from twin.physics.topology import build
    from twin.simulation import simulate

    ds = simulate(facility, weather=hour, workload=workload, hours=1, utilization=FULL_LOAD, per_rack=False,
                  per_device=True)
    db, wb = float(hour["dry_bulb_c"].values[0]), float(hour["wet_bulb_c"].values[0])
    at = f"at {db:.1f} °C dry bulb / {wb:.1f} °C wet bulb"
    grid_mw = float(ds["grid_power_kw"].values[0]) / 1000.0
    out = []
    if limit_mw:
        out.append(f"grid limit {limit_mw:g} MW: {grid_mw:.3f} MW drawn {at} ({grid_mw / limit_mw:.1%} of the limit)")
    load = ds["device_load_kw"].values[0].astype(float)
    rating = ds["device_rating_kw"].values.astype(float)
    ids = ds["device"].values
    kinds = ds["device_kind"].values
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(rating > 0, load / rating, 0.0)
    if ratio.size:
        i = int(np.argmax(ratio))
        out.append(f"{ids[i]} ({kinds[i]}) carries {load[i]:,.0f} kW, {ratio[i]:.0%} of its {rating[i]:,.0f} kW rating")
    topo = build(facility)
    if topo.limited.size:
        plants = topo.n_units + topo.limited
        cap = np.zeros(plants.size)
        for model, idx in group_by_model([topo.plant_models[p] for p in topo.limited]).items():
            cap[idx] = free_capacity_kw(model, topo.cool_rating[plants[idx]], topo.limited_max_water[idx], db, wb)
        index = {d: j for j, d in enumerate(ids)}
        heat = np.array([load[index[topo.cool_ids[p]]] for p in plants])
        with np.errstate(divide="ignore", invalid="ignore"):
            use = np.where(cap > 0, heat / cap, np.where(heat > 0, np.inf, 0.0))
        j = int(np.argmax(use))
        p = plants[j]
        out.append(f"{topo.cool_ids[p]} ({topo.cool_kind[p]}) rejects {heat[j]:,.0f} kW; without a chiller it can "
                   f"reject {cap[j]:,.0f} kW {at} for {topo.limited_max_water[j]:g} °C coolant"
                   + (" (binds: racks behind it throttle)" if use[j] >= 1.0 - 1e-6 else f" ({use[j]:.0%} used)"))
    return out


def _hour(ds: xr.Dataset, i: int) -> dict[str, Any]:
    return {"index": i, "time": ds["time"].values[i], "dry_bulb_c": float(ds["dry_bulb_c"].values[i]),
            "wet_bulb_c": float(ds["wet_bulb_c"].values[i]), "grid_mw": float(ds["grid_power_kw"].values[i]) / 1000.0,
            "throttle": float(ds["throttle"].values[i])}


def _weather_label(ds: xr.Dataset) -> str:
    """'phoenix, typical-year file (TMY3)': where the year comes from and which kind of weather it is."""
    site = str(ds.attrs.get("weather_site", ""))
    kind = str(ds.attrs.get("weather_kind", ""))
    return f"{site}, {kind}" if kind and kind != site else site


__all__ = ["YearCheck", "check", "binding", "power_workload", "FULL_LOAD", "POWER_PARAMS_B"]
