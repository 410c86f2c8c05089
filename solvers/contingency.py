"""Re-optimized caps after a failure: instead of shedding racks, lower the caps of the racks behind an
overloaded group (down to the catalog's minimum) to keep as many tokens/s as its live ratings allow.

One small MIP per distinct overloaded scenario: per block behind the overloaded groups, racks at each cap
level at or below its current cap (continuous: a mix of two levels is one cap between them), plus whole
racks switched off. `shed='optimal'` (default) lets the solve switch racks off wherever that keeps more
tokens than capping (deep caps cost more tokens per kW saved than shedding: the cap curve is concave and node
overheads stay), so it never does worse than the scan's shedding; `shed='last-resort'` caps every rack to the
minimum before it sheds one. Rows: every overloaded group within its live capacity.

>>> import blueprints, solvers
>>> from twin.contingency import scan
>>> result = solvers.recap(scan(blueprints.load("ai-factory-hall")))
>>> int(result.table["racks_capped"].sum())
0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.linear import LinearProblem
from solvers.highs import Status, solve_direct
from twin.contingency import ContingencyScan, overloaded, rack_counts, working_racks, worst_first
from twin.errors import TwinError
from twin.graph import bulk

SHED = ("last-resort", "optimal")


def recap(result: ContingencyScan, *, shed: str = "optimal", objective: str = "tokens") -> ContingencyScan:
    """Add re-capped columns to a scan's table: racks_capped, racks_shed_recap, racks_lost_recap,
    tokens_lost_recap (+ per tier) and revenue_lost_recap_usd_per_h; keep per-scenario caps for `rack_state`."""
    with bulk():
        if shed not in SHED or objective not in ("tokens", "revenue"):
            raise TwinError(f"shed must be one of {SHED} and objective 'tokens' or 'revenue', got {shed!r}, {objective!r}")
        net, out, vals = result.net, result.outages, result.values
        facility = result.facility
        count = net.blocks["count"].to_numpy(float)
        hot = overloaded(out, count * vals["kw"])
        levels, kw_at, factor_at = _levels(facility, net, vals)
        rate = vals["tokens"]                                   # (b, t) per rack at its current cap
        usd = vals["usd"]
        now_factor = factor_at[np.arange(net.n_blocks), _current_level(levels, vals)]
        cap_delta = np.zeros((len(out.failed), rate.shape[1]))
        usd_delta = np.zeros(len(out.failed))
        n_capped, n_shed = np.zeros(len(out.failed)), np.zeros(len(out.failed))
        capped, shed_n = {}, {}
        cache: dict[bytes, tuple] = {}
        for s in np.unique(out.pair_scenario[hot]):
            rows = np.intersect1d(out.pairs_of(s), hot)
            w = out.pair_weight[rows].toarray()
            live = working_racks(out, s, count)
            key = w.tobytes() + out.pair_capacity[rows].tobytes() + live.tobytes()
            if key not in cache:
                cache[key] = _solve(w, out.pair_capacity[rows], live, vals, levels, kw_at, factor_at, now_factor,
                                    shed, objective)
            cap_b, shed_b, keep_frac = cache[key]
            capped[int(s)], shed_n[int(s)] = cap_b, shed_b
            n_capped[s], n_shed[s] = cap_b.sum(), shed_b.sum()
            touched = (w > 0).any(axis=0) & ~vals["idle"]
            cap_delta[s] = ((live * (keep_frac - 1.0) * touched)[:, None] * rate).sum(axis=0)
            usd_delta[s] = (live * (keep_frac - 1.0) * touched) @ usd
        table = result.table.copy()
        pos = pd.Series(np.arange(len(out.failed)), index=net.devices[out.failed])[table.index].to_numpy()
        lost_racks = rack_counts(out.lost, count)
        base_tokens = lost_racks @ rate
        table["racks_capped"] = n_capped[pos].round().astype(np.int64)
        table["racks_shed_recap"] = n_shed[pos].round().astype(np.int64)
        table["racks_lost_recap"] = (np.asarray(lost_racks.sum(axis=1)).ravel() + n_shed)[pos].round().astype(np.int64)
        table["tokens_lost_recap"] = (base_tokens.sum(axis=1) - cap_delta.sum(axis=1))[pos]
        for j, t in enumerate(vals["tiers"]):
            table[f"tokens_lost_recap[{t}]"] = (base_tokens[:, j] - cap_delta[:, j])[pos]
        table["revenue_lost_recap_usd_per_h"] = (lost_racks @ usd - usd_delta)[pos]
        table = worst_first(table, ["tokens_lost_recap", "tokens_lost", "racks_lost"])
        recapped = {"capped": capped, "shed": shed_n}
        return ContingencyScan(result.facility, net, out, vals, result.shed, result.base_overloads, table, recapped)


def _levels(facility: Any, net: Any, vals: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cap levels (fractions of TDP) shared by all blocks, and per block the kW and throughput factor at each."""
    from twin.physics import gpu

    cat = facility.catalog
    curve = cat.power_cap_curve(gpu.DEFAULT_CAP_CURVE)
    fracs = sorted({p for p, _ in curve.points if p >= curve.min_cap_fraction - 1e-9} | set(np.round(vals["cap_fraction"], 9)))
    levels = np.array([f for f in fracs if curve.min_cap_fraction - 1e-9 <= f <= 1.0 + 1e-9])
    kw = np.zeros((net.n_blocks, len(levels)))
    for i, (system, nodes) in enumerate(zip(net.blocks["system"], net.blocks["nodes"])):
        spec = cat.system(system)
        kw[i] = spec.rack_power_kw(np.full(len(levels), nodes), levels * spec.gpu_tdp_w)
    factor = np.broadcast_to(np.asarray(curve.factor(levels), dtype=float), kw.shape)
    return levels, kw, factor


