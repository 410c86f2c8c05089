"""A labelled linear (mixed-integer) program built from numpy arrays, and its Pyomo ConcreteModel.

Variables and constraints come in named families over index tuples (as in linopy/PyPSA), so the same
arrays feed Pyomo (`to_pyomo`) and a direct HiGHS path (`solvers.highs_direct`), and results map back
to `(family, index)` without string parsing.

>>> lp = LinearProblem()
>>> x = lp.add_vars("x", [("a",), ("b",)], lb=0, ub=4, integer=True, cost=[1.0, 2.0])
>>> lp.add_rows("cap", [("all",)], rows=[0, 0], cols=x, vals=[1.0, 1.0], ub=5)
>>> lp.n_vars, lp.n_rows
(2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

INF = float("inf")


@dataclass
class Family:
    """A named block of variables or rows: index tuples and the slice of columns/rows it occupies."""

    name: str
    index: Sequence[tuple]
    start: int

    @property
    def stop(self) -> int:
        return self.start + len(self.index)

    @property
    def positions(self) -> np.ndarray:
        return np.arange(self.start, self.stop)


@dataclass
class LinearProblem:
    """max/min c x subject to row_lb <= A x <= row_ub, col_lb <= x <= col_ub, some x integer."""

    sense: str = "max"
    var_families: dict[str, Family] = field(default_factory=dict)
    row_families: dict[str, Family] = field(default_factory=dict)
    cost: list[np.ndarray] = field(default_factory=list)
    col_lb: list[np.ndarray] = field(default_factory=list)
    col_ub: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    row_lb: list[np.ndarray] = field(default_factory=list)
    row_ub: list[np.ndarray] = field(default_factory=list)
    coo: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    objective_constant: float = 0.0
    n_vars: int = 0
    n_rows: int = 0

    def add_vars(self, name: str, index: Sequence[tuple], *, lb: Any = 0.0, ub: Any = INF, integer: bool = False,
                 cost: Any = 0.0) -> np.ndarray:
        """Add a family of variables; returns their column positions."""
        n = len(index)
        fam = Family(name, _keep(index), self.n_vars)
        self.var_families[name] = fam
        self.n_vars += n
        self.cost.append(np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy())
        self.col_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self.col_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        self.integer.append(np.full(n, integer, dtype=bool))
        return fam.positions

    def add_rows(self, name: str, index: Sequence[tuple], *, rows: Any, cols: Any, vals: Any,
                 lb: Any = -INF, ub: Any = INF) -> np.ndarray:
        """Add a family of rows from coordinates: `rows` are 0-based within the family, `cols` global."""
        n = len(index)
        fam = Family(name, _keep(index), self.n_rows)
        self.row_families[name] = fam
        self.n_rows += n
        r = np.asarray(rows, dtype=np.int64) + fam.start
        c = np.asarray(cols, dtype=np.int64)
        v = np.asarray(vals, dtype=float)
        keep = v != 0
        self.coo.append((r[keep], c[keep], v[keep]))
        self.row_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self.row_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        return fam.positions

    # ----------------------------------------------------------------- arrays
    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as flat arrays, the matrix in CSR (row starts, column indices, values)."""
        cat = (lambda parts: np.concatenate(parts) if parts else np.zeros(0))
        r = cat([p[0] for p in self.coo]).astype(np.int64)
        c = cat([p[1] for p in self.coo]).astype(np.int64)
        v = cat([p[2] for p in self.coo])
        order = np.lexsort((c, r))
        r, c, v = r[order], c[order], v[order]
        start = np.searchsorted(r, np.arange(self.n_rows + 1)).astype(np.int64)
        return {
            "cost": cat(self.cost), "col_lb": cat(self.col_lb), "col_ub": cat(self.col_ub),
            "integer": cat(self.integer).astype(bool), "row_lb": cat(self.row_lb), "row_ub": cat(self.row_ub),
            "start": start, "index": c, "value": v,
        }

    def family_of(self, column: int) -> tuple[str, tuple]:
        """(family name, index tuple) of a column."""
        for fam in self.var_families.values():
            if fam.start <= column < fam.stop:
                return fam.name, fam.index[column - fam.start]
        raise IndexError(column)

    def split(self, x: np.ndarray) -> dict[str, dict[tuple, float]]:
        """A solution vector as {family: {index: value}}."""
        return {name: dict(zip(f.index, x[f.start:f.stop].tolist())) for name, f in self.var_families.items()}


def to_pyomo(lp: LinearProblem):
    """A Pyomo ConcreteModel with one Var and one Constraint component per family, built row-wise with
    LinearExpression from the CSR arrays (no per-coefficient Python arithmetic)."""
    import pyomo.environ as pyo
    from pyomo.core.expr.numeric_expr import LinearExpression

    a = lp.arrays()
    m = pyo.ConcreteModel(name="design")
    columns: list[Any] = [None] * lp.n_vars
    for name, fam in lp.var_families.items():
        sl = slice(fam.start, fam.stop)
        lbs, ubs, ints = a["col_lb"][sl], a["col_ub"][sl], a["integer"][sl]
        var = pyo.Var(range(len(fam.index)), domain=pyo.Integers if ints.any() else pyo.Reals,
                      bounds=lambda _m, i, lbs=lbs, ubs=ubs: (_finite(lbs[i]), _finite(ubs[i])))
        setattr(m, _safe(name), var)
        for i in range(len(fam.index)):
            columns[fam.start + i] = var[i]
    start, index, value = a["start"], a["index"], a["value"]
    for name, fam in lp.row_families.items():
        def rule(_m, i, fam=fam):
            r = fam.start + i
            lo, hi = start[r], start[r + 1]
            if lo == hi or not (np.isfinite(a["row_lb"][r]) or np.isfinite(a["row_ub"][r])):
                return pyo.Constraint.Skip
            expr = LinearExpression(constant=0.0, linear_coefs=value[lo:hi].tolist(),
                                    linear_vars=[columns[j] for j in index[lo:hi]])
            return (_finite(a["row_lb"][r]), expr, _finite(a["row_ub"][r]))

        setattr(m, _safe(name), pyo.Constraint(range(len(fam.index)), rule=rule))
    nz = np.flatnonzero(a["cost"])
    obj = LinearExpression(constant=lp.objective_constant, linear_coefs=a["cost"][nz].tolist(),
                           linear_vars=[columns[j] for j in nz])
    m.objective = pyo.Objective(expr=obj, sense=pyo.maximize if lp.sense == "max" else pyo.minimize)
    m._columns = columns
    return m


def _keep(index: Sequence[tuple]) -> Sequence[tuple]:
    """An index as given when it is already an indexable sequence (a pandas MultiIndex stays lazy), else a list."""
    return index if isinstance(index, (list, range)) or hasattr(index, "names") else list(index)


def _finite(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
