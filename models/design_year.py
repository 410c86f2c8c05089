"""The design model's weather year: cooling coefficients at every hour and grid rows at the hours that can bind.

Racks whose heat splits the same way into the same cooling chains cool alike: they form a heat class q
(cooling technology, liquid share, chains) with one coefficient per hour, c_q(h) = cooling kW per kW of
IT, from `twin.physics.cooling.cooling_power_kw` over the whole year at once. The grid rows are

    E + sum_q c_q(h) H_q <= limit - aux - correction(h)      for every hour h that can bind,

where E (IT + power-chain losses) and H_q (IT kW of heat class q) are defined once from the rack counts,
so an hour costs 1 + n_classes nonzeros rather than one per rack option, with the same optimum as one
row per (hour, option). The hours that can bind are those no other hour dominates in (dry bulb, wet
bulb) (`twin.design_year.binding_hours`), and of those only the ones whose coefficient vector no other
kept row dominates (a dominated row can never bind first: exact for the model's own coefficients).

With N allowed exceedance hours, an hour dominated by N or more others must hold; each hour dominated by
fewer gets a binary that lifts its row by a bound M_h, and at most N binaries may be on. M_h is tight:
writing the row as (E - sum H) + sum (1 + c_q) H_q with every term >= 0, any hour draws at most
max_q (1 + c_q(h)) / (1 + c_q(m)) times what a held hour m draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    from models.design_data import DesignData
    from models.linear import LinearProblem

PROMOTE_CHUNK = 64
"""Exceedance candidates compared against the whole year at once (bounds memory to ~6 MB per class)."""


@dataclass
class DesignYear:
    """The weather year a design must hold, its heat classes' cooling coefficients, the rows that can bind."""

    time: np.ndarray                     # (hour,) datetime64
    dry_bulb_c: np.ndarray               # (hour,)
    wet_bulb_c: np.ndarray               # (hour,)
    weather: str                         # where the year comes from
    heat_class: np.ndarray               # (option, cooling) class index, -1 where the option cannot be cooled
    classes: list[tuple]                 # per class: (cooling, liquid share, main chain, air chain)
    class_cooling_kw: np.ndarray         # (class, hour) cooling kW per kW IT
    class_water: np.ndarray              # (class,) annual mean L per kWh IT
    free_factor: np.ndarray              # (option, cooling) free-cooling rating per kW heat (1: none needed)
    plant_scale: np.ndarray              # (option, cooling) cooling capex per kW vs the configured chain's
    must: np.ndarray                     # hours whose grid row must hold
    candidates: np.ndarray               # hours that may be among the exceeded ones
    exceedance_hours: int = 0
    throttle_hours: int = 0
    correction_kw: dict[int, float] = field(default_factory=dict)
    dataset: Any = field(default=None, repr=False)   # the year as a weather Dataset (what verification simulates)

    def cooling_at(self, hours: Any) -> np.ndarray:
        """(hour, option, cooling) cooling kW per kW IT at the given hours (0 where the option cannot be cooled)."""
        hours = np.atleast_1d(np.asarray(hours, dtype=np.int64))
        q = np.maximum(self.heat_class, 0)
        out = self.class_cooling_kw[q][:, :, hours]              # (option, cooling, hour)
        return np.where(self.heat_class[:, :, None] >= 0, out, 0.0).transpose(2, 0, 1)

    def annual_cooling(self) -> np.ndarray:
        """(option, cooling) cooling kW per kW IT averaged over the year."""
        mean = self.class_cooling_kw.mean(axis=1)
        return np.where(self.heat_class >= 0, mean[np.maximum(self.heat_class, 0)], 0.0)

    def correction(self, hours: Any) -> np.ndarray:
        return np.array([self.correction_kw.get(int(h), 0.0) for h in np.atleast_1d(hours)], dtype=float)

    def rows(self) -> np.ndarray:
        """The must-hold hours whose rows can bind: none is dominated by another's (coefficients, correction)."""
        hours = np.unique(np.concatenate([self.must, np.fromiter(self.correction_kw, dtype=np.int64)]))
        hours = hours[~np.isin(hours, self.candidates)]
        key = np.column_stack([self.class_cooling_kw[:, hours].T, self.correction(hours)])
        return hours[~_dominated(key)]

    def hold(self, hours: Sequence[int], correction_kw: Sequence[float]) -> None:
        """Make the rows of `hours` hold with (at least) these corrections: what verification found."""
        for h, c in zip(hours, correction_kw):
            h = int(h)
            self.correction_kw[h] = max(self.correction_kw.get(h, 0.0), float(c))

    def describe(self, hour: int) -> str:
        """'2025-07-14 15:00 (45.0 °C dry bulb / 21.1 °C wet bulb)'."""
        when = np.datetime_as_string(self.time[hour], unit="m").replace("T", " ")
        return f"{when} ({self.dry_bulb_c[hour]:.1f} °C dry bulb / {self.wet_bulb_c[hour]:.1f} °C wet bulb)"


