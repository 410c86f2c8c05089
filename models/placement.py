"""The placement model: which workload each block of racks serves, at which power caps, within every
device group's rating (and, optionally, within the ratings left after any single failure).

Variables (over `PlacementData` index sets):
  racks[b, w]      integer racks of block b serving workload w (eligible pairs only)
  level[b, w, l]   racks of (b, w) at cap level l (continuous; a mix of two adjacent levels is one
                   intermediate cap, exact for power and a lower bound for tokens, the curve being concave)
  moved[b]         racks of block b taken off the workload they serve now
  job_hall[j, h]   binary: training job j runs in hall h;  job_level[j, l] binary: at cap level l
Rows: split (levels sum to racks), positions (racks per block), demand and commitment per inference
workload (tokens/s, scaled by the demand), device (base: each group's rack kW or heat within its
capacity, idle racks at idle power), n1 (after each failure, with survivors at the minimum cap),
moves, and for training: domains in one hall, all racks at one cap level.
Objective: revenue (USD/h) or tokens (tokens/s), minus `migration_penalty` x the value of each moved rack.
"""

from __future__ import annotations

import numpy as np

from models.linear import LinearProblem
from models.placement_data import PlacementData

OBJECTIVES = ("revenue", "tokens")
TIE_BREAK = 1e-6
"""Weight of tokens in the revenue objective (and of -racks for training) so free capacity still serves."""


def build(data: PlacementData, objective: str = "revenue", *, migration_penalty: float = 0.05) -> LinearProblem:
    """Assemble the placement problem from arrays (one vectorized block per variable and row family)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r} is not one of {OBJECTIVES}")
    lp = LinearProblem(sense="max")
    specs = data.workloads
    n_p, n_l = len(data.pair_b), len(data.levels)
    pb, pw = data.pair_b, data.pair_w
    training = np.array([specs[w].kind == "training" for w in pw], dtype=bool)
    block_id = [str(x) for x in data.first_rack]
    names = [w.id for w in specs]

    value = data.usd if objective == "revenue" else data.tokens                       # (p, l)
    cost_level = value + (TIE_BREAK * data.tokens if objective == "revenue" else 0.0)
    cost_level = np.where(training[:, None], 0.0, cost_level)
    x = lp.add_vars("racks", [(block_id[b], names[w]) for b, w in zip(pb, pw)], lb=0, ub=data.count[pb],
                    integer=True, cost=np.where(training, -TIE_BREAK, 0.0))
    q = lp.add_vars("level", [(block_id[b], names[w], float(lv)) for b, w in zip(pb, pw) for lv in data.levels],
                    lb=0, ub=np.repeat(data.count[pb], n_l), cost=cost_level.ravel())
    q_of = q.reshape(n_p, n_l)

    lp.add_rows("split", [(block_id[b], names[w]) for b, w in zip(pb, pw)],
                rows=np.concatenate([np.repeat(np.arange(n_p), n_l), np.arange(n_p)]),
                cols=np.concatenate([q, x]), vals=np.concatenate([np.ones(n_p * n_l), -np.ones(n_p)]), lb=0.0, ub=0.0)
    lp.add_rows("positions", [(i,) for i in block_id], rows=pb, cols=x, vals=np.ones(n_p), ub=data.count)

    _demand(lp, data, q_of, training)
    _devices(lp, data, q_of)
    _n1(lp, data, x)
    _moves(lp, data, x, value, objective, migration_penalty)
    _training(lp, data, x, q_of, training, objective)
    return lp


def _demand(lp: LinearProblem, data: PlacementData, q_of: np.ndarray, training: np.ndarray) -> None:
    specs = data.workloads
    inf_pairs = np.flatnonzero(~training)
    n_l = q_of.shape[1]
    for name, bound_of, side in (("demand", lambda s: s.demand_tokens_per_s, "ub"),
                                 ("commitment", lambda s: s.min_tokens_per_s, "lb")):
        ws = [w for w, s in enumerate(specs) if s.kind == "inference" and np.isfinite(bound_of(s)) and bound_of(s) > 0]
        if not ws:
            continue
        row_of = {w: r for r, w in enumerate(ws)}
        sel = inf_pairs[np.isin(data.pair_w[inf_pairs], ws)]
        scale = np.array([bound_of(specs[w]) for w in ws])
        rows = np.repeat([row_of[w] for w in data.pair_w[sel]], n_l)
        vals = (data.tokens[sel] / scale[[row_of[w] for w in data.pair_w[sel]]][:, None]).ravel()
        bounds = {side: np.ones(len(ws))}
        lp.add_rows(name, [(specs[w].id,) for w in ws], rows=rows, cols=q_of[sel].ravel(), vals=vals, **bounds)


def _devices(lp: LinearProblem, data: PlacementData, q_of: np.ndarray) -> None:
    """Each device group's load: idle kW of every rack plus, per working rack, its kW above idle at its level."""
    if data.group_weight.shape[0] == 0:
        return
    extra = data.kw[data.pair_b] - data.idle_kw[data.pair_b][:, None]                 # (p, l)
    rows, cols, vals = _spread(data.group_weight, data.pair_b, q_of, extra)
    floor = data.group_weight @ (data.count * data.idle_kw)
    lp.add_rows("device", [(g,) for g in data.group_names], rows=rows, cols=cols, vals=vals,
                ub=data.group_capacity - floor)


