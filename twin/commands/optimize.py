"""`twin optimize`: choose systems, densities, caps, cooling and tiers inside the grid limit; print KPIs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import checks, output
from twin.commands.knobs import EVIDENCE_HELP, MARKET_HELP, SYSTEMS_HELP, TIER_MIX_HELP, design_kwargs

KPI_ROWS = (
    ("profit_usd_per_year", "profit USD/year"), ("revenue_usd_per_year", "revenue USD/year (market)"),
    ("capital_cost_usd_per_year", "capital recovery USD/year"), ("energy_usd_per_year", "energy USD/year"),
    ("om_usd_per_year", "O&M USD/year"), ("npv_usd", "NPV USD"), ("payback_years", "payback years"),
    ("margin_usd_per_mw_year", "margin USD per MW-year"), ("revenue_usd_per_gpu_hour", "revenue USD per GPU-hour"),
    ("usd_per_mtok_sold", "cost USD per Mtok sold"),
    ("tokens_per_s", "tokens/s"), ("facility_mw", "facility MW (design)"),
    ("simulated_grid_mw", "grid MW (simulated)"), ("it_mw", "IT MW"), ("grid_limit_mw", "grid limit MW"), ("pue", "PUE (design)"),
    ("gpus", "GPUs"), ("racks", "racks"), ("capex_usd", "capex USD"), ("usd_per_mtok", "USD per Mtok"),
    ("tokens_per_joule", "tokens per joule"), ("design_ambient_c", "design ambient °C"),
)


@app.command()
@tabular
@friendly
def optimize(
    blueprint: str = typer.Argument("ai-factory-hall", help=BLUEPRINT_HELP),
    objective: str = typer.Option("profit", help="profit, revenue, tokens or tokens-per-dollar"),
    mw: Optional[float] = typer.Option(None, help="Grid limit in MW (default: the blueprint's)."),
    no_power_caps: bool = typer.Option(False, "--no-power-caps", help="Run every GPU at its TDP."),
    compare_caps: bool = typer.Option(False, "--compare-caps", help="Show the design with and without power caps."),
    time_limit: float = typer.Option(60.0, help="Solver time limit, seconds."),
    evidence: Optional[str] = typer.Option(None, help=EVIDENCE_HELP),
    systems: Optional[str] = typer.Option(None, help=SYSTEMS_HELP),
    tier_mix: Optional[str] = typer.Option(None, "--tier-mix", help=TIER_MIX_HELP),
    cap_curve: Optional[str] = typer.Option(None, "--cap-curve", help="Catalog power-cap curve (`twin catalog power_caps`)."),
    cap_levels: Optional[str] = typer.Option(None, "--cap-levels", help="Cap levels as fractions of TDP, e.g. 1,0.8,0.6."),
    market: Optional[Path] = typer.Option(None, help=MARKET_HELP),
    billing: Optional[str] = typer.Option(None, help="tokens or gpu_hours (default: the blueprint's)."),
    keep_plant: bool = typer.Option(False, "--keep-plant", help="Keep every power and cooling device and its rating."),
    render: Optional[str] = typer.Option(None, help="Render the solved facility to this .png/.html."),
    out: Optional[str] = typer.Option(None, help="Write KPIs and decisions to this .json file."),
    save: Optional[str] = typer.Option(None, help="Save the solved facility to this .yaml/.json file."),
) -> None:
    """Design the facility within its MW limit and print a KPI table."""
    import blueprints
    import solvers
    from twin.progress import bar
    from twin.views.export import SUFFIXES

    checks.number(mw, "--mw", above=0, unit="MW")
    checks.number(time_limit, "--time-limit", above=0, unit="s")
    checks.output(out, "--out", (".json",))
    checks.output(save, "--save", (".yaml", ".yml", ".json"))
    checks.output(render, "--render", SUFFIXES)
    site = blueprints.load(blueprint)
    knobs = design_kwargs(site, evidence=evidence, systems=systems, tier_mix=tier_mix, cap_curve=cap_curve,
                          cap_levels=cap_levels, market=market, billing=billing)
    if keep_plant:
        knobs["keep_plant"] = True
    with bar(console, f"optimizing {site.name} for {objective}", "stages") as progress:
        if compare_caps:
            plans = solvers.cap_comparison(site, objective, grid_mw=mw, time_limit=time_limit, progress=progress, **knobs)
        else:
            plans = {"plan": solvers.optimize(site, objective, grid_mw=mw, power_caps=not no_power_caps,
                                              time_limit=time_limit, progress=progress, **knobs)}
    output.show(kpi_table(f"{site.name}: {objective}", plans))
    plan = next(iter(plans.values()))
    console.print(evidence_line(plan))
    output.show(decision_table(plan))
    output.show(changes_table(plan))
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
    labels.update({f"evidence_{kind}_share[{lab}]": f"share of {kind} on {lab} evidence"
                   for kind in ("tokens", "revenue") for lab in ("measured", "derived", "vendor_claim")
                   if any(p.kpis.get(f"evidence_{kind}_share[{lab}]") for p in plans.values())})
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


def evidence_line(plan) -> str:
    """What the answer rests on: the evidence policy and the share of tokens and revenue per evidence kind."""
    k = plan.kpis
    parts = [f"{k.get(f'evidence_tokens_share[{lab}]', 0.0):.1%} of tokens and "
             f"{k.get(f'evidence_revenue_share[{lab}]', 0.0):.1%} of revenue on {lab}"
             for lab in ("measured", "derived", "vendor_claim") if k.get(f"evidence_tokens_share[{lab}]")]
    flag = "" if k.get("evidence_tokens_share[measured]", 1.0) >= 1.0 - 1e-9 else "[yellow]flag:[/] "
    return f"{flag}evidence policy {plan.data.evidence_policy}: " + ("; ".join(parts) or "no tokens served")


def changes_table(plan) -> output.Output:
    """The plan's changes against the input facility, one line each (Plan.changes)."""
    import pandas as pd

    lines = plan.changes.lines() if plan.changes is not None else ["not computed"]
    return output.Output("changes", pd.DataFrame({"change": lines}), "changes against the input facility")
