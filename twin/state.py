"""Simulation state on disk and in hand: atomic NetCDF save/load and the `ds.twin` accessor.

>>> import numpy as np, xarray as xr
>>> t = np.arange("2025-01-01T00", "2025-01-01T03", dtype="datetime64[h]")
>>> ds = xr.Dataset({"grid_power_kw": ("time", [120.0, 130, 125]), "it_power_kw": ("time", [100.0, 100, 100]),
...                  "step_hours": ("time", [1.0, 1, 1])}, coords={"time": t})
>>> round(ds.twin.pue(), 3)
1.25
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from twin.atomic import atomic_path, save_figure
from twin.errors import TwinError

POWER_PARTS = ("it_power_kw", "losses_kw", "cooling_power_kw", "aux_power_kw")
FLAGS = ("overload", "grid_overload", "over_temperature", "throttling")


class StateError(ValueError, TwinError):
    """A simulation Dataset or file is missing what an operation needs; the message says what."""


def _engine() -> str:
    for name, module in (("netcdf4", "netCDF4"), ("h5netcdf", "h5netcdf")):
        try:
            __import__(module)
            return name
        except ImportError:
            continue
    raise StateError("saving NetCDF needs the netCDF4 (or h5netcdf) package: pip install netCDF4")


def save(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a simulation Dataset to NetCDF atomically (temporary file in the same folder, then rename).

    Lazy (dask) Datasets are computed block by block while writing.
    """
    path = Path(path)
    if path.suffix.lower() not in (".nc", ".nc4", ".netcdf"):
        raise StateError(f"{path}: simulation state is saved as NetCDF; use a .nc file name")
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine=_engine())
    return path


def load(path: str | os.PathLike, *, lazy: bool = False) -> xr.Dataset:
    """Read a Dataset written by `save` (eagerly by default; lazy=True keeps it on disk until used)."""
    path = Path(path)
    if not path.is_file():
        raise StateError(f"{path}: no such simulation file")
    opener = xr.open_dataset if lazy else xr.load_dataset
    return opener(path, engine=_engine())