def _n1(lp: LinearProblem, data: PlacementData, x: np.ndarray) -> None:
    """After each failure: idle kW of surviving racks plus, per working rack, its minimum-cap kW above idle."""
    if data.n1_weight.shape[0] == 0:
        return
    extra = (data.kw[data.pair_b, 0] - data.idle_kw[data.pair_b])[:, None]
    rows, cols, vals = _spread(data.n1_weight, data.pair_b, x[:, None], extra)
    floor = data.n1_weight @ (data.count * data.idle_kw)
    lp.add_rows("n1", [(label,) for label in data.n1_labels], rows=rows, cols=cols, vals=vals,
                ub=data.n1_capacity - floor)


def _spread(weight, pair_b: np.ndarray, columns: np.ndarray,
            coef: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO entries of rows `weight` (row x block) applied to per-pair columns (p, k) with coefficients (p, k)."""
    per_pair = weight.tocsc()[:, pair_b].tocoo()                                       # (row x p)
    k = columns.shape[1]
    rows = np.repeat(per_pair.row, k)
    cols = columns[per_pair.col].ravel()
    vals = (per_pair.data[:, None] * coef[per_pair.col]).ravel()
    return rows, cols, vals


def _moves(lp: LinearProblem, data: PlacementData, x: np.ndarray, value: np.ndarray, objective: str,
           penalty: float) -> None:
    """moved[b] >= racks now on workload w - racks kept on w; each moved rack costs `penalty` x its value at TDP."""
    if penalty <= 0:
        return
    specs = data.workloads
    pair_of = {(b, w): p for p, (b, w) in enumerate(zip(data.pair_b, data.pair_w))}
    blocks = [b for b in np.flatnonzero(data.current >= 0) if (b, data.current[b]) in pair_of]
    if not blocks:
        return
    worth = []
    for b in blocks:
        w = data.current[b]
        if specs[w].kind == "training":
            job = data.job_usd[w, -1] if objective == "revenue" else data.job_tokens[w, -1]
            racks = max(1.0, np.ceil(specs[w].domains / max(data.domains_per_rack[pair_of[(b, w)]], 1e-9)))
            worth.append(job / racks)
        else:
            worth.append(value[pair_of[(b, w)], -1])
    first = data.first_rack
    m = lp.add_vars("moved", [(str(first[b]),) for b in blocks], lb=0, cost=-penalty * np.asarray(worth))
    k = len(blocks)
    lp.add_rows("moves", [(str(first[b]),) for b in blocks], rows=np.concatenate([np.arange(k), np.arange(k)]),
                cols=np.concatenate([m, [x[pair_of[(b, data.current[b])]] for b in blocks]]),
                vals=np.ones(2 * k), lb=data.count[blocks])


def _training(lp: LinearProblem, data: PlacementData, x: np.ndarray, q_of: np.ndarray, training: np.ndarray,
              objective: str) -> None:
    """One hall per job, whole domains, one cap level for all of a job's racks; the job's value rides on its level."""
    specs = data.workloads
    jobs = sorted({int(w) for w in data.pair_w[training]})
    if not jobs:
        for w, s in enumerate(specs):
            if s.kind == "training" and s.required:
                raise_unplaceable(s)
        return
    n_l = len(data.levels)
    jh = [(j, h) for j in jobs for h in sorted({data.hall[b] for b in data.pair_b[training & (data.pair_w == j)]})]
    y = lp.add_vars("job_hall", [(specs[j].id, str(h)) for j, h in jh], lb=0, ub=1, integer=True)
    job_value = data.job_usd if objective == "revenue" else data.job_tokens
    z = lp.add_vars("job_level", [(specs[j].id, float(lv)) for j in jobs for lv in data.levels], lb=0, ub=1,
                    integer=True, cost=np.concatenate([job_value[j] + TIE_BREAK * data.job_tokens[j] * (objective == "revenue")
                                                       for j in jobs]))
    z_of = {j: z[i * n_l:(i + 1) * n_l] for i, j in enumerate(jobs)}
    rows_d, cols_d, vals_d, rows_r, cols_r, vals_r = [], [], [], [], [], []
    for r, (j, h) in enumerate(jh):
        sel = np.flatnonzero(training & (data.pair_w == j) & (data.hall[data.pair_b] == h))
        rows_d += [r] * (len(sel) + 1)
        cols_d += list(x[sel]) + [y[r]]
        vals_d += list(data.domains_per_rack[sel]) + [-float(specs[j].domains)]
        most = np.ceil(specs[j].domains / max(float(data.domains_per_rack[sel].min()), 1e-9) - 1e-9)
        rows_r += [r] * (len(sel) + 1)
        cols_r += list(x[sel]) + [y[r]]
        vals_r += [1.0] * len(sel) + [-float(most)]
    lp.add_rows("job_domains", [(specs[j].id, str(h)) for j, h in jh], rows=rows_d, cols=cols_d, vals=vals_d, lb=0.0)
    lp.add_rows("job_racks", [(specs[j].id, str(h)) for j, h in jh], rows=rows_r, cols=cols_r, vals=vals_r, ub=0.0)
    once_rows = [jobs.index(j) for j, _ in jh]
    required = np.array([1.0 if specs[j].required else 0.0 for j in jobs])
    lp.add_rows("job_once", [(specs[j].id,) for j in jobs], rows=once_rows, cols=y, vals=np.ones(len(jh)),
                lb=required, ub=1.0)
    lp.add_rows("job_level_one", [(specs[j].id,) for j in jobs],
                rows=np.concatenate([np.repeat(np.arange(len(jobs)), n_l), once_rows]),
                cols=np.concatenate([z, y]), vals=np.concatenate([np.ones(len(z)), -np.ones(len(jh))]), lb=0.0, ub=0.0)
    tp = np.flatnonzero(training)
    lp.add_rows("job_level_use", [(int(p), float(lv)) for p in tp for lv in data.levels],
                rows=np.concatenate([np.arange(len(tp) * n_l)] * 2),
                cols=np.concatenate([q_of[tp].ravel(), np.concatenate([z_of[int(data.pair_w[p])] for p in tp])]),
                vals=np.concatenate([np.ones(len(tp) * n_l), -np.repeat(data.count[data.pair_b[tp]], n_l)]), ub=0.0)
    for w, s in enumerate(specs):
        if s.kind == "training" and s.required and w not in jobs:
            raise_unplaceable(s)


def raise_unplaceable(spec) -> None:
    from twin.errors import InfeasibleDesign

    where = f" in hall {spec.hall}" if spec.hall else ""
    raise InfeasibleDesign(f"required training job {spec.id!r} has no {spec.system or ''} racks{where} to run on; "
                           "drop `required`, or name another system or hall")


__all__ = ["OBJECTIVES", "build"]
