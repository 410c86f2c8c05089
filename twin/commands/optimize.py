"""`twin optimize`: choose systems, densities, caps, cooling and tiers inside the grid limit; print KPIs."""

from __future__ import annotations

from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import output

KPI_ROWS = (
    ("tokens_per_s", "tokens/s"), ("revenue_usd_per_year", "revenue USD/year"), ("facility_mw", "facility MW (design)"),
    ("simulated_grid_mw", "grid MW (simulated)"), ("it_mw", "IT MW"), ("grid_limit_mw", "grid limit MW"), ("pue", "PUE (design)"),
    ("gpus", "GPUs"), ("racks", "racks"), ("capex_usd", "capex USD"), ("usd_per_mtok", "USD per Mtok"),
    ("tokens_per_joule", "tokens per joule"), ("design_ambient_c", "design ambient °C"),
)


@app.command()
@tabular
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

    from twin.progress import bar

    site = blueprints.load(blueprint)
    with bar(console, f"optimizing {site.name} for {objective}", "stages") as progress:
        if compare_caps:
            plans = solvers.cap_comparison(site, objective, grid_mw=mw, time_limit=time_limit, progress=progress)
        else:
            plans = {"plan": solvers.optimize(site, objective, grid_mw=mw, power_caps=not no_power_caps,
                                              time_limit=time_limit, progress=progress)}
    output.show(kpi_table(f"{site.name}: {objective}", plans))
    plan = next(iter(plans.values()))
    output.show(decision_table(plan))
    if out:
        console.print(f"wrote {plan.save(out)}")
    if save:
        console.print(f"wrote {plan.facility.save(save)}")
    if render:
        import twin

        console.print(f"wrote {twin.render(plan.facility, render)}")


def kpi_table(title: str, plans: dict) -> output.Output:
    """One row per plan, one column per KPI (tokens per tier after the headline numbers); shown one KPI a line."""
    import pandas as pd

    first = next(iter(plans.values()))
    tiers = [k for k in first.kpis if k.startswith("tokens_per_s[")]
    labels = {k: label for k, label in KPI_ROWS if k in first.kpis}
    labels.update({k: "tokens/s " + k[len("tokens_per_s["):-1] for k in tiers})
    frame = pd.DataFrame([{k: p.kpis.get(k) for k in labels} for p in plans.values()],
                         index=pd.Index(list(plans), name="plan"))
    return output.Output("kpis", frame, title, labels=labels, vertical=True)


def decision_table(plan) -> output.Output:
    """What to build: racks per hall class, cooling and (system, nodes, cap), and the tiers they serve."""
    import pandas as pd

    from solvers.plan import decision_records

    records = [{**r, "tiers": ", ".join(f"{t}: {n}" for t, n in r["tiers"].items())} for r in decision_records(plan.decisions)]
    frame = pd.DataFrame(records, columns=["hall_class", "cooling", "system", "nodes", "cap_w", "racks", "tiers"])
    return output.Output("decisions", frame, "decisions", labels={"hall_class": "hall class", "cap_w": "cap W"},
                         display={"cap_w": lambda v: f"{v:,.0f}"})