def design_year(facility, catalog, options, coolings, compatible, liquid, rejection, air_rejection,
                throttle_hours: int, exceedance_hours: int) -> DesignYear:
    """Heat classes and their coefficients over the facility's design year, and the hours that can bind."""
    from twin.design_year import binding_hours, design_weather
    from twin.design_year.sizing import climate_chain, max_water_c
    from twin.physics.cooling import AIR_TECH, DEFAULT_AIR_REJECTION, cooling_power_kw

    year = design_weather(facility)
    db = year["dry_bulb_c"].values.astype(float)
    wb = year["wet_bulb_c"].values.astype(float)
    air = catalog.cooling_tech(AIR_TECH)
    heat_class = np.full(compatible.shape, -1, dtype=np.int64)
    free = np.ones(compatible.shape)
    scale = np.ones(compatible.shape)
    classes: dict[tuple, int] = {}
    for j, c in enumerate(coolings):
        tech = catalog.cooling_tech(c)
        for i in np.flatnonzero(compatible[:, j]):
            spec = catalog.system(options[i][0])
            lf = 0.0 if tech.unit_kind == "crah" else float(liquid[i, j])
            main, factor = climate_chain(catalog, rejection[c], max_water_c(tech, spec), db, wb, throttle_hours)
            air_chain = None
            if lf < 1.0 and tech.unit_kind != "crah":
                air_chain, air_factor = climate_chain(catalog, air_rejection or (DEFAULT_AIR_REJECTION,),
                                                      max_water_c(tech, spec, air), db, wb, throttle_hours)
                factor = max(factor, air_factor)
            key = (c, round(lf, 9), main, air_chain)
            heat_class[i, j] = classes.setdefault(key, len(classes))
            free[i, j] = factor
            scale[i, j] = _capex(catalog, tech, main, factor) / _capex(catalog, tech, tuple(rejection[c]), 1.0)
    coef = np.zeros((len(classes), db.size))
    water = np.zeros(len(classes))
    for (c, lf, main, air_chain), q in classes.items():
        r = cooling_power_kw(catalog, c, list(main), np.full(db.size, lf), np.full(db.size, 1.0 - lf), db, wb,
                             **({"air_heat_rejection": list(air_chain)} if air_chain else {}))
        coef[q] = np.asarray(r["units_kw"], dtype=float) + np.asarray(r["plant_kw"], dtype=float)
        water[q] = float(np.mean(r["water_l_per_h"]))
    must, candidates = binding_hours(db, wb, exceedance_hours)
    if exceedance_hours > 0:
        must, candidates = _promote(coef, must, candidates, exceedance_hours)
    return DesignYear(time=year["time"].values, dry_bulb_c=db, wet_bulb_c=wb, weather=_label(year),
                      heat_class=heat_class, classes=list(classes), class_cooling_kw=coef, class_water=water,
                      free_factor=free, plant_scale=scale, must=must, candidates=candidates, exceedance_hours=exceedance_hours,
                      throttle_hours=throttle_hours, dataset=year)


def add_grid_rows(lp: LinearProblem, data: DesignData, racks: np.ndarray, k_of: np.ndarray, c_of: np.ndarray,
                  o_of: np.ndarray, elastic: bool = False) -> None:
    """The grid-power rows of the design year (see the module docstring); `elastic` adds one shared slack."""
    year = data.year
    chain = np.array([h.chain_rate for h in data.halls])
    it = data.rack_kw[o_of]
    q_of = year.heat_class[o_of, c_of]
    nq = len(year.classes)
    ev = lp.add_vars("grid_it_kw", [("it+chain",)], lb=0)
    hv = lp.add_vars("heat_kw", [(cls[0], cls[1]) for cls in year.classes], lb=0)
    n = len(racks)
    lp.add_rows("grid_it", [("it+chain",)], rows=np.zeros(n + 1, dtype=np.int64), cols=np.concatenate([racks, ev]),
                vals=np.concatenate([(1.0 + chain[k_of]) * it, [-1.0]]), lb=0.0, ub=0.0)
    lp.add_rows("grid_heat", [(cls[0], cls[1]) for cls in year.classes], rows=np.concatenate([q_of, np.arange(nq)]),
                cols=np.concatenate([racks, hv]), vals=np.concatenate([it, -np.ones(nq)]), lb=0.0, ub=0.0)
    room = data.grid_limit_kw - data.aux_kw
    slack = lp.add_vars("over_grid", [("kW",)], lb=0, cost=1.0 / data.grid_limit_kw) if elastic else None
    rows = year.rows()
    _hour_rows(lp, "grid", year, rows, ev, hv, room - year.correction(rows), slack)
    if year.exceedance_hours > 0 and year.candidates.size:
        cand = year.candidates
        bound = _lift(year.class_cooling_kw, rows, cand) * room - room + year.correction(cand)
        zv = lp.add_vars("exceed", [(year.describe(h),) for h in cand], lb=0, ub=1, integer=True)
        _hour_rows(lp, "grid_exceedable", year, cand, ev, hv, room - year.correction(cand), slack, zv, bound)
        lp.add_rows("exceedance", [("hours",)], rows=np.zeros(cand.size, dtype=np.int64), cols=zv,
                    vals=np.ones(cand.size), ub=float(year.exceedance_hours))


