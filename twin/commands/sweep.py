"""`twin sweep FILE --param grid_mw=50,100 --param climate=phoenix,lulea`: many scenarios on dask, a tidy table,
NetCDF results and Pareto plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from twin.cli import app, console, friendly, tabular
from twin.commands import checks, output
from twin.errors import TwinError

BASE_HELP = ("A packaged blueprint name or a .yaml/.json path; or 'parametric' to build each scenario with "
             "blueprints.parametric.ai_factory (grid_mw, system, cooling, climate, nodes, power_cap_w, ...).")
COLUMNS = {
    "optimize": (("tokens_per_s", "tokens/s"), ("revenue_usd_per_year", "revenue $/y"), ("capex_usd", "capex $"),
                 ("facility_mw", "MW"), ("usd_per_mtok", "$/Mtok")),
    "simulate": (("grid_energy_mwh", "MWh"), ("pue", "PUE"), ("tokens", "tokens"), ("revenue_usd", "revenue $"),
                 ("energy_usd_per_mtok", "energy $/Mtok")),
}
MAX_ROWS = 60


def parse_value(text: str) -> Any:
    """'100' -> 100, '2.5' -> 2.5, 'true' -> True, 'a+b' -> ['a', 'b'], anything else stays text."""
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if "+" in text:
        return [parse_value(part) for part in text.split("+")]
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    return text


def parse_pairs(pairs: list[str], what: str, many: bool) -> dict[str, Any]:
    """`key=v1,v2` options as {key: [v1, v2]} (or {key: v} when not `many`)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, values = pair.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise TwinError(f"{what} {pair!r} must look like key=value{',value' if many else ''}")
        parsed = [parse_value(v) for v in values.split(",")] if many else parse_value(values)
        out[key.strip()] = parsed
    return out


def read_table(path: Path) -> list[dict[str, Any]]:
    """Scenarios from a CSV (one row each; empty cells are left out) or a YAML/JSON list of mappings."""
    if path.suffix.lower() == ".csv":
        import pandas as pd

        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError) as exc:  # EmptyDataError and decoding errors are ValueErrors
            raise TwinError(f"{path}: cannot read it as a CSV scenario table ({exc}); one header row of parameter "
                            "names, one row per scenario") from None
        return [{k: parse_value(v) if isinstance(v, str) else v.item() if hasattr(v, "item") else v
                 for k, v in row.items() if not pd.isna(v)} for row in frame.to_dict("records")]
    from twin.io import parse_yaml, read_text

    rows, _ = parse_yaml(read_text(path), str(path))
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise TwinError(f"{path}: a scenario table is a list of mappings (or a CSV with one row per scenario)")
    return rows


@app.command()
@tabular
@friendly
def sweep(
    base: str = typer.Argument(..., help=BASE_HELP),
    param: List[str] = typer.Option([], "--param", "-p", help="A swept parameter: key=v1,v2,... (a+b is a list value)."),
    set_: List[str] = typer.Option([], "--set", "-s", help="A parameter fixed for every scenario: key=value."),
    scenarios: Optional[Path] = typer.Option(None, "--scenarios", help="A table of scenarios (.csv, .yaml or .json) instead of a grid."),
    run: str = typer.Option("optimize", "--run", help="optimize or simulate"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write results to this .nc file (finished scenarios go to OUT.parts/ and are reused)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Save Pareto plots (PNG): tokens vs capex, revenue vs grid MW, $/Mtok vs interactivity."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="A dask scheduler address (tcp://host:8786), or 'serial' to run here without dask; default: a local cluster."),
    workers: int = typer.Option(2, "--workers", help="Worker processes of the local cluster."),
) -> None:
    """Run a base design over many scenarios (optimize or simulate) on dask; print one row per scenario."""
    import solvers
    from solvers.sweep import KEYS

    if scenarios is not None and param:
        raise TwinError("give either --param (a grid) or --scenarios (a table), not both")
    if scenarios is None and not param:
        raise TwinError("nothing to sweep: add --param key=v1,v2 (keys: " + ", ".join(KEYS) + ") or --scenarios FILE")
    from twin.atomic import FIGURE_SUFFIXES

    checks.existing(scenarios, "--scenarios")
    checks.output(out, "--out", (".nc",))
    checks.output(plot, "--plot", FIGURE_SUFFIXES)
    checks.number(workers, "--workers", at_least=1)
    table = read_table(scenarios) if scenarios is not None else None
    grid = parse_pairs(param, "--param", many=True)
    fixed = parse_pairs(set_, "--set", many=False)
    if base == "parametric":
        from blueprints.parametric import ai_factory as base_obj
    else:
        base_obj = base
    ds = solvers.sweep(base_obj, table if table is not None else grid, run, client=scheduler, out=out,
                       workers=workers, **fixed)
    output.show(result_table(ds))
    counts = {s: int((ds["status"] == s).sum()) for s in ("ok", "infeasible", "error")}
    console.print(f"{counts['ok']} ok, {counts['infeasible']} infeasible, {counts['error']} failed; "
                  f"{ds.attrs['computed']} computed, {ds.attrs['reused']} reused in {ds.attrs['seconds']:.1f} s")
    if out is not None:
        console.print(f"results written to {out}")
    if plot is not None:
        from solvers.fronts import plot as plot_fronts

        console.print(f"Pareto plots written to {plot_fronts(ds, plot)}")


def result_table(ds) -> output.Output:
    """One row per scenario: its parameters, status and the run's headline KPIs; failures' messages below.

    Machine formats get every scenario with every parameter, KPI and message.
    """
    import pandas as pd

    drop = [v for v in ds.data_vars if "tier" in ds[v].dims]
    frame = ds.drop_vars(drop + ["tier"], errors="ignore").to_dataframe().reset_index()
    frame = frame.set_index(pd.Index(range(len(frame)), name="#")).drop(columns="scenario", errors="ignore")
    fixed = "".join(f", {k}={ds[k].values.item()}" for k in ds.coords if not ds[k].ndim)
    title = f"sweep of {ds.attrs.get('base', '')} ({ds.attrs.get('run', '')}{fixed})"
    if output.machine():
        return output.Output("scenarios", frame, title)
    params = [c for c in frame.columns if c in ds.coords and ds[c].ndim]
    kpis = [(k, label) for k, label in COLUMNS[ds.attrs.get("run", "optimize")] if k in frame.columns]
    notes = [f"#{i}: {m}" for i, (st, m) in enumerate(zip(frame["status"], frame["message"])) if st != "ok"][:MAX_ROWS]
    caption = f"first {MAX_ROWS} of {len(frame)} scenarios; all of them are in the results" if len(frame) > MAX_ROWS else None
    if notes:
        caption = "\n".join(([caption] if caption else []) + notes)
    shown = frame.head(MAX_ROWS)[params + ["status"] + [k for k, _ in kpis]]
    return output.Output("scenarios", shown, title, caption, labels=dict(kpis),
                         display={**{k: short for k, _ in kpis}, **{c: lambda v: output.number(_py(v)) for c in params}})


def short(value: Any) -> str:
    """A number in 3-4 significant figures with k/M/B/T: 69717142.8 -> '69.7M'."""
    value = float(value)
    if value != value:
        return "-"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.4g}"


def _py(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else value
