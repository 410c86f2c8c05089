"""Pyomo model builders: data in (numpy arrays computed by the twin's physics), ConcreteModel out."""

from __future__ import annotations

from models.design import OBJECTIVES, build, design_model
from models.design_data import DesignData, design_data
from models.linear import LinearProblem, to_pyomo

__all__ = ["OBJECTIVES", "DesignData", "LinearProblem", "build", "design_data", "design_model", "to_pyomo"]
