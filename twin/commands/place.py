"""`twin place FILE --workloads w.yaml --out placement.nc`: workloads onto racks within every device rating."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, errors, friendly, tabular
from twin.commands import output

KPIS = ("status", "objective_value", "gap", "tokens_per_s", "revenue_usd_per_h", "it_kw", "racks", "racks_working",
        "racks_idle", "racks_moved", "blocks", "model_blocks", "device_rows", "n1_rows", "time_total_s")


WORKLOADS_HELP = (
    "The workloads file (YAML): `workloads:` then a list. An inference pool: id, tier (a catalog tier), and "
    "optionally llm, precision, isl, osl, demand_tokens_per_s, min_tokens_per_s, interactivity_tok_s_user, systems. "
    "A training job: id, kind: training, domains (whole NVLink domains), params_b, usd_per_gpu_hour, and optionally "
    "system, mfu, llm, precision, hall, required. The format reference lists each field with its meaning."
)


@app.command(epilog=WORKLOADS_HELP)
@tabular
@friendly
def place(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    workloads: Path = typer.Option(..., "--workloads", "-w", help="Workloads YAML file: pools and jobs (its fields are listed below)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the decisions to this NetCDF (.nc) file."),
    objective: str = typer.Option("revenue", help="revenue (USD/h) or tokens (tokens/s)."),
    secure: bool = typer.Option(False, "--secure/--no-secure", help="Survive any single device failure by re-capping."),
    capacity: str = typer.Option("rating", help="rating (members share load to their ratings) or usable (spares held back)."),
    migration_penalty: float = typer.Option(0.05, help="Share of a rack's value charged per rack moved off its workload."),
    time_limit: float = typer.Option(60.0, help="Solver time limit, seconds."),
    check: str = typer.Option("base", help="Independent rating check: base, n1 or none."),
    save: Optional[Path] = typer.Option(None, "--save", help="Save the placed facility (.yaml/.json)."),
) -> None:
    """Place inference pools and training jobs on racks; print KPIs and one line per workload."""
    import blueprints
    import solvers
    from twin.progress import bar

    site = blueprints.load(blueprint)
    with bar(console, f"placing workloads on {site.name}", "stages") as progress:
        result = solvers.place(site, workloads, objective=objective, secure=secure, capacity=capacity,
                               migration_penalty=migration_penalty, time_limit=time_limit, check=check,
                               progress=progress)
    output.show(output.record("kpis", {k: result.kpis[k] for k in KPIS if k in result.kpis},
                              f"{site.name}: placement ({objective}{', N-1 secure' if secure else ''})"))
    output.show(workload_table(result.decisions))
    if result.problems:
        errors.print(f"[bold red]checker:[/] {len(result.problems)} rating problem(s)")
        for p in result.problems[:20]:
            errors.print(f"  {p}")
    else:
        console.print(f"[green]checker:[/] no device exceeds its rating ({check})")
    if out:
        console.print(f"wrote {result.save(out)}")
    if save:
        console.print(f"wrote {result.facility.save(save)}")
    if result.problems:
        raise typer.Exit(1)


def workload_table(ds) -> output.Output:
    """One row per workload: kind, tier, racks, tokens/s against demand, USD/h."""
    import pandas as pd

    names = ("kind", "tier", "racks", "tokens_per_s", "demand_tokens_per_s", "revenue_usd_per_h")
    frame = pd.DataFrame({n: ds[f"workload_{n}"].values for n in names},
                         index=pd.Index([str(w) for w in ds["workload"].values], name="workload"))
    frame["kind"], frame["tier"] = frame["kind"].astype(str), frame["tier"].astype(str)
    return output.Output("workloads", frame, "workloads", labels={"tokens_per_s": "tokens/s",
                         "demand_tokens_per_s": "demand tokens/s", "revenue_usd_per_h": "USD/h"})
