"""Running the models with HiGHS: design optimization, infeasibility explanations, results as Plans.

>>> import solvers
>>> callable(solvers.optimize)
True
"""

from __future__ import annotations

from solvers.design import cap_comparison, explain, optimize, pareto
from solvers.highs import Solution, Status
from solvers.plan import Plan

__all__ = ["optimize", "pareto", "explain", "cap_comparison", "Plan", "Solution", "Status"]