def _current_level(levels: np.ndarray, vals) -> np.ndarray:
    return np.abs(levels[None, :] - vals["cap_fraction"][:, None]).argmin(axis=1)


def _solve(w: np.ndarray, cap: np.ndarray, live: np.ndarray, vals: dict, levels: np.ndarray, kw_at: np.ndarray,
           factor_at: np.ndarray, now_factor: np.ndarray, shed: str,
           objective: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best caps for the blocks behind overloaded rows: returns (racks capped, racks off, kept share) per block.

    Working racks take a cap level at or below their current one, or go off; idle racks stay idle or go off
    (free in tokens, so they go first).
    """
    n_b = w.shape[1]
    idle = vals["idle"]
    touched = np.flatnonzero((w > 0).any(axis=0) & (live > 0))
    now = _current_level(levels, vals)
    worth = vals["tokens"].sum(axis=1) if objective == "tokens" else vals["usd"]
    per_tdp = np.where(idle, 0.0, worth / np.maximum(now_factor, 1e-12))        # value per rack at TDP
    index, cols_b, cols_l = [], [], []
    for b in touched:
        for lv in ([now[b]] if idle[b] else range(now[b] + 1)):
            index.append((int(b), float(levels[lv])))
            cols_b.append(b)
            cols_l.append(lv)
    cols_b, cols_l = np.array(cols_b), np.array(cols_l)
    kw = np.where(idle[cols_b], vals["kw"][cols_b], kw_at[cols_b, cols_l])
    lp = LinearProblem(sense="max")
    q = lp.add_vars("level", index, lb=0, cost=per_tdp[cols_b] * factor_at[cols_b, cols_l])
    penalty = 0.0 if shed == "optimal" else -10.0 * max(float(per_tdp.max()), 1.0)
    off = lp.add_vars("off", [(int(b),) for b in touched], lb=0, ub=live[touched], integer=True,
                      cost=np.where(idle[touched], 0.0, penalty))
    row_of = {b: i for i, b in enumerate(touched)}
    lp.add_rows("racks", [(int(b),) for b in touched],
                rows=np.concatenate([[row_of[b] for b in cols_b], np.arange(len(touched))]),
                cols=np.concatenate([q, off]), vals=np.ones(len(q) + len(off)), lb=live[touched], ub=live[touched])
    r, c = np.nonzero(w[:, cols_b] > 0)
    lp.add_rows("groups", [(i,) for i in range(len(cap))], rows=r, cols=q[c], vals=w[r, cols_b[c]] * kw[c], ub=cap)
    sol = solve_direct(lp, time_limit=30)
    capped, shed_b, keep = np.zeros(n_b), np.zeros(n_b), np.ones(n_b)
    if sol.status is Status.INFEASIBLE or not sol.ok:
        shed_b[touched] = live[touched]
        keep[touched] = 0.0
        return capped, shed_b, keep
    xq, xo = sol.x[: len(q)], sol.x[len(q):]
    for i, b in enumerate(touched):
        shed_b[b] = np.rint(xo[i])
        if idle[b]:
            continue
        mine = cols_b == b
        keep[b] = float(xq[mine] @ factor_at[b, cols_l[mine]]) / max(live[b] * now_factor[b], 1e-12)
        capped[b] = np.ceil(xq[mine][cols_l[mine] < now[b]].sum() - 1e-6)
    return capped, shed_b, keep


__all__ = ["recap", "SHED"]
