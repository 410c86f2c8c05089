"""`twin optimize`: choose systems, densities, caps, cooling and tiers inside the grid limit; print KPIs."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from twin.cli import BLUEPRINT_HELP, app, console, fmt, friendly

KPI_ROWS = (
    ("tokens_per_s", "tokens/s"), ("revenue_usd_per_year", "revenue USD/year"), ("facility_mw", "facility MW (design)"),
    ("simulated_grid_mw", "grid MW (simulated)"), ("it_mw", "IT MW"), ("grid_limit_mw", "grid limit MW"), ("pue", "PUE (design)"),
    ("gpus", "GPUs"), ("racks", "racks"), ("capex_usd", "capex USD"), ("usd_per_mtok", "USD per Mtok"),
    ("tokens_per_joule", "tokens per joule"), ("design_ambient_c", "design ambient °C"),
)


@app.command()
@friendly
def optimize(
    blueprint: str = typer.Argument("ai-factory-hall", help=BLUEPRINT_HELP),
    objective: str = typer.Option("revenue", help="revenue, tokens or tokens-per-dollar"),
    mw: Optional[float] = typer.Option(None, help="Grid limit in MW (default: the blueprint's)."),
    no_power_caps: bool = typer.Option(False, "--no-power-caps", help="Run every GPU at its TDP."),
    compare_caps: bool = typer.Option(False, "--compare-caps", help="Show the design with and without power caps."),
    time_limit: float = typer.Option(60.0, help="Solver time limit, seconds."),
    render: Optional[str] = typer.Option(None, help="Render the solved facility to this .png/.html."),
    out: Optional[str] = typer.Option(None, help="Write KPIs and decisions to this .json file."),
    save: Optional[str] = typer.Option(None, help="Save the solved facility to this .yaml/.json file."),
) -> None:
    """Design the facility within its MW limit and print a KPI table."""
    import blueprints
    import solvers

    site = blueprints.load(blueprint)
    with console.status(f"optimizing {site.name} for {objective}"):
        if compare_caps:
            plans = solvers.cap_comparison(site, objective, grid_mw=mw, time_limit=time_limit)
        else:
            plans = {"plan": solvers.optimize(site, objective, grid_mw=mw, power_caps=not no_power_caps,
                                              time_limit=time_limit)}
    console.print(kpi_table(f"{site.name}: {objective}", plans))
    plan = next(iter(plans.values()))
    console.print(decision_table(plan))
    if out:
        console.print(f"wrote {plan.save(out)}")
    if save:
        console.print(f"wrote {plan.facility.save(save)}")
    if render:
        import twin

        console.print(f"wrote {twin.render(plan.facility, render)}")


def kpi_table(title: str, plans: dict) -> Table:
    """One column per plan, one row per KPI (tokens per tier after the headline numbers)."""
    table = Table(title=title)
    table.add_column("KPI", style="bold")
    for name in plans:
        table.add_column(name, justify="right")
    first = next(iter(plans.values()))
    tiers = [k for k in first.kpis if k.startswith("tokens_per_s[")]
    rows = [(k, label) for k, label in KPI_ROWS if k in first.kpis] + [(k, "tokens/s " + k[len("tokens_per_s["):-1]) for k in tiers]
    for key, label in rows:
        table.add_row(label, *(fmt(p.kpis.get(key)) for p in plans.values()))
    return table


def decision_table(plan) -> Table:
    """What to build: racks per hall class, cooling and (system, nodes, cap), and the tiers they serve."""
    from solvers.plan import decision_records

    table = Table(title="decisions")
    for col in ("hall class", "cooling", "system", "nodes", "cap W", "racks", "tiers"):
        table.add_column(col)
    for r in decision_records(plan.decisions):
        table.add_row(r["hall_class"], r["cooling"], r["system"], str(r["nodes"]), f"{r['cap_w']:.0f}", str(r["racks"]),
                      ", ".join(f"{t}: {n}" for t, n in r["tiers"].items()))
    return table
