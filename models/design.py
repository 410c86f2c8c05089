"""The design model: how many racks of which (system, density, power cap) in which hall class and cooling,
serving which token tier, inside the grid limit at every hour of the design weather year. Built from
`DesignData` arrays.

Variables (integer unless noted):
  halls[k, c]      halls of class k given cooling technology c
  racks[k, c, o]   racks of option o = (system, nodes, cap) in those halls
  serve[o, t]      racks of option o serving tier t
  plant_it         kW of IT the power chain is built for (continuous)
  plant_heat[c]    kW of heat the cooling units and heat rejection of technology c are built for (continuous)
Options a hall class cannot take (cooling limit, incompatible system, floor loading) get no variable.
Rows: one cooling per hall, rack positions, racks serving = racks built, tier demand and commitments, grid power at
each design-year hour that can bind (IT x (1 + chain losses) + cooling + aux; `models.design_year`),
plant sizing, capex budget.
  sold[t, h, k]    tokens/s of tier t sold in hour h of the day on segment k of its demand curve (continuous)
Objectives: 'profit' (USD/year: market revenue - capital recovery and O&M per asset class - energy;
`models.economics`), 'revenue' (USD/year from the same market), 'tokens' (tokens/s, GPUs split over tiers
by the workload's tier mix, equal shares when none is given), 'tokens-per-dollar' (Dinkelbach step:
tokens/year - lam x the same yearly cost). A tier mix given with the workload binds every objective.
"""

from __future__ import annotations

import numpy as np

from models import economics
from models.design_data import HOURS_PER_YEAR, DesignData
from models.design_year import add_grid_rows
from models.linear import INF, LinearProblem

OBJECTIVES = ("profit", "revenue", "tokens", "tokens-per-dollar")
ELASTIC_ROWS = ("grid", "budget", "commitment")
"""Rows that get a slack in the elastic model used to explain infeasibility."""


