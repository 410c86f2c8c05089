"""Running the models with HiGHS: design optimization, infeasibility explanations, results as Plans.

>>> import solvers
>>> callable(solvers.optimize)
True
"""

from __future__ import annotations

from solvers.design import cap_comparison, explain, optimize, pareto
from solvers.fronts import front, non_dominated
from solvers.highs import Solution, Status
from solvers.plan import Plan
from solvers.contingency import recap
from solvers.placement import Placement, place
from solvers.sweep import sweep
from solvers.compare import compare
from solvers.dispatch import Dispatch, dispatch
from solvers.uncertainty import uncertainty

__all__ = ["optimize", "pareto", "explain", "cap_comparison", "Plan", "Solution", "Status", "sweep", "front", "non_dominated",
           "place", "Placement", "recap", "compare", "dispatch", "Dispatch", "uncertainty"]
