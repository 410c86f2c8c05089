"""One calibration problem: the residuals measured - predicted of every target as functions of the parameters.

Rack-level targets under a measured utilization come from the compressed rack model; every other target
from a replay of the twin with the parameters applied as a calibrated catalog overlay (one simulation per
evaluation, the last one cached).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.calibration import parameters as params_mod
from twin.calibration.fitting import lag1_columns

if TYPE_CHECKING:
    import xarray as xr

    from twin.calibration.parameters import Parameter
    from twin.catalog import Catalog
    from twin.facility import Facility


def replay_with(facility: Facility, catalog: Catalog, measured: xr.Dataset, driver: str, weather: Any,
                targets: list[str]) -> xr.Dataset:
    """The twin under `catalog`, driven by `measured`, with the outputs the targets need."""
    from twin.facility import Facility as FacilityType
    from twin.telemetry import drive

    twin_ = FacilityType(graph=facility.graph, catalog=catalog)
    return drive.replay(twin_, measured, by=driver, weather=weather,
                        per_rack=True if any(t.startswith("rack_") for t in targets) else False,
                        per_device=any(t.startswith("device_") for t in targets))


def aligned(measured: xr.Dataset, name: str, racks: list[str]) -> np.ndarray:
    """(time, rack) measured values of a rack variable on `racks`, NaN where not measured (quality > 0)."""
    da = measured[name]
    q = measured.get(f"{name}_quality")
    if q is not None:
        da = da.where(q == 0)
    return da.reindex(rack=racks).transpose("time", "rack").values.astype(float)


class Problem:
    """Residuals of the targets; `fast` targets from the rack model, `slow` ones from replays."""

    def __init__(self, facility: Facility, measured: xr.Dataset, params: list[Parameter], driver: str,
                 targets: list[str], weather: Any, source: str):
        from twin.calibration import metrics
        from twin.calibration.racks import RACK_TARGETS, RackModel
        from twin.telemetry import drive

        self.facility, self.measured, self.params = facility, measured, params
        self.driver, self.targets, self.source = driver, targets, source
        self.catalog = facility.catalog
        freq = str(measured.attrs.get("freq") or "1h")
        self.weather = drive.measured_weather(facility, measured, weather, freq)     # once, not per evaluation
        self.baseline = replay_with(facility, self.catalog, measured, driver, self.weather, targets)
        self.fast = [t for t in targets if t in RACK_TARGETS and driver in ("rack_utilization", "utilization")]
        self.slow = [t for t in targets if t not in self.fast]
        self.rack_model = None
        if self.fast:
            racks = drive.populated_racks(facility)
            names = [str(r) for r in racks.index]
            u, _ = drive.utilization(facility, measured, driver)
            if driver == "rack_utilization":
                u = np.where(np.isfinite(aligned(measured, driver, names)), u, np.nan)
            else:
                u = np.broadcast_to(u[:, None], (u.size, len(names))).copy()
            calm = ~self.baseline["throttling"].values.astype(bool)
            u = np.where(calm[:, None], u, np.nan)
            share = {t: drive.gpu_coverage(facility, measured) if t == "rack_gpu_power_kw" else 1.0 for t in self.fast}
            self.rack_model = RackModel(racks, self.catalog, u,
                                        {t: aligned(measured, t, names) / share[t] for t in self.fast})
        self.observed = {t: metrics.frames(self.baseline, t)[0].values for t in self.slow}
        self.n_points = (self.rack_model.n_points if self.rack_model else 0) + sum(
            int(np.isfinite(y).sum()) for y in self.observed.values())
        self._cache: tuple[bytes, Any] | None = None

    def changes(self, x: np.ndarray) -> dict:
        return params_mod.values(self.params, x, self.catalog)

    def _predicted(self, x: np.ndarray) -> dict[str, np.ndarray]:
        from twin.calibration import metrics

        key = np.asarray(x, dtype=float).tobytes()
        if self._cache is None or self._cache[0] != key:
            cat = params_mod.overlay(self.catalog, self.changes(x), self.source)
            ds = replay_with(self.facility, cat, self.measured, self.driver, self.weather, self.slow)
            self._cache = (key, {t: metrics.frames(ds, t)[1].values for t in self.slow})
        return self._cache[1]

    def raw(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Unweighted residuals measured - predicted per target, (time, series), NaN where not measured."""
        out = {}
        if self.rack_model is not None:
            systems = params_mod.replaced_systems(self.catalog, self.changes(x))
            out.update({t: self.rack_model.raw(t, systems) for t in self.fast})
        if self.slow:
            pred = self._predicted(x)
            out.update({t: self.observed[t] - pred[t] for t in self.slow})
        return out

    def residuals(self, x: np.ndarray, weights: dict[str, float]) -> np.ndarray:
        parts = []
        if self.rack_model is not None:
            parts.append(self.rack_model.residuals(params_mod.replaced_systems(self.catalog, self.changes(x)), weights))
        if self.slow:
            pred = self._predicted(x)
            for t in self.slow:
                r = (self.observed[t] - pred[t]).ravel()
                parts.append(weights[t] * np.where(np.isfinite(r), r, 0.0))
        return np.concatenate(parts)

    def ssr_offset(self, weights: dict[str, float]) -> float:
        return self.rack_model.ssr_offset(weights) if self.rack_model is not None else 0.0

    def weights(self, x: np.ndarray | None) -> dict[str, float]:
        """1 / residual standard deviation per target at x (x None: 2 % of each target's measured mean)."""
        if x is None:
            means = {t: abs(float(np.nanmean(self.observed[t]))) for t in self.slow}
            if self.rack_model is not None:
                means.update({b.target: abs(b.mean) for b in self.rack_model.blocks})
            return {t: 1.0 / max(0.02 * m, 1e-9) for t, m in means.items()}
        return {t: 1.0 / max(float(np.sqrt(np.nanmean(r * r))), 1e-9) for t, r in self.raw(x).items()}

    def n_eff(self, x: np.ndarray) -> float:
        """Effective points at x: n (1 - rho) / (1 + rho) per measured series (Guideline 14), summed."""
        total = 0.0
        for r in self.raw(x).values():
            r = r.reshape(len(r), -1)
            n = np.isfinite(r).sum(axis=0)
            rho = np.clip(lag1_columns(r), 0.0, 0.999)
            total += float((n * (1.0 - rho) / (1.0 + rho)).sum())
        return total


__all__ = ["Problem", "replay_with", "aligned"]