def _hour_rows(lp, name, year, hours, ev, hv, ub, slack=None, lift=None, bound=None) -> None:
    """One row per hour: E + sum_q c_q(h) H_q [- slack] [- bound_h z_h] <= ub_h."""
    nh, nq = hours.size, hv.size
    rows = [np.arange(nh), np.repeat(np.arange(nh), nq)]
    cols = [np.full(nh, ev[0]), np.tile(hv, nh)]
    vals = [np.ones(nh), year.class_cooling_kw[:, hours].T.ravel()]
    if slack is not None:
        rows, cols, vals = rows + [np.arange(nh)], cols + [np.full(nh, slack[0])], vals + [-np.ones(nh)]
    if lift is not None:
        rows, cols, vals = rows + [np.arange(nh)], cols + [lift], vals + [-bound]
    lp.add_rows(name, [(year.describe(h),) for h in hours], rows=np.concatenate(rows), cols=np.concatenate(cols),
                vals=np.concatenate(vals), ub=ub)


def model_grid_kw(data: DesignData, racks: dict[tuple, float], hours: Any) -> np.ndarray:
    """The model's grid kW (aux included, corrections not) of a rack decision at the given hours."""
    hours = np.atleast_1d(np.asarray(hours, dtype=np.int64))
    opt = {o: i for i, o in enumerate(data.options)}
    cool = {c: j for j, c in enumerate(data.coolings)}
    cls = {h.name: k for k, h in enumerate(data.halls)}
    over = data.overhead_at(hours)
    total = np.full(hours.size, data.aux_kw)
    for (k, c, o), n in racks.items():
        if n >= 0.5:
            total += round(n) * over[:, cls[k], opt[o], cool[c]]
    return total


def _dominated(key: np.ndarray) -> np.ndarray:
    """Rows of `key` that another row weakly dominates (>= everywhere; of equal rows all but the first)."""
    n = key.shape[0]
    out = np.zeros(n, dtype=bool)
    for s in range(0, n, PROMOTE_CHUNK):
        h = key[s:s + PROMOTE_CHUNK]                                      # the rows judged in this chunk
        ge = np.all(key[:, None, :] >= h[None, :, :], axis=2)             # ge[m, h]: m dominates h
        gt = np.any(key[:, None, :] > h[None, :, :], axis=2)
        earlier = np.arange(n)[:, None] < np.arange(s, s + h.shape[0])[None, :]
        out[s:s + h.shape[0]] = np.any(ge & (gt | earlier), axis=0)
    return out


def _promote(coef: np.ndarray, must: np.ndarray, candidates: np.ndarray, allowed: int):
    """Candidates whose coefficients N or more hours dominate must hold too (exact for the model's rows)."""
    keep = np.ones(candidates.size, dtype=bool)
    for s in range(0, candidates.size, PROMOTE_CHUNK):
        c = coef[:, candidates[s:s + PROMOTE_CHUNK]]                     # (q, chunk)
        count = np.all(coef[:, None, :] >= c[:, :, None], axis=0).sum(axis=1) - 1
        keep[s:s + PROMOTE_CHUNK] = count < allowed
    return np.unique(np.concatenate([must, candidates[~keep]])), candidates[keep]


def _lift(coef: np.ndarray, held: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Per hour, the least ratio rho with grid(h) <= rho x grid(m) for some held hour m (see the docstring)."""
    a = 1.0 + coef[:, hours]                                            # (q, h)
    b = 1.0 + coef[:, held]                                             # (q, m)
    ratio = np.maximum(1.0, (a[:, :, None] / b[:, None, :]).max(axis=0))   # (h, m)
    return ratio.min(axis=1)


def _capex(catalog, tech, chain: tuple, factor: float) -> float:
    """USD per kW of heat of a hall's units and heat-rejection chain, the first unit oversized by `factor`."""
    units = [catalog.heat_rejection(u).capex_usd_per_kw for u in chain]
    return tech.capex_usd_per_kw + units[0] * factor + sum(units[1:])


def _label(year) -> str:
    """'phoenix (typical-year file (TMY3))': the year's site and which kind of weather it is."""
    return f"{year.attrs.get('site', '')} ({year.attrs.get('weather_kind', 'user Dataset')})"


__all__ = ["DesignYear", "design_year", "add_grid_rows", "model_grid_kw"]