def build(data: DesignData, objective: str = "profit", *, lam: float = 0.0, elastic: tuple[str, ...] = ()) -> LinearProblem:
    """Assemble the design problem from arrays (one vectorized block per variable and row family).

    `elastic` names rows (of ELASTIC_ROWS) that get a penalized slack; the problem then minimizes slack.
    """
    unknown = set(elastic) - set(ELASTIC_ROWS)
    if unknown:
        raise ValueError(f"elastic rows {sorted(unknown)} are not among {ELASTIC_ROWS}")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r} is not one of {OBJECTIVES}")
    lp = LinearProblem(sense="min" if elastic else "max")
    nk, no, nc, nt = len(data.halls), len(data.options), len(data.coolings), len(data.tiers)
    allowed = np.array([[c in h.coolings for c in data.coolings] for h in data.halls])         # (k, c)
    kc = [(k, c) for k in range(nk) for c in range(nc) if allowed[k, c]]
    floor = np.array([h.max_floor_kg_m2 for h in data.halls])
    kco = [(k, c, o) for k, c in kc for o in np.flatnonzero(data.compatible[:, c] & (data.floor_kg_m2 <= floor[k]))]
    ot = [(o, t) for o in range(no) for t in range(nt) if data.tokens[o, t] > 0]
    k_of, c_of, o_of = (np.array([x[i] for x in kco], dtype=np.int64) for i in range(3))
    ot_o = np.array([x[0] for x in ot], dtype=np.int64)
    ot_t = np.array([x[1] for x in ot], dtype=np.int64)
    tok = data.tokens[ot_o, ot_t]
    kw_rack = data.overhead()[k_of, o_of, c_of]                           # grid kW per rack, year mean
    it_rack = data.rack_kw[o_of]
    heat_rack = it_rack * data.year.plant_scale[o_of, c_of]                  # all IT power ends as heat
    n_halls = np.array([len(h.halls) for h in data.halls], dtype=float)
    positions = np.array([h.positions for h in data.halls], dtype=float)

    capex_rack = data.capex_rack[o_of]
    money = not elastic and objective in ("profit", "revenue")
    price = {"profit": 1.0, "revenue": 1.0, "tokens-per-dollar": lam}.get(objective, 0.0) if not elastic else 0.0
    if elastic:
        cost_serve, cost_racks = 0.0, 0.0
    elif objective == "tokens":
        cost_serve, cost_racks = tok, 0.0
    elif money:
        cost_serve = economics.serve_revenue(data, ot_o, ot_t, tok)
        cost_racks = -economics.rack_yearly_cost(data, o_of, kw_rack) if objective == "profit" else 0.0
    else:
        cost_serve = tok * 3600 * HOURS_PER_YEAR / 1e6
        cost_racks = -lam * economics.rack_yearly_cost(data, o_of, kw_rack)

    hv = lp.add_vars("halls", [(data.halls[k].name, data.coolings[c]) for k, c in kc], lb=0,
                     ub=n_halls[[k for k, _ in kc]], integer=True)
    rv = lp.add_vars("racks", [(data.halls[k].name, data.coolings[c], data.options[o]) for k, c, o in kco], lb=0,
                     ub=positions[k_of] * n_halls[k_of], integer=True, cost=cost_racks)
    sv = lp.add_vars("serve", [(data.options[o], data.tiers[t]) for o, t in ot], lb=0, integer=True, cost=cost_serve)
    dollars = -price if objective in ("profit", "tokens-per-dollar") else 0.0
    pv = lp.add_vars("plant_it", [("it",)], lb=0, cost=dollars * economics.plant_it_yearly_cost(data))
    cv = lp.add_vars("plant_heat", [(c,) for c in data.coolings], lb=0,
                     cost=dollars * economics.plant_heat_yearly_cost(data))
    if money:
        economics.add_sales(lp, data, sv, ot_o, ot_t, tok, 1.0)
    _tier_mix(lp, data, objective if not elastic else "", sv, ot_o, ot_t)

    kc_index = {x: i for i, x in enumerate(kc)}
    hk = np.array([k for k, _ in kc])
    lp.add_rows("one_cooling", [(h.name,) for h in data.halls], rows=hk, cols=hv, vals=np.ones(len(kc)), ub=n_halls)
    pos_rows = np.array([kc_index[(k, c)] for k, c, _ in kco], dtype=np.int64)
    lp.add_rows("positions", [(data.halls[k].name, data.coolings[c]) for k, c in kc],
                rows=np.concatenate([pos_rows, np.arange(len(kc))]), cols=np.concatenate([rv, hv]),
                vals=np.concatenate([np.ones(len(kco)), -positions[hk]]), ub=0.0)
    lp.add_rows("serving", [(o,) for o in data.options], rows=np.concatenate([ot_o, o_of]),
                cols=np.concatenate([sv, rv]), vals=np.concatenate([np.ones(len(ot)), -np.ones(len(kco))]),
                lb=0.0, ub=0.0)                 # every rack built serves a tier (the simulator serves untiered racks on all)
    lp.add_rows("demand", [(t,) for t in data.tiers], rows=ot_t, cols=sv, vals=tok, ub=data.demand)

    scale = np.maximum(np.where(data.commitment > 0, data.commitment, 1.0), 1.0)      # rows in units of the commitment
    commit_cols, commit_vals, commit_rows = [sv], [tok / scale[ot_t]], [ot_t]
    if "commitment" in elastic:
        short = lp.add_vars("short_commitment", [(t,) for t in data.tiers], lb=0, cost=1.0)
        commit_cols.append(short)
        commit_vals.append(np.ones(nt))
        commit_rows.append(np.arange(nt))
    lp.add_rows("commitment", [(t,) for t in data.tiers], rows=np.concatenate(commit_rows),
                cols=np.concatenate(commit_cols), vals=np.concatenate(commit_vals), lb=data.commitment / scale)

    add_grid_rows(lp, data, rv, k_of, c_of, o_of, elastic="grid" in elastic)

    if data.device_rows:
        from models.brownfield import add_device_rows

        add_device_rows(lp, data, rv, k_of, c_of, o_of)
    lp.add_rows("plant_it_size", [("it",)], rows=np.zeros(len(kco) + 1, dtype=np.int64),
                cols=np.concatenate([rv, pv]), vals=np.concatenate([it_rack, [-1.0]]), ub=0.0)
    lp.add_rows("plant_heat_size", [(c,) for c in data.coolings], rows=np.concatenate([c_of, np.arange(nc)]),
                cols=np.concatenate([rv, cv]), vals=np.concatenate([heat_rack, -np.ones(nc)]), ub=0.0)

    budget_cols = [rv, pv, cv]
    budget_vals = [capex_rack, [economics.plant_it_capex(data)],
                   data.cooling_capex_per_kw * economics.data_builds(data, "cooling")]
    if "budget" in elastic and np.isfinite(data.capex_budget):
        over_budget = lp.add_vars("over_budget", [("USD",)], lb=0, cost=1.0 / data.capex_budget)
        budget_cols.append(over_budget)
        budget_vals.append(np.array([-1.0]))
    lp.add_rows("budget", [("capex",)], rows=np.zeros(sum(len(c) for c in budget_cols), dtype=np.int64),
                cols=np.concatenate(budget_cols), vals=np.concatenate([np.asarray(v, float) for v in budget_vals]),
                ub=data.capex_budget if np.isfinite(data.capex_budget) else INF)
    return lp


def _tier_mix(lp: LinearProblem, data: DesignData, objective: str, sv: np.ndarray, ot_o: np.ndarray,
              ot_t: np.ndarray) -> None:
    """Rows `tier_mix[t]`: GPUs serving tier t = its share x all serving GPUs, within one rack (integer slack).
    The workload's tier mix binds every objective; `tokens` without one splits GPUs equally over the tiers
    some option reaches (so it cannot pile every GPU onto the cheapest, slowest tier)."""
    mix = data.tier_mix
    if mix is None and objective == "tokens":
        reach = sorted({data.tiers[j] for j in ot_t})
        mix = {t: 1.0 / len(reach) for t in reach}
    if not mix or not len(sv):
        return
    gpus = data.gpus[ot_o]
    share = np.array([mix.get(t, 0.0) for t in data.tiers])
    nt = len(data.tiers)
    coef = ((np.arange(nt)[:, None] == ot_t[None, :]) - share[:, None]) * gpus[None, :]       # (tier, serve column)
    rows, cols = np.repeat(np.arange(nt), len(sv)), np.tile(sv, nt)
    vals = coef.ravel()
    slack = float(data.gpus.max())
    lp.add_rows("tier_mix", [(t,) for t in data.tiers], rows=rows, cols=cols, vals=vals, lb=-slack, ub=slack)


def design_model(data: DesignData, objective: str = "profit", **kwargs):
    """The design problem as a Pyomo ConcreteModel (one Var/Constraint component per family)."""
    from models.linear import to_pyomo

    return to_pyomo(build(data, objective, **kwargs))
