"""Solving a `models.linear.LinearProblem` with HiGHS: through Pyomo's contrib solver interface (the
product path) or handed to highspy directly as CSR arrays (the parity and speed baseline)."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

import numpy as np

from models.linear import LinearProblem


class Status(enum.Enum):
    """How a solve ended."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ERROR = "error"


@dataclass
class Solution:
    """A solve's outcome: status, primal values, objective, best bound, gap and where the time went."""

    status: Status
    x: np.ndarray
    objective: float
    bound: float
    gap: float
    timings: dict[str, float] = field(default_factory=dict)
    path: str = "pyomo"

    @property
    def ok(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.TIME_LIMIT) and self.x.size > 0 and np.all(np.isfinite(self.x))


def solve_pyomo(lp: LinearProblem, *, time_limit: float = 60.0, mip_gap: float = 1e-3) -> Solution:
    """Build the Pyomo model and solve it with HiGHS via `pyomo.contrib.solver` (persistent interface)."""
    from pyomo.contrib.solver.common.results import TerminationCondition as TC
    from pyomo.contrib.solver.solvers.highs import Highs

    from models.linear import to_pyomo

    t0 = time.perf_counter()
    model = to_pyomo(lp)
    t1 = time.perf_counter()
    opt = Highs()
    res = opt.solve(model, time_limit=time_limit, rel_gap=mip_gap, load_solutions=False,
                    raise_exception_on_nonoptimal_result=False, solver_options={"threads": 1, "output_flag": False})
    t2 = time.perf_counter()
    status = {
        TC.convergenceCriteriaSatisfied: Status.OPTIMAL, TC.maxTimeLimit: Status.TIME_LIMIT,
        TC.provenInfeasible: Status.INFEASIBLE, TC.locallyInfeasible: Status.INFEASIBLE,
        TC.infeasibleOrUnbounded: Status.INFEASIBLE, TC.unbounded: Status.UNBOUNDED,
    }.get(res.termination_condition, Status.ERROR)
    x = np.full(lp.n_vars, np.nan)
    if res.incumbent_objective is not None:
        res.solution_loader.load_vars()
        x = np.array([v.value if v.value is not None else np.nan for v in model._columns], dtype=float)
    t3 = time.perf_counter()
    objective = float(res.incumbent_objective) if res.incumbent_objective is not None else float("nan")
    bound = float(res.objective_bound) if res.objective_bound is not None else float("nan")
    return Solution(status, x, objective, bound, _gap(objective, bound),
                    {"build_s": t1 - t0, "solve_s": t2 - t1, "extract_s": t3 - t2}, "pyomo")


def solve_direct(lp: LinearProblem, *, time_limit: float = 60.0, mip_gap: float = 1e-3,
                 options: dict | None = None) -> Solution:
    """Hand the same arrays to highspy (passModel with CSR): the baseline the Pyomo path is measured against.
    `options` are further HiGHS options (e.g. {"solver": "ipm"} for large LPs)."""
    return Session(lp, time_limit=time_limit, mip_gap=mip_gap, options=options).solve()


class Session:
    """One HiGHS instance holding a problem: `solve()`, then `update(lp)` with a problem of the same matrix whose
    bounds or costs moved and `solve()` again from the last basis (a warm start: the dispatch's rounds and events
    change only right-hand sides and a few bounds)."""

    def __init__(self, lp: LinearProblem, *, time_limit: float = 60.0, mip_gap: float = 1e-3, options: dict | None = None):
        import highspy

        self._hs = highspy
        t0 = time.perf_counter()
        self.lp = lp
        self.arrays = a = lp.arrays()
        self.sign = -1.0 if lp.sense == "max" else 1.0
        h = self.h = _quiet_highs(highspy)
        h.setOptionValue("threads", 1)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        for key, value in (options or {}).items():
            h.setOptionValue(key, value)
        model = highspy.HighsLp()
        model.num_col_ = lp.n_vars
        model.num_row_ = lp.n_rows
        model.col_cost_ = a["cost"] * self.sign
        model.col_lower_, model.col_upper_ = self._inf(a["col_lb"]), self._inf(a["col_ub"])
        model.row_lower_, model.row_upper_ = self._inf(a["row_lb"]), self._inf(a["row_ub"])
        model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        model.a_matrix_.start_ = a["start"].astype(np.int32)
        model.a_matrix_.index_ = a["index"].astype(np.int32)
        model.a_matrix_.value_ = a["value"]
        model.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in a["integer"]]
        h.passModel(model)
        self.build_s = time.perf_counter() - t0

    def _inf(self, x: np.ndarray) -> np.ndarray:
        inf = self._hs.kHighsInf
        return np.where(np.isfinite(x), x, np.where(x > 0, inf, -inf))

    def update(self, lp: LinearProblem) -> None:
        """Take the bounds and costs of `lp` (same variables, rows and matrix as the problem held)."""
        t0 = time.perf_counter()
        a = lp.arrays()
        old = self.arrays
        if a["value"].size != old["value"].size or not np.array_equal(a["index"], old["index"]) \
                or not np.array_equal(a["value"], old["value"]):
            raise ValueError("Session.update needs a problem with the same matrix; build a new Session instead")
        for lo, hi, change in (("col_lb", "col_ub", self.h.changeColsBounds), ("row_lb", "row_ub", self.h.changeRowsBounds)):
            idx = np.flatnonzero((a[lo] != old[lo]) | (a[hi] != old[hi])).astype(np.int32)
            if idx.size:
                change(idx.size, idx, self._inf(a[lo][idx]), self._inf(a[hi][idx]))
        idx = np.flatnonzero(a["cost"] != old["cost"]).astype(np.int32)
        if idx.size:
            self.h.changeColsCost(idx.size, idx, a["cost"][idx] * self.sign)
        self.lp, self.arrays = lp, a
        self.build_s = time.perf_counter() - t0

    def solve(self) -> Solution:
        hs, h, lp, a = self._hs, self.h, self.lp, self.arrays
        t1 = time.perf_counter()
        h.run()
        t2 = time.perf_counter()
        status = {
            hs.HighsModelStatus.kOptimal: Status.OPTIMAL, hs.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT,
            hs.HighsModelStatus.kInfeasible: Status.INFEASIBLE, hs.HighsModelStatus.kUnbounded: Status.UNBOUNDED,
            hs.HighsModelStatus.kUnboundedOrInfeasible: Status.INFEASIBLE,
        }.get(h.getModelStatus(), Status.ERROR)
        info = h.getInfo()
        x = np.asarray(h.getSolution().col_value, dtype=float) if status in (Status.OPTIMAL, Status.TIME_LIMIT) else \
            np.full(lp.n_vars, np.nan)
        objective = self.sign * float(info.objective_function_value) + lp.objective_constant
        bound = self.sign * float(info.mip_dual_bound) + lp.objective_constant if a["integer"].any() else objective
        t3 = time.perf_counter()
        return Solution(status, x, objective, bound, _gap(objective, bound),
                        {"build_s": self.build_s, "solve_s": t2 - t1, "extract_s": t3 - t2}, "direct")


def _quiet_highs(highspy):
    """A Highs instance with logging off; its constructor prints a banner to the C stdout, so that fd is
    pointed at /dev/null while it runs (Python's sys.stdout is not what the C++ library writes to)."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def _gap(objective: float, bound: float) -> float:
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("nan")
    return abs(bound - objective) / max(abs(objective), 1e-9)
