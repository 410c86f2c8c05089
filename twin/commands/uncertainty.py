"""`twin uncertainty BLUEPRINT --samples 200 [--run compare --against B]`: every headline number as a P10-P90
band beside its deterministic answer, the inputs that drive each, and a violin plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import output
from twin.errors import TwinError

DRIVERS_SHOWN = 3
ROUGH_BELOW = 100
"""Below this many samples the drivers table says its indices are rough (their error is ~1 / sqrt(samples))."""


@app.command()
@tabular
@friendly
def uncertainty(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    samples: int = typer.Option(200, "--samples", "-n", help="Samples of the uncertain inputs."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample points (same seed, same numbers)."),
    run: str = typer.Option("simulate", "--run", help="simulate, optimize or compare"),
    against: Optional[str] = typer.Option(None, "--against", help="--run compare: the facility to compare with."),
    spread: List[str] = typer.Option([], "--spread", help="An input's or family's spread: name=0.2 (+-20 %) or "
                                     "name=0.8:1.3 (low:high); 0 fixes it. Repeatable."),
    width: List[str] = typer.Option([], "--width", help="Default half-width of an evidence tag: assumption=0.5."),
    family: List[str] = typer.Option([], "--family", help="Sample only these input families (repeatable)."),
    sobol: bool = typer.Option(False, "--sobol", help="Saltelli design: first-order and total Sobol indices "
                               "(samples x (inputs + 2) runs)."),
    hours: int = typer.Option(8760, "--hours", help="Simulated hours (simulate)."),
    weather: Optional[str] = typer.Option(None, "--weather", help="Climate name or weather file (default: the site's)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the samples to this .nc file (finished samples go "
                                       "to OUT.parts/ and are reused)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Save a violin plot of the headline KPIs (PNG, SVG, PDF)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="A dask scheduler address, or 'serial'; "
                                            "default: a local cluster."),
    workers: int = typer.Option(2, "--workers", help="Worker processes of the local cluster."),
) -> None:
    """Sample the inputs' spreads (from their evidence), run each sample, print bands and the drivers."""
    import solvers
    from twin.commands.sweep import parse_value

    if plot is not None:
        from twin.atomic import check_figure_path

        check_figure_path(plot)
    spreads = {k: _spread(v) for k, v in _pairs(spread, "--spread").items()}
    widths = {k: float(parse_value(v)) for k, v in _pairs(width, "--width").items()}
    kwargs: dict[str, Any] = {"hours": hours, "weather": weather} if run == "simulate" else {}
    if run == "compare":
        kwargs["against"] = against
    elif against is not None:
        raise TwinError("--against applies to --run compare")
    ds = solvers.uncertainty(blueprint, samples=samples, seed=seed, run=run, client=scheduler, workers=workers,
                             sobol=sobol, families=family or None, spreads=spreads, widths=widths, out=out, **kwargs)
    for table in tables(ds):
        output.show(table)
    failed = int((ds["status"] != "ok").sum())
    console.print(f"{ds.sizes['sample']} samples of {ds.sizes['input']} inputs ({failed} failed); "
                  f"{ds.attrs['computed']} computed, {ds.attrs['reused']} reused in {ds.attrs['seconds']:.1f} s")
    for line in verdict_lines(ds):
        console.print(line)
    if out is not None:
        console.print(f"samples written to {out}")
    if plot is not None:
        from solvers.uncertainty_plot import plot as violins

        violins(ds, plot)
        console.print(f"violin plot written to {plot}")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise TwinError(f"{what} {item!r} must look like name=value")
        out[key.strip()] = value.strip()
    return out


def _spread(text: str) -> Any:
    """'0.2' -> 0.2; '0.8:1.3' -> (0.8, 1.3)."""
    try:
        if ":" in text:
            lo, hi = text.split(":", 1)
            return (float(lo), float(hi))
        return float(text)
    except ValueError:
        raise TwinError(f"--spread value {text!r} must be a half-width (0.2) or low:high (0.8:1.3)") from None


def tables(ds) -> list[output.Output]:
    """Bands beside the deterministic answer per KPI (and mode), the drivers of each, and the inputs."""
    import pandas as pd

    from solvers.uncertainty_plot import headline

    machine = output.machine()
    names = list(ds["kpi"].values) if machine else (headline(ds) or list(ds["kpi"].values))
    modes = list(ds["mode"].values) if "mode" in ds.dims else [None]
    rows = []
    for mode in modes:
        sel = ds.sel(mode=mode) if mode is not None else ds
        for k in names:
            p10, p50, p90 = sel["band"].sel(kpi=k).values
            row = {"kpi": k, "unit": str(ds["kpi_units"].sel(kpi=k).values), "point": float(sel["point"].sel(kpi=k)),
                   "p10": p10, "p50": p50, "p90": p90}
            rows.append({"mode": mode, **row} if mode is not None else row)
    index = ["mode", "kpi"] if modes[0] is not None else ["kpi"]
    frame = pd.DataFrame(rows).set_index(index[-1])
    title = f"{ds.attrs.get('base', '')}: {ds.attrs.get('run', '')}, P10-P90 over {ds.sizes['sample']} samples"
    bands = output.Output("bands", frame, title, "point: the deterministic answer at the inputs' medians",
                          labels={"p10": "P10", "p50": "P50", "p90": "P90"}, ids=("mode",) if modes[0] else ())
    index_name = "st" if "st" in ds else "s1"
    drivers = []
    for k in names:
        idx = ds[index_name].sel(kpi=k)
        if "mode" in idx.dims:
            idx = idx.isel(mode=-1)
        order = [int(i) for i in (-idx.values).argsort(kind="stable")[:DRIVERS_SHOWN]]
        drivers.append({"kpi": k, **{f"driver_{n + 1}": f"{ds['input'].values[i]} ({float(idx.values[i]):.2f})"
                                    for n, i in enumerate(order) if idx.values[i] > 0}})
    what = "total Sobol index" if index_name == "st" else "first-order Sobol index"
    rough = (f"with {ds.sizes['sample']} samples the indices are rough (+-{1 / ds.sizes['sample'] ** 0.5:.2f}); "
             "use 200 or more") if ds.sizes["sample"] < ROUGH_BELOW else None
    driver_table = output.Output("drivers", pd.DataFrame(drivers).set_index("kpi").fillna(""),
                                 f"what drives each KPI's spread ({what})", rough)
    inputs = pd.DataFrame({"evidence": ds["input_evidence"].values, "low": ds["input_low"].values,
                           "median": ds["input_median"].values, "high": ds["input_high"].values,
                           **({"why": ds["input_why"].values} if machine else {})},
                          index=pd.Index(ds["input"].values, name="input"))
    return [bands, driver_table, output.Output("inputs", inputs, "uncertain inputs (factors; weather: K offset)")]


def verdict_lines(ds) -> list[str]:
    """How often the design choice changes (optimize) or which framing wins how often (compare)."""
    lines = []
    if "choice_changed" in ds:
        share = float(ds["choice_changed"].mean())
        lines.append(f"re-optimized per sample, the design choice ({ds.attrs.get('base_choice', '')}) changes in "
                     f"{share:.0%} of samples")
    if "win_probability" in ds:
        parts = ", ".join(f"{s} wins {float(p):.0%}" for s, p in zip(ds["site"].values, ds["win_probability"].values))
        lines.append(f"verdict under uncertainty: {parts}")
    return lines