@xr.register_dataset_accessor("twin")
class TwinAccessor:
    """Facility metrics on a simulation Dataset: `ds.twin.pue()`, `.summary()`, `.plot(path)`, `.save(path)`."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def _need(self, *names: str) -> None:
        missing = [n for n in names if n not in self._ds]
        if missing:
            raise StateError(f"this Dataset has no {', '.join(missing)}; it is not (all of) a twin.simulate result")

    def _hours(self) -> xr.DataArray:
        if "step_hours" in self._ds:
            return self._ds["step_hours"]
        return xr.ones_like(self._ds["time"], dtype=float)

    def energy_mwh(self, variable: str = "grid_power_kw") -> float:
        """Energy of a power variable (kW) over the whole run, MWh."""
        self._need(variable)
        return float((self._ds[variable] * self._hours()).sum()) / 1000.0

    def pue(self) -> float:
        """Energy-weighted PUE over the run: grid energy / IT energy."""
        self._need("grid_power_kw", "it_power_kw")
        return self.energy_mwh("grid_power_kw") / self.energy_mwh("it_power_kw")

    def wue(self) -> float:
        """Water usage effectiveness over the run: litres per kWh of IT energy."""
        self._need("water_l_per_h", "it_power_kw")
        litres = float((self._ds["water_l_per_h"] * self._hours()).sum())
        return litres / (self.energy_mwh("it_power_kw") * 1000.0)

    def conservation_error(self) -> float:
        """Largest relative residual of grid = IT + losses + cooling + aux over all steps."""
        self._need("grid_power_kw", *POWER_PARTS)
        ds = self._ds
        parts = sum(ds[p] for p in POWER_PARTS)
        return float((abs(ds["grid_power_kw"] - parts) / abs(ds["grid_power_kw"])).max())

    def summary(self) -> dict[str, Any]:
        """Headline numbers of the run: energies, PUE (energy-weighted, mean, peak), WUE, tokens, revenue, flags."""
        ds = self._ds
        self._need("grid_power_kw", *POWER_PARTS)
        hours = self._hours()
        out: dict[str, Any] = {
            "hours": float(hours.sum()),
            "steps": int(ds.sizes["time"]),
            "grid_energy_mwh": self.energy_mwh("grid_power_kw"),
            "it_energy_mwh": self.energy_mwh("it_power_kw"),
            "losses_energy_mwh": self.energy_mwh("losses_kw"),
            "cooling_energy_mwh": self.energy_mwh("cooling_power_kw"),
            "aux_energy_mwh": self.energy_mwh("aux_power_kw"),
            "peak_grid_mw": float(ds["grid_power_kw"].max()) / 1000.0,
            "pue": self.pue(),
        }
        if "pue" in ds:
            out["pue_mean"] = float(ds["pue"].mean())
            out["pue_peak"] = float(ds["pue"].max())
        if "water_l_per_h" in ds:
            out["water_m3"] = float((ds["water_l_per_h"] * hours).sum()) / 1000.0
            out["wue_l_per_kwh"] = self.wue()
        if "tokens_per_s" in ds:
            tokens = float((ds["tokens_per_s"].sum("tier") * hours).sum()) * 3600.0
            out["tokens"] = tokens
            out["tokens_per_kwh_grid"] = tokens / (out["grid_energy_mwh"] * 1000.0)
        if "revenue_usd_per_h" in ds:
            out["revenue_usd"] = float((ds["revenue_usd_per_h"].sum("tier") * hours).sum())
        if "chiller_power_kw" in ds:
            out["chiller_hours"] = float(((ds["chiller_power_kw"] > 0) * hours).sum())
        for flag in FLAGS:
            if flag in ds:
                out[f"{flag}_hours"] = float((ds[flag] * hours).sum())
        return out

    def plot(self, path: str | os.PathLike | None = None, *, title: str | None = None):
        """Grid power stacked by IT/losses/cooling/aux, PUE and tokens over the run; saved to `path` if given.

        Runs longer than 2,000 steps are shown as daily means; a year's time axis is labelled by month,
        legends stand beside the panels.
        """
        from matplotlib.figure import Figure

        from twin.views import charts

        ds = self._ds
        self._need("grid_power_kw", *POWER_PARTS, "pue")
        show = ds[[*POWER_PARTS, "pue", *(["tokens_per_s"] if "tokens_per_s" in ds else [])]]
        label = f"steps of {ds.attrs.get('freq', '1h')}"
        if ds.sizes["time"] > 2000:
            show = show.resample(time="1D").mean()
            label = "daily means"
        fig = Figure(figsize=(11, 8), layout="constrained")
        ax = fig.subplots(3, 1, sharex=True)
        t = show["time"].values
        stack = [show[p].values / 1000.0 for p in POWER_PARTS]
        ax[0].stackplot(t, *stack, labels=["IT", "power-chain losses", "cooling", "auxiliary"],
                        colors=["#4c72b0", "#dd8452", "#55a868", "#8172b3"])
        ax[0].set_ylabel("grid power, MW")
        charts.legend_beside(ax[0], fontsize=8)
        ax[1].plot(t, show["pue"].values, color="#c44e52", lw=1)
        ax[1].set_ylabel("PUE")
        if "tokens_per_s" in show:
            for tier in show["tier"].values:
                ax[2].plot(t, show["tokens_per_s"].sel(tier=tier).values / 1e6, lw=1, label=str(tier))
            charts.legend_beside(ax[2], fontsize=8, title="tier", title_fontsize=8)
        ax[2].set_ylabel("tokens/s, millions")
        for a in ax:
            charts.plain_axis(a)
            a.grid(alpha=0.3)
        if np.issubdtype(show["time"].dtype, np.datetime64):
            charts.time_axis(ax[2])
        ax[2].set_xlabel(f"time ({label})")
        fig.suptitle(title or ds.attrs.get("title", "twin simulation"))
        if path is not None:
            save_figure(fig, path, dpi=110)
        return fig

    def save(self, path: str | os.PathLike) -> Path:
        """Write this Dataset to NetCDF atomically (see `twin.state.save`)."""
        return save(self._ds, path)


def flags_summary(ds: xr.Dataset) -> dict[str, float]:
    """Hours each facility flag was raised."""
    hours = ds["step_hours"] if "step_hours" in ds else xr.ones_like(ds["time"], dtype=float)
    return {f: float((ds[f] * hours).sum()) for f in FLAGS if f in ds}


__all__ = ["save", "load", "TwinAccessor", "StateError", "flags_summary", "POWER_PARTS", "FLAGS"]
