"""The dispatch model: per step and rack class, how many racks run, at which caps, serving which tier, what
waits, what the battery and generator do, and what is drawn from the grid. A linear program over a horizon,
built from `DispatchData` arrays, one vectorized block per family (no Python loop per step or constraint).

Variables (per step t; g class, k cap level, j tier):
  on[t, g]        racks powered (<= count; = count when racks may not be switched off)
  work[t, g, k]   rack-utilization units at cap level k (power fixed_kw per rack on + dyn_kw[g, k] per unit)
  serve[t, g, j]  full-speed rack equivalents serving tier j (sum over j <= sum over k of speed[g, k] x work)
  grid[t]         import; charge, discharge, soc (battery); gen (generator); over[t] import above the limit
  backlog[t, j]   deferred work waiting; late[t, j] past its deadline (rack-hours of the tier's fastest rack)
  drop[t, j]      interactive demand not served (racks of the tier's fastest rate); peak[m] each month's peak import
Rows: busy (work <= on), speed (serve <= speed x work), balance (grid + discharge + gen - charge = facility
power, the twin linearized: offset + slope . class kW), limit (grid - over <= limit), soc, served (tokens +
drop = demand for interactive tiers), backlog (deferred work carried over), deadline (backlog - late <= what
arrived within the deadline), free cooling (heat <= free capacity), peak, generator ramp.
Objective (max, USD): token revenue - energy - generator fuel - battery wear - demand charges - penalties.

>>> import numpy as np
>>> from models.dispatch_data import DispatchData
>>> t = np.arange("2025-01-01T00", "2025-01-01T02", dtype="datetime64[h]")
>>> d = DispatchData(time=t, step_h=np.ones(2), classes=["a"], count=np.array([1.0]), fixed_kw=np.array([1.0]),
...     dyn_kw=np.array([[9.0]]), speed=np.array([[1.0]]), tiers=["std"], tokens_per_s=np.array([[100.0]]),
...     usd_per_mtok=np.array([[5.0]]), demand=np.array([[100.0], [50.0]]), deadline_h=np.zeros(1),
...     drop_usd_per_mtok=np.zeros(1), offset_kw=np.zeros(2), slope=np.ones((2, 1)), limit_kw=np.full(2, 20.0),
...     price_usd_per_kwh=np.full(2, 0.1))
>>> lp = build(d)
>>> lp.n_vars > 0 and lp.n_rows > 0
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.dispatch_data import DispatchData
from models.linear import INF, LinearProblem

MTOK = 1e6
PINNED = ("on", "work", "charge", "discharge", "gen")


def _index(name_dims: tuple[str, ...], *axes) -> pd.MultiIndex:
    return pd.MultiIndex.from_product([np.arange(len(a)) if not isinstance(a, int) else np.arange(a) for a in axes],
                                      names=list(name_dims))


def build(data: DispatchData) -> LinearProblem:
    """Assemble the dispatch LP (maximize USD over the horizon)."""
    lp = LinearProblem(sense="max")
    n, g = data.n_steps, len(data.classes)
    nj = len(data.tiers)
    dt = np.asarray(data.step_h, dtype=float)
    units = data.unit_per_h()                                   # tokens (or rack-hours) per rate-hour
    rate = data.tier_rate()                                     # drop in rack equivalents, backlog in rack-hours of it
    per_rack_h = units * rate
    deferred = np.asarray(data.deadline_h, dtype=float) > 0
    jd = np.flatnonzero(deferred)
    ji = np.flatnonzero(~deferred)
    level_ok = np.isfinite(data.dyn_kw)                          # (g, k)
    gk = np.argwhere(level_ok)                                   # pairs (g, k)
    gj = np.argwhere(data.tokens_per_s > 0)                      # pairs (g, j)
    t_idx = np.arange(n)

    # ------------------------------------------------------------------ variables
    count = np.asarray(data.count, dtype=float)
    on = lp.add_vars("on", _index(("t", "g"), n, g), lb=np.tile(count if not data.switch_off else 0.0 * count, n),
                     ub=np.tile(count, n))
    on = on.reshape(n, g)
    work = lp.add_vars("work", _index(("t", "gk"), n, len(gk))).reshape(n, len(gk))
    price = data.usd_per_mtok[gj[:, 0], gj[:, 1]] * data.tokens_per_s[gj[:, 0], gj[:, 1]] * units[gj[:, 1]] / MTOK   # USD per unit-hour
    serve = lp.add_vars("serve", _index(("t", "gj"), n, len(gj)), cost=(dt[:, None] * price[None, :]).ravel())
    serve = serve.reshape(n, len(gj))
    grid = lp.add_vars("grid", _index(("t",), n), cost=-dt * data.price_usd_per_kwh)
    over = lp.add_vars("over", _index(("t",), n), cost=-dt * data.penalty_usd_per_kwh)
    st, gen_spec = data.storage, data.generator
    has_bess = st.energy_kwh > 0 and (st.charge_kw > 0 or st.discharge_kw > 0)
    if has_bess:
        charge = lp.add_vars("charge", _index(("t",), n), ub=st.charge_kw)
        discharge = lp.add_vars("discharge", _index(("t",), n), ub=st.discharge_kw, cost=-dt * st.wear_usd_per_kwh)
        soc_lb = np.full(n, st.soc_min * st.energy_kwh)
        soc_lb[-1] = max(soc_lb[-1], st.soc_start * st.energy_kwh if data.soc_end_kwh is None else data.soc_end_kwh)
        soc = lp.add_vars("soc", _index(("t",), n), lb=soc_lb, ub=st.energy_kwh)
    if gen_spec.rating_kw > 0:
        gen = lp.add_vars("gen", _index(("t",), n), ub=gen_spec.rating_kw, cost=-dt * gen_spec.cost_usd_per_kwh)
    drop = lp.add_vars("drop", _index(("t", "j"), n, len(ji)),
                       ub=(np.asarray(data.demand[:, ji], dtype=float) / rate[ji][None, :]).ravel(),
                       cost=-(dt[:, None] * (data.drop_usd_per_mtok[ji] * per_rack_h[ji])[None, :] / MTOK).ravel())
    drop = drop.reshape(n, len(ji))
    if jd.size:
        backlog = lp.add_vars("backlog", _index(("t", "j"), n, len(jd)),
                              cost=-(dt[:, None] * (data.wait_usd_per_unit_h() * per_rack_h)[jd][None, :]).ravel()
                              ).reshape(n, len(jd))
        late = lp.add_vars("late", _index(("t", "j"), n, len(jd)),
                           cost=-np.tile((data.late_usd_per_unit() * per_rack_h)[jd], n))
        late = late.reshape(n, len(jd))
    months = data.month()
    n_months = int(months.max()) + 1
    if data.demand_charge_usd_per_kw > 0:
        floor = np.zeros(n_months) if data.peak_start_kw is None else data.peak_start_kw[:n_months]
        peak = lp.add_vars("peak", _index(("m",), n_months), lb=floor, cost=-data.demand_charge_usd_per_kw)

    # ------------------------------------------------------------------ rows
    # busy: sum_k work[t, g, k] - on[t, g] <= 0
    r = t_idx[:, None] * g + gk[None, :, 0]
    lp.add_rows("busy", _index(("t", "g"), n, g),
                rows=np.concatenate([r.ravel(), (t_idx[:, None] * g + np.arange(g)).ravel()]),
                cols=np.concatenate([work.ravel(), on.ravel()]),
                vals=np.concatenate([np.ones(work.size), -np.ones(on.size)]), ub=0.0)
    # speed: sum_j serve[t, g, j] - sum_k speed[g, k] work[t, g, k] <= 0
    rs = t_idx[:, None] * g + gj[None, :, 0]
    sp = data.speed[gk[:, 0], gk[:, 1]]
    lp.add_rows("speed", _index(("t", "g"), n, g),
                rows=np.concatenate([rs.ravel(), r.ravel()]), cols=np.concatenate([serve.ravel(), work.ravel()]),
                vals=np.concatenate([np.ones(serve.size), -np.tile(sp, n)]), ub=0.0)
    # balance: grid + discharge + gen - charge - slope . (fixed on + dyn work) = offset
    dyn = data.dyn_kw[gk[:, 0], gk[:, 1]]
    rows = [np.repeat(t_idx, g), np.repeat(t_idx, len(gk)), t_idx]
    cols = [on.ravel(), work.ravel(), grid]
    vals = [-(data.slope * data.fixed_kw[None, :]).ravel(), -(data.slope[:, gk[:, 0]] * dyn[None, :]).ravel(), np.ones(n)]
    if has_bess:
        rows += [t_idx, t_idx]
        cols += [discharge, charge]
        vals += [np.ones(n), -np.ones(n)]
    if gen_spec.rating_kw > 0:
        rows.append(t_idx)
        cols.append(gen)
        vals.append(np.ones(n))
    lp.add_rows("balance", _index(("t",), n), rows=np.concatenate(rows), cols=np.concatenate(cols),
                vals=np.concatenate(vals), lb=data.offset_kw, ub=data.offset_kw)
    # limit: grid - over <= limit
    lp.add_rows("limit", _index(("t",), n), rows=np.concatenate([t_idx, t_idx]), cols=np.concatenate([grid, over]),
                vals=np.concatenate([np.ones(n), -np.ones(n)]), ub=data.limit_kw)
    if has_bess:
        # soc[t] - soc[t-1] - eta_c dt charge + dt / eta_d discharge = 0 (soc[-1] = start)
        prev = t_idx[1:]
        lp.add_rows("soc", _index(("t",), n),
                    rows=np.concatenate([t_idx, prev, t_idx, t_idx]),
                    cols=np.concatenate([soc, soc[:-1], charge, discharge]),
                    vals=np.concatenate([np.ones(n), -np.ones(n - 1), -st.charge_efficiency * dt,
                                         dt / st.discharge_efficiency]),
                    lb=np.r_[st.soc_start * st.energy_kwh, np.zeros(n - 1)], ub=np.r_[st.soc_start * st.energy_kwh, np.zeros(n - 1)])
    # served (interactive): sum_g tokens[g, j] serve[t, g, j] + drop[t, j] = demand[t, j]
    tok = data.tokens_per_s[gj[:, 0], gj[:, 1]]
    pos_i = {j: i for i, j in enumerate(ji)}
    sel = np.array([j in pos_i for j in gj[:, 1]], dtype=bool)
    if ji.size:
        col_j = np.array([pos_i[j] for j in gj[sel, 1]], dtype=np.int64)
        lp.add_rows("served", _index(("t", "j"), n, len(ji)),
                    rows=np.concatenate([(t_idx[:, None] * len(ji) + col_j[None, :]).ravel(), np.arange(n * len(ji))]),
                    cols=np.concatenate([serve[:, sel].ravel(), drop.ravel()]),
                    vals=np.concatenate([np.tile(tok[sel] / rate[gj[sel, 1]], n), np.ones(n * len(ji))]),
                    lb=(data.demand[:, ji] / rate[ji][None, :]).ravel(), ub=(data.demand[:, ji] / rate[ji][None, :]).ravel())
    if jd.size:
        # backlog[t] - backlog[t-1] + dt units sum_g tokens serve = dt units demand
        pos_d = {j: i for i, j in enumerate(jd)}
        dsel = ~sel
        col_d = np.array([pos_d[j] for j in gj[dsel, 1]], dtype=np.int64)
        nd = len(jd)
        arr = data.demand[:, jd] * dt[:, None] / rate[jd][None, :]
        if data.backlog_start is not None:
            arr[0] += data.backlog_start[jd] / per_rack_h[jd]
        lp.add_rows("backlog", _index(("t", "j"), n, nd),
                    rows=np.concatenate([np.arange(n * nd), np.arange(nd, n * nd),
                                         (t_idx[:, None] * nd + col_d[None, :]).ravel()]),
                    cols=np.concatenate([backlog.ravel(), backlog[:-1].ravel(), serve[:, dsel].ravel()]),
                    vals=np.concatenate([np.ones(n * nd), -np.ones((n - 1) * nd),
                                         (dt[:, None] * (tok[dsel] / rate[gj[dsel, 1]])[None, :]).ravel()]),
                    lb=arr.ravel(), ub=arr.ravel())
        window = data.window()[:, jd] / per_rack_h[jd][None, :]
        lp.add_rows("deadline", _index(("t", "j"), n, nd),
                    rows=np.concatenate([np.arange(n * nd), np.arange(n * nd)]),
                    cols=np.concatenate([backlog.ravel(), late.ravel()]),
                    vals=np.concatenate([np.ones(n * nd), -np.ones(n * nd)]), ub=window.ravel())
    if data.lim_coef.size:
        # free cooling: sum_g coef[r, g] (fixed on + dyn work) <= capacity[t, r]
        nr = data.lim_coef.shape[0]
        rr, gg = np.nonzero(data.lim_coef)
        c_on = data.lim_coef[rr, gg] * data.fixed_kw[gg]
        kk = [np.flatnonzero(gk[:, 0] == x) for x in range(g)]
        rows_w = [(rr_, p) for rr_, gg_ in zip(rr, gg) for p in kk[gg_]]
        w_r = np.array([x[0] for x in rows_w], dtype=np.int64)
        w_p = np.array([x[1] for x in rows_w], dtype=np.int64)
        w_v = data.lim_coef[w_r, gk[w_p, 0]] * dyn[w_p]
        lp.add_rows("free_cooling", _index(("t", "r"), n, nr),
                    rows=np.concatenate([(t_idx[:, None] * nr + rr[None, :]).ravel(), (t_idx[:, None] * nr + w_r[None, :]).ravel()]),
                    cols=np.concatenate([on[:, gg].ravel(), work[:, w_p].ravel()]),
                    vals=np.concatenate([np.tile(c_on, n), np.tile(w_v, n)]), ub=data.lim_cap_kw.ravel())
    if data.demand_charge_usd_per_kw > 0:
        lp.add_rows("peak", _index(("t",), n), rows=np.concatenate([t_idx, t_idx]),
                    cols=np.concatenate([grid, peak[months]]), vals=np.concatenate([np.ones(n), -np.ones(n)]), ub=0.0)
    if gen_spec.rating_kw > 0 and np.isfinite(gen_spec.ramp_kw_per_h) and n > 1:
        step = gen_spec.ramp_kw_per_h * dt[1:]
        for name, sign in (("ramp_up", 1.0), ("ramp_down", -1.0)):
            lp.add_rows(name, _index(("t",), n - 1), rows=np.concatenate([t_idx[:-1], t_idx[:-1]]),
                        cols=np.concatenate([gen[1:], gen[:-1]]), vals=np.concatenate([np.full(n - 1, sign), np.full(n - 1, -sign)]),
                        ub=step)
    if gen_spec.rating_kw > 0 and np.isfinite(gen_spec.ramp_kw_per_h) and data.gen_start_kw is not None:
        k = list(lp.var_families).index("gen")          # the first step ramps from where the previous window left it
        reach = gen_spec.ramp_kw_per_h * dt[0]
        lp.col_lb[k][0] = max(0.0, data.gen_start_kw - reach)
        lp.col_ub[k][0] = min(gen_spec.rating_kw, data.gen_start_kw + reach)
    if data.pinned is not None and data.fixed_before > 0:
        _pin(lp, data)
    return lp


def _pin(lp: LinearProblem, data: DispatchData) -> None:
    """Fix the power decisions (racks on, work per cap, battery, generator) of the first `fixed_before` steps to the
    pinned solution (the site learns of an event at its notice); what follows from them (import, tier split, backlog)
    stays free, so numerical residuals of the pinned solution cannot make the rows infeasible."""
    for k, (name, fam) in enumerate(lp.var_families.items()):
        if name not in PINNED:
            continue
        values = np.asarray(data.pinned[name][:data.fixed_before], dtype=float).ravel()
        lp.col_lb[k][:values.size] = values
        lp.col_ub[k][:values.size] = values


__all__ = ["build", "MTOK"]
