"""Calibrate the twin against measured telemetry: chosen catalog fields fitted by bounded least squares.

>>> import blueprints, twin
>>> fit = twin.calibrate(site, measured, parameters=["gpu.idle_w", "gpu.full_load_w"])   # doctest: +SKIP
>>> fit.table()            # value, standard error, confidence interval per parameter      # doctest: +SKIP
>>> fit.after              # ASHRAE Guideline 14 CV(RMSE) / NMBE per measured series        # doctest: +SKIP
>>> fit.save("fitted.yaml"); blueprints.load("my-site.yaml", catalog="fitted.yaml")       # doctest: +SKIP

The twin is driven by the measurement (`twin.telemetry.drive`: measured utilization, else measured power,
and measured weather) and each target series (every other measured variable the twin predicts, or
`targets=`) is compared with its prediction. Rack-level targets under a measured utilization use the
compressed rack model (`twin.calibration.racks`); any other target runs the simulation per evaluation. Each
target is weighted by the inverse of its residual standard deviation (estimated, then refitted once), so
series in different units share one fit. Parameters: `twin.calibration.parameters`; uncertainty:
`twin.calibration.fitting`; metrics: `twin.calibration.metrics`; the overlay file: `twin.calibration.overlay`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np

from twin.calibration.parameters import CalibrationError, Parameter

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from twin.calibration.fitting import LeastSquares
    from twin.catalog import Catalog
    from twin.facility import Facility

#: measured variables that describe the conditions rather than the twin's response
CONDITIONS = ("utilization", "rack_utilization", "dry_bulb_c", "wet_bulb_c", "rack_gpu_temp_c", "rack_sm_clock_mhz",
              "rack_gpu_cap_w")


@dataclass
class Fit:
    """A calibration: the parameters, the fit's uncertainty, metrics before and after, and the overlay."""

    parameters: list[Parameter]
    result: LeastSquares
    before: pd.DataFrame
    after: pd.DataFrame
    replay: xr.Dataset
    catalog: Catalog
    driver: str
    targets: list[str]
    provenance: str
    overlay: dict = field(repr=False, default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per parameter: start, fitted value, standard error, confidence interval, bounds, unit."""
        out = self.result.table()
        out.insert(1, "unit", [p.unit for p in self.parameters])
        return out

    def correlations(self) -> pd.DataFrame:
        """Correlation matrix of the fitted parameters (near +-1: the data cannot tell them apart)."""
        return self.result.correlations()

    @property
    def passes(self) -> bool:
        """True when every target series meets Guideline 14's levels after the fit."""
        return bool(len(self.after)) and bool(self.after["passes"].all())

    def save(self, path: str | Path) -> Path:
        """Write the calibrated catalog overlay (YAML, atomically)."""
        from twin.calibration import overlay

        header = (f"Calibrated catalog overlay (evidence: calibrated), from {self.provenance}.\n"
                  "Use: blueprints.load(..., catalog=this file), or list it under a blueprint's `catalog:`.")
        return overlay.write(self.overlay, path, header)


def calibrate(
    facility: Facility,
    measured: xr.Dataset,
    parameters: Iterable[str] | Mapping[str, Any],
    *,
    targets: Iterable[str] | None = None,
    by: str | None = None,
    weather: Any = None,
    level: float = 0.95,
    max_nfev: int | None = None,
) -> Fit:
    """Fit `parameters` (catalog fields, see twin.calibration.parameters) so the twin, driven by `measured`,
    reproduces the measured `targets`; return a Fit with intervals, correlations and Guideline 14 metrics.

    by: which measured variable drives the load (twin.telemetry.drive.DRIVERS; default: the first present).
    level: confidence level of the intervals.
    """
    from twin.calibration import fitting, metrics, overlay
    from twin.calibration import parameters as params_mod
    from twin.calibration.problem import Problem, replay_with
    from twin.telemetry import drive

    params = params_mod.parse(parameters, facility)
    driver = drive.choose(measured, by)
    chosen = _targets(measured, driver, targets)
    source = overlay.provenance(measured, driver, chosen)
    problem = Problem(facility, measured, params, driver, chosen, weather, source)
    if problem.n_points <= len(params):
        raise CalibrationError(f"{problem.n_points} measured points cannot fit {len(params)} parameters; measure more")
    lower, upper, names = [p.lower for p in params], [p.upper for p in params], [p.name for p in params]

    def run(start: np.ndarray, weights: dict[str, float]) -> LeastSquares:
        return fitting.fit(lambda x: problem.residuals(x, weights), start, lower, upper, names, level=level,
                           n_points=problem.n_points, ssr_offset=problem.ssr_offset(weights), max_nfev=max_nfev,
                           n_eff=problem.n_eff)

    x0 = np.array([p.initial for p in params])
    first = run(x0, problem.weights(None))
    result = run(first.x, problem.weights(first.x))
    result.x0 = x0
    changes = problem.changes(result.x)
    fitted = params_mod.overlay(facility.catalog, changes, source)
    final = replay_with(facility, fitted, measured, driver, problem.weather, chosen)
    after = metrics.compare(final, p=len(params))
    doc = overlay.document(params, result, changes, source, after)
    return Fit(params, result, metrics.compare(problem.baseline), after, final, facility.catalog.extend(doc), driver,
               chosen, source, doc)


def _targets(measured: xr.Dataset, driver: str, targets: Iterable[str] | None) -> list[str]:
    from twin.simulation import VARIABLES

    predicted = set(VARIABLES) | {"rack_gpu_power_kw"}
    if targets is None:
        chosen = [str(v) for v in measured.data_vars if str(v) in predicted and str(v) not in CONDITIONS
                  and str(v) != driver and np.isfinite(measured[v].values).any()]
    else:
        chosen = list(targets)
        for t in chosen:
            if t not in measured:
                raise CalibrationError(f"target {t!r} is not in the measured Dataset; it has "
                                       f"{', '.join(map(str, measured.data_vars))}")
            if t not in predicted or t in CONDITIONS:
                raise CalibrationError(f"target {t!r} is not something the twin predicts from the drive")
            if t == driver:
                raise CalibrationError(f"target {t!r} also drives the twin; drive by another variable (by=...)")
    if not chosen:
        raise CalibrationError(f"nothing to fit against: the measurement has no variable the twin predicts besides "
                               f"the driver {driver!r} (measure rack_power_kw, grid_power_kw, cooling_power_kw, ...)")
    return chosen


__all__ = ["calibrate", "Fit", "CalibrationError", "Parameter", "CONDITIONS"]
