"""`twin dispatch BLUEPRINT`: operate a facility over a horizon at prices and grid events; KPIs, NetCDF, plot."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import operating, output

LABELS = {
    "hours": "hours", "profit_usd": "profit, USD", "revenue_usd": "revenue, USD", "energy_cost_usd": "energy cost, USD",
    "demand_charge_usd": "demand charges, USD", "generator_cost_usd": "generator fuel, USD",
    "grid_energy_mwh": "grid energy, MWh", "peak_import_mw": "peak import, MW", "pue": "PUE",
    "co2_generator_t": "generator CO2, t", "over_limit_mwh": "import above limits, MWh",
    "over_limit_hours": "hours above a limit", "curtailed_mwh": "curtailed in events, MWh",
    "curtailment_cost_usd": "events cost (cash), USD", "curtailment_shadow_cost_usd": "events cost (incl. waiting work), USD",
    "event_payment_usd": "event payments, USD", "recovery_h": "hours to catch up after events",
    "training_rack_hours": "training progress, full-speed rack-hours",
}


@app.command()
@tabular
@friendly
def dispatch(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    hours: int = typer.Option(168, "--hours", help="Horizon in hours from --start."),
    freq: str = typer.Option("1h", "--freq", help="Step, e.g. 1h, 15min, 5min."),
    start: str = operating.START,
    prices: Optional[str] = typer.Option(None, "--prices", help="Energy price: USD/MWh, or a CSV with time, price_usd_per_mwh."),
    events: Optional[Path] = typer.Option(None, "--events", help="Grid events (YAML/JSON): start, duration_h, target_mw | reduce_mw | reduce_pct, notice_h, payment_usd_per_mwh; or OpenADR 3 event messages (IMPORT_CAPACITY_LIMIT intervals)."),
    training: float = operating.TRAINING,
    slowdown: float = operating.SLOWDOWN,
    demand_charge: float = typer.Option(0.0, "--demand-charge", help="USD per kW of each month's peak import."),
    no_caps: bool = typer.Option(False, "--no-caps", help="Keep every rack at its own power cap."),
    keep_on: bool = typer.Option(False, "--keep-on", help="Never switch racks off."),
    weather: Optional[str] = typer.Option(None, "--weather", help="Climate or weather file; default the blueprint's."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the dispatch to this NetCDF (.nc) file."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Save a PNG of import, power, tokens and storage."),
) -> None:
    """Dispatch racks, caps, tiers, deferred work, battery and generator over a horizon; KPIs and what was not met."""
    import blueprints
    import solvers
    from solvers.dispatch_plot import plot as draw

    facility = blueprints.load(blueprint)
    price = float(prices) if prices is not None and _is_number(prices) else prices
    with console.status("dispatching") as status:
        run = solvers.dispatch(facility, hours=hours, freq=freq, start=start, prices=price, events=events,
                               weather=weather, training=operating.training_mix(training, slowdown),
                               demand_charge_usd_per_kw=demand_charge, caps=not no_caps, switch_off=not keep_on,
                               progress=lambda msg: status.update(msg))
    if out is not None:
        run.save(out)
    k = run.kpis
    output.show(output.record("dispatch", {key: k[key] for key in LABELS if key in k}, f"dispatch of {facility.name}",
                              labels=LABELS))
    tiers = [t for t in run.dataset["tier"].values if f"tokens_{t}" in k]
    import pandas as pd

    rows = pd.DataFrame({"tokens": [k[f"tokens_{t}"] for t in tiers],
                         "dropped_tokens": [k.get(f"dropped_tokens_{t}", 0.0) for t in tiers],
                         "lost_in_events": [k.get(f"tokens_lost_{t}", 0.0) for t in tiers]},
                        index=pd.Index(tiers, name="tier"))
    output.show(output.Output("tiers", rows, "tokens by tier"))
    status = "[green]every limit, target and deadline met[/]" if run.met else f"[bold red]not met:[/] {run.explanation}"
    console.print(status)
    console.print(f"cross-check: simulated facility power within {run.cross_check['grid_max_rel']:.1e} of the LP's "
                  f"after {run.cross_check['rounds']:g} rounds")
    if plot is not None:
        draw(run, plot, title=f"dispatch of {facility.name}")
        console.print(f"plot written to {plot}")
    if out is not None:
        console.print(f"dispatch written to {out}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
