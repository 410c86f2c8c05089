"""The vectorized simulation kernel: one block of time steps through racks, cooling and the power chain.

Racks with identical physics and profile (same system, nodes, cap, tiers, utilization column and throttle
group) form a class; per-class series (time x class) are computed once and every device load is a sparse
product of them, so a 1 GW site costs about as much as one hall. Per-rack series are only materialized
on request (float32). All facility totals are float64 and balance exactly:
grid = IT + chain losses + cooling + aux.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.physics import PhysicsError, gpu, tokens
from twin.physics.cooling import (IDLE_FRACTION, air_economizer_fraction, free_capacity_kw, mover_fraction,
                                  plant_coefficients)
from twin.physics.power_chain import group_by_model

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.physics.topology import Topology

#: assumption: lighting, controls and support loads of 10 W per m2 of hall floor, drawn at the grid meter
#: (reference/cooling_physics.yaml gives only a low-quality 1-5 % of facility energy; ASHRAE LPD not retrieved)
LIGHTING_W_PER_M2 = 10.0
OVERLOAD_TOLERANCE = 1e-6


@dataclass
class Engine:
    """Everything static about a simulation (topology, rack classes, rates); `run` computes a time block."""

    topo: Topology
    tiers: list[str]
    class_of_rack: np.ndarray
    count: np.ndarray
    fixed: np.ndarray           # kW per rack at utilization 0 (idle GPUs, non-GPU power)
    dyn: np.ndarray             # kW per rack added at utilization 1
    rate: np.ndarray            # (class x tier) tokens/s per rack at utilization 1, unthrottled
    revenue: np.ndarray         # (class x tier) USD/h per rack at utilization 1, unthrottled
    util: np.ndarray            # (time,) or (time, rack)
    util_col: np.ndarray        # per class: the column of `util` it follows
    m_power: Any
    m_unit: Any
    m_lim: Any
    lim_groups: list[tuple[np.ndarray, np.ndarray]]
    power_groups: list[list[tuple[Any, np.ndarray]]]
    aux_kw: float
    grid_limit_kw: float | None

    @property
    def n_classes(self) -> int:
        return self.count.size

    def run(self, start: int, stop: int, dry_bulb_c: np.ndarray, wet_bulb_c: np.ndarray,
            per_rack: bool = False, per_device: bool = True, into: dict[str, np.ndarray] | None = None,
            ) -> dict[str, np.ndarray]:
        """Simulate steps [start, stop) at the given ambient temperatures; return named arrays.

        With `into` (full-length arrays by name), (time, device) and (time, rack) blocks are written there
        in place (float32, no temporary copies) and left out of the returned dict.
        """
        t = self.topo
        db = np.asarray(dry_bulb_c, dtype=float)
        wb = np.asarray(wet_bulb_c, dtype=float)
        n = stop - start
        u = self.util[start:stop]
        uc = np.broadcast_to(u[:, None], (n, self.n_classes)) if u.ndim == 1 else u[:, self.util_col]

        theta, over = self._throttle(uc, db, wb)
        work = uc * theta
        power = self.fixed + self.dyn * work                       # kW per rack of each class
        it = power @ self.count
        weighted = work * self.count
        demand = (uc * (self.count * self.dyn)).sum(axis=1)
        out: dict[str, np.ndarray] = {
            "it_power_kw": it,
            "tokens_per_s": weighted @ self.rate,
            "revenue_usd_per_h": weighted @ self.revenue,
            "utilization": demand / max(float(self.count @ self.dyn), 1e-12),
            "throttle": np.where(demand > 0, (weighted * self.dyn).sum(axis=1) / np.maximum(demand, 1e-12), 1.0),
            "over_temperature": over,
            "throttling": np.any(theta < 1.0 - 1e-9, axis=1),
        }

        # cooling: racks -> units -> plant (levels), per kW coefficients from the ambient
        pt = power.T
        heat_u = (self.m_unit @ pt).T
        unit_pow = self._unit_power(heat_u)
        unit_out = heat_u + unit_pow
        outside = self._outside_air(unit_out, db, wb)
        plant_heat, plant_pow, comp, water, rejected, econ = self._plant(unit_out, db, wb, outside)
        cool_pow = np.concatenate([unit_pow, plant_pow], axis=1)

        # power chain: loads first, each level's input feeds the next
        load = (self.m_power @ pt).T
        if t.cool_feed.nnz:
            load += (t.cool_feed @ cool_pow.T).T
        inp = np.zeros_like(load)
        for level, groups in zip(t.power_levels, self.power_groups):
            for eq, idx in groups:
                inp[:, idx] = load[:, idx] if eq is None else _input_power(eq, load[:, idx], t.power_rating[idx])
            load += (t.dev_feed[:, level] @ inp[:, level].T).T
        supply = inp[:, t.roots].sum(axis=1)
        unfed = cool_pow[:, t.unfed_cooling].sum(axis=1)
        aux = np.full(n, self.aux_kw)
        grid = supply + unfed + aux
        comp_total = comp.sum(axis=1)
        out.update({
            "grid_power_kw": grid, "losses_kw": (inp - load).sum(axis=1), "cooling_power_kw": cool_pow.sum(axis=1),
            "aux_power_kw": aux, "units_power_kw": unit_pow.sum(axis=1), "chiller_power_kw": comp_total,
            "plant_fans_pumps_kw": plant_pow.sum(axis=1) - comp_total, "water_l_per_h": water.sum(axis=1),
            "heat_absorbed_kw": heat_u.sum(axis=1), "heat_rejected_kw": rejected, "economizer_fraction": econ,
        })

        # per device: written block by block into float32 outputs (no full-size float64 copies)
        n_dev = len(t.power_ids) + len(t.cool_ids)
        cuts = np.cumsum([0, len(t.power_ids), t.n_units, t.n_plants])
        loads = (load, heat_u, plant_heat)
        rating = np.concatenate([t.power_rating, t.cool_rating])
        if per_device:
            dev = {k: into[k][start:stop] if into is not None else np.empty((n, n_dev), dtype)
                   for k, dtype in (("device_load_kw", np.float32), ("device_power_kw", np.float32), ("device_overload", bool))}
            for part, lo, hi in zip(loads, cuts[:-1], cuts[1:]):
                dev["device_load_kw"][:, lo:hi] = part
                np.greater(part, rating[lo:hi] * (1.0 + OVERLOAD_TOLERANCE), out=dev["device_overload"][:, lo:hi])
            dev["device_power_kw"][:, : cuts[1]] = inp
            dev["device_power_kw"][:, cuts[1]:] = cool_pow
            out["device_overload_any"] = dev["device_overload"].any(axis=1)
            if into is None:
                out.update(dev)
        else:
            out["device_overload_any"] = np.zeros(n, dtype=bool)
            for part, lo, hi in zip(loads, cuts[:-1], cuts[1:]):
                out["device_overload_any"] |= np.any(part > rating[lo:hi] * (1.0 + OVERLOAD_TOLERANCE), axis=1)
        limit = np.inf if self.grid_limit_kw is None else self.grid_limit_kw
        out["grid_overload"] = grid > limit * (1.0 + OVERLOAD_TOLERANCE)
        out["overload"] = out["device_overload_any"] | out["grid_overload"]
        if per_rack:
            cls = self.class_of_rack
            racks = {"rack_power_kw": power, "rack_tokens_per_s": work * self.rate.sum(axis=1), "rack_throttle": theta}
            for k, v in racks.items():
                if into is not None:
                    np.take(v.astype(np.float32), cls, axis=1, out=into[k][start:stop])
                else:
                    out[k] = v[:, cls].astype(np.float32)
        return out

    def _throttle(self, uc: np.ndarray, db: np.ndarray, wb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Throttle factor per class (time x class) and an over-temperature flag per step.

        A free-cooling unit moves at most rating x (max water - ambient) / approach; when the racks behind it
        would send more, their GPUs give up power above idle (factor theta) until the heat fits.
        """
        t = self.topo
        theta = np.ones(uc.shape)
        if not t.limited.size:
            return theta, np.zeros(uc.shape[0], dtype=bool)
        a = self.m_lim @ self.fixed
        b = (self.m_lim @ (uc * self.dyn).T).T
        cap = np.empty(b.shape)
        models = [t.plant_models[p] for p in t.limited]
        for model, idx in group_by_model(models).items():
            rating = t.cool_rating[t.n_units + t.limited[idx]]
            cap[:, idx] = free_capacity_kw(model, rating, t.limited_max_water[idx], db[:, None], wb[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            th = np.where(b > 1e-12, np.clip((cap - a) / np.where(b > 1e-12, b, 1.0), 0.0, 1.0), 1.0)
        over = np.any(a + b * th > cap * (1 + 1e-9) + 1e-9, axis=1)
        for classes, lims in self.lim_groups:
            theta[:, classes] = th[:, lims].min(axis=1)[:, None]
        return theta, over

    def _unit_power(self, heat_u: np.ndarray) -> np.ndarray:
        """In-hall unit power (time x unit) at each unit's load: design power x the affinity-law fraction."""
        t = self.topo
        rating = t.cool_rating[: t.n_units]
        sized = np.isfinite(rating) & (rating > 0)
        design = np.where(sized, rating, 0.0) * t.unit_k
        x = heat_u / np.where(sized, rating, 1.0)
        keys = np.vstack([x, t.unit_min_flow[None, :], t.unit_head[None, :]])
        rep, inverse = _distinct_columns(keys)
        frac = mover_fraction(x[:, rep], t.unit_min_flow[rep], t.unit_head[rep])[:, inverse]
        return np.where(sized & (heat_u > 0), design * frac, heat_u * t.unit_k)

    def _outside_air(self, unit_out: np.ndarray, db: np.ndarray, wb: np.ndarray) -> np.ndarray:
        """Heat (time x unit) that airside economizers send straight outside instead of to their plant."""
        t = self.topo
        out = np.zeros_like(unit_out)
        if t.economizers.size:
            supply, ret, fan_heat = t.economizer_air_c
            share = air_economizer_fraction(supply, ret, db[:, None], wb[:, None], fan_heat)
            out[:, t.economizers] = unit_out[:, t.economizers] * share
        return out

    def _plant(self, unit_out: np.ndarray, db: np.ndarray, wb: np.ndarray, outside: np.ndarray):
        """Heat through the plant levels at each unit's load fraction (less what goes `outside`); returns
        heat, power, compressor, water per plant unit and totals (rejected heat, economizer fraction)."""
        t = self.topo
        heat = (t.unit_to_plant @ (unit_out - outside).T).T
        comp = np.zeros_like(heat)
        aux = np.zeros_like(heat)
        water = np.zeros_like(heat)
        mult = np.ones_like(heat)
        free = np.ones_like(heat)
        rating = t.cool_rating[t.n_units:]
        sized = np.isfinite(rating) & (rating > 0)
        dbc, wbc = db[:, None], wb[:, None]
        for level in t.plant_levels:
            for spec, idx in _group(level, t.plant_spec).items():
                first, down, setpoint, role = spec
                h = heat[:, idx]
                x = np.where(sized[idx], h / np.where(sized[idx], rating[idx], 1.0), 1.0)
                n = t.plant_members[idx]
                rep, inv = _distinct_columns(np.vstack([np.maximum(x, IDLE_FRACTION), n[None, :]]))
                x, n = np.maximum(x[:, rep], IDLE_FRACTION), n[rep]
                if role == "first":
                    c = plant_coefficients(first, down, setpoint, dbc, wbc, load_fraction=x, members=n)
                    comp[:, idx] = h * c.compressor[:, inv]
                    aux[:, idx] = h * c.aux[:, inv]
                    water[:, idx] = h * c.water[:, inv]
                    mult[:, idx] = c.out[:, inv]
                    free[:, idx] = c.free_fraction[:, inv]
                else:
                    c = plant_coefficients(first, down, setpoint, dbc, wbc, down_load_fraction=x, down_members=n)
                    aux[:, idx] = h * c.down_aux[:, inv]
                    water[:, idx] = h * c.down_water[:, inv]
            passed = heat[:, level] * mult[:, level]
            heat += (t.plant_to_plant[:, level] @ passed.T).T
        direct = outside.sum(axis=1)
        rejected = (heat * mult)[:, t.plant_terminal].sum(axis=1) + direct
        entry = np.asarray(t.unit_to_plant.sum(axis=1)).ravel() > 0
        first_heat = heat[:, entry]
        total = first_heat.sum(axis=1) + direct
        free_heat = (first_heat * free[:, entry]).sum(axis=1) + direct
        econ = np.where(total > 0, free_heat / np.where(total > 0, total, 1.0), 1.0)
        return heat, comp + aux, comp, water, rejected, econ


def _input_power(equipment: Any, load: np.ndarray, rating: np.ndarray) -> np.ndarray:
    """Input power of devices of one loss model (time x device), computed once per distinct (load, rating) column."""
    rep, inverse = _distinct_columns(np.vstack([load, rating[None, :]]))
    return equipment.input_power(load[:, rep], rating[rep])[:, inverse]


def _distinct_columns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Representative columns of `x` and, per column, which representative equals it exactly.

    Identical halls load their units identically, so a 1 GW site's thousands of unit columns collapse to a
    few: coefficients are computed once per distinct column. Candidates come from a few sample rows and
    every match is verified on all rows (a column that differs keeps itself as representative).
    """
    n = x.shape[1]
    if n <= 1:
        return np.arange(n), np.arange(n)
    rows = np.unique(np.linspace(0, x.shape[0] - 1, 5).astype(int))
    _, first, inverse = np.unique(x[rows].T, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    candidate = first[inverse]
    same = np.all(x == x[:, candidate], axis=0)
    own = np.flatnonzero(~same)
    rep = np.unique(np.concatenate([candidate[same], own]))
    position = np.searchsorted(rep, np.where(same, candidate, np.arange(n)))
    return rep, position


def _group(indices: np.ndarray, specs: list[tuple]) -> dict[tuple, np.ndarray]:
    out: dict[tuple, list[int]] = {}
    for i in indices:
        out.setdefault(specs[i], []).append(int(i))
    return {k: np.asarray(v) for k, v in out.items()}


def prepare(topo: Topology, catalog: Catalog, workload: tokens.Workload, util: np.ndarray, *,
            cap_curve: str = gpu.DEFAULT_CAP_CURVE, aux_kw: float = 0.0, grid_limit_kw: float | None = None) -> Engine:
    """Group racks into classes and build the aggregated matrices and per-class rates."""
    import pandas as pd
    import scipy.sparse as sp

    racks = topo.racks
    n_racks = len(racks)
    mix = workload.tiers(catalog)
    own_tier = racks["tier"] if "tier" in racks else pd.Series(None, index=racks.index, dtype=object)
    tiers = list(mix) + sorted({x for x in own_tier.dropna().unique() if x not in mix})
    for tr in tiers:
        if tr != tokens.TRAINING_TIER:
            catalog.tier(tr)
    system = racks["system"].to_numpy(dtype=object)
    nodes = racks["nodes"].to_numpy(dtype=float)
    cap = racks["cap_w"].to_numpy(dtype=float)
    tier_key = np.array([x if isinstance(x, str) else "" for x in own_tier], dtype=object)

    # throttle groups: which free-cooling plant units each rack's heat reaches
    w_lim = topo.unit_to_plant[topo.limited] @ sp.diags(1.0 + topo.unit_k) @ topo.rack_to_unit
    lim_t = w_lim.T.tocsr()
    lim_key = [tuple(lim_t.indices[lim_t.indptr[r]:lim_t.indptr[r + 1]]) for r in range(n_racks)]
    lim_code = pd.factorize(pd.Series(lim_key, dtype=object))[0]
    util_col = np.arange(n_racks) if util.ndim == 2 else np.zeros(n_racks, dtype=int)
    keys = pd.DataFrame({"s": system, "n": nodes, "c": cap, "t": tier_key, "u": util_col, "l": lim_code})
    class_of_rack = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    n_class = int(class_of_rack.max()) + 1
    first = np.zeros(n_class, dtype=int)
    first[class_of_rack[::-1]] = np.arange(n_racks)[::-1]
    count = np.bincount(class_of_rack, minlength=n_class).astype(float)

    fixed = np.zeros(n_class)
    dyn = np.zeros(n_class)
    rate = np.zeros((n_class, len(tiers)))
    revenue = np.zeros((n_class, len(tiers)))
    for c, r in enumerate(first):
        spec = catalog.system(system[r])
        f, d = gpu.rack_power_terms_kw(spec, nodes[r], cap[r])
        fixed[c], dyn[c] = float(f), float(d)
        factor = float(gpu.cap_factor(catalog, cap[r], spec.gpu_tdp_w, cap_curve))
        shares = {tier_key[r]: 1.0} if tier_key[r] else mix
        gpus = nodes[r] * spec.gpus_per_node
        for j, tr in enumerate(tiers):
            share = shares.get(tr, 0.0)
            if share <= 0:
                continue
            point = tokens.tier_point(catalog, system[r], tr, workload)
            rate[c, j] = gpus * share * factor * point.tokens_per_s_per_gpu
            revenue[c, j] = rate[c, j] * tokens.revenue_usd_per_mtok(catalog, tr, point.output_share) * 3600 / 1e6

    indicator = sp.csr_matrix((np.ones(n_racks), (np.arange(n_racks), class_of_rack)), shape=(n_racks, n_class))
    m_lim = (w_lim @ indicator).tocsr()
    lim_groups = []
    lim_of_class = m_lim.T.tocsr()
    sets: dict[tuple, list[int]] = {}
    for c in range(n_class):
        key = tuple(lim_of_class.indices[lim_of_class.indptr[c]:lim_of_class.indptr[c + 1]])
        if key:
            sets.setdefault(key, []).append(c)
    lim_groups = [(np.asarray(cs), np.asarray(k)) for k, cs in sets.items()]
    power_groups = [list(group_by_model([topo.power_models[i] for i in level]).items()) for level in topo.power_levels]
    power_groups = [[(eq, level[idx]) for eq, idx in groups] for groups, level in zip(power_groups, topo.power_levels)]
    if util.ndim == 2 and util.shape[1] != n_racks:
        raise PhysicsError(f"utilization has {util.shape[1]} rack columns but the facility has {n_racks} populated racks")
    return Engine(
        topo=topo, tiers=tiers, class_of_rack=class_of_rack, count=count, fixed=fixed, dyn=dyn, rate=rate,
        revenue=revenue, util=util, util_col=util_col[first], m_power=(topo.rack_feed @ indicator).tocsr(),
        m_unit=(topo.rack_to_unit @ indicator).tocsr(), m_lim=m_lim, lim_groups=lim_groups,
        power_groups=power_groups, aux_kw=aux_kw, grid_limit_kw=grid_limit_kw,
    )


__all__ = ["Engine", "prepare", "LIGHTING_W_PER_M2", "OVERLOAD_TOLERANCE"]
