"""Fitted values as a catalog overlay file: `evidence: calibrated`, the data's provenance, the interval found.

The file is an ordinary catalog extension (`Catalog.extend`, a blueprint's `catalog:` list, or
`blueprints.load(..., catalog="fitted.yaml")`): each fitted entry overrides only the fields that were fitted,
and each field's provenance record says from which telemetry, with which interval and which error.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from twin.calibration.fitting import LeastSquares
    from twin.calibration.parameters import Parameter


def provenance(measured: xr.Dataset, driver: str, targets: list[str]) -> str:
    """One line naming the telemetry a fit rests on: files (with hashes), span, size, what drove and what was fitted."""
    time = measured["time"].values
    span = f"{str(time[0])[:16]} to {str(time[-1])[:16]} ({time.size} steps of {measured.attrs.get('freq', '?')})"
    size = ", ".join(f"{measured.sizes[d]} {d}s" for d in ("rack", "device") if d in measured.dims)
    files = measured.attrs.get("source_files") or "a measured Dataset"
    return (f"telemetry {files}; {span}{'; ' + size if size else ''}; driven by measured {driver}; "
            f"fitted to {', '.join(targets)}")


def document(params: list[Parameter], result: LeastSquares, changes: dict, source: str, after: pd.DataFrame) -> dict:
    """The overlay as a catalog document {section: [entries]}."""
    import twin

    pct = f"{result.level:.0%}"
    scores = "; ".join(f"{r.variable} CV(RMSE) {r.cv_rmse_pct:.2f} %, NMBE {r.nmbe_pct:+.2f} % ({r.resolution})"
                       for r in after.itertuples() if np.isfinite(r.cv_rmse_pct))
    method = (f"twin {twin.__version__} calibrate: bounded least squares (scipy.optimize.least_squares, trf), "
              f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}")
    doc: dict[str, list] = {}
    for (section, ident), fields in changes.items():
        prov = {}
        for p, x, lo, hi, bound, known in zip(params, result.x, result.ci_low, result.ci_high, result.at_bound,
                                              result.identified):
            if (p.section, p.ident) != (section, ident):
                continue
            what = {"value": f"{x:.6g} {p.unit}", "loss_scale": f"losses x {x:.4g}",
                    "exponent": f"throughput = cap_fraction^{x:.4g}"}[p.form]
            flags = (" (at a bound)" if bound else "") + ("" if known else " (not identified by the data)")
            note = (f"{what}, {pct} interval {lo:.6g}..{hi:.6g}{flags}; catalog value "
                    f"before: {p.initial:.6g}; fit: {scores}")
            prov[p.field] = {"evidence": "calibrated", "source": [source, method], "note": note}
        doc.setdefault(section, []).append({"id": ident, **_plain(fields), "source": [source, method],
                                            "evidence": "calibrated", "provenance": prov})
    return doc


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in fields.items():
        out[k] = [[float(a), float(b)] for a, b in v] if isinstance(v, list) else float(round(v, 6))
    return out


def write(doc: dict, path: str | Path, header: str) -> Path:
    """Write the overlay YAML atomically (the project's writer)."""
    import yaml

    from twin.atomic import atomic_write
    from twin.io import SAFE_DUMPER

    def dump(fh) -> None:
        fh.write("".join(f"# {line}\n" for line in header.splitlines()))
        yaml.dump(doc, fh, Dumper=SAFE_DUMPER, sort_keys=False, width=120, allow_unicode=True)

    return atomic_write(path, dump)


__all__ = ["provenance", "document", "write"]
