"""`twin flex BLUEPRINT`: the facility's flexibility for the grid (MW by notice and duration, cost, how often) and,
with a feeder's headroom, the curtailment N more MW would need (hosting capacity vs hours of curtailment)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from twin.cli import BLUEPRINT_HELP, app, console, friendly, tabular
from twin.commands import operating, output

LABELS = {"notice_h": "notice, h", "duration_h": "duration, h", "depth_pct": "cut, %", "met": "met", "cut_mw": "cut, MW", "curtailed_mwh": "curtailed, MWh", "short_mwh": "not met, MWh",
          "cost_usd": "cost (cash), USD", "shadow_cost_usd": "cost incl. waiting work, USD",
          "revenue_lost_usd": "revenue lost, USD", "payment_usd": "payment, USD", "tokens_lost": "tokens lost",
          "training_behind_rack_h": "training behind, rack-h", "recovery_h": "catch-up, h",
          "repeat_every_h": "repeatable every, h", "deepest_pct": "deepest cut, %",
          "cost_usd_per_mwh": "cost, USD/MWh cut", "not_met": "what was not met"}


def _numbers(text: str, option: str) -> list[float]:
    from twin.errors import TwinError

    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise TwinError(f"{option} {text!r}: give comma-separated numbers, e.g. 1,3,6") from None


@app.command()
@tabular
@friendly
def flex(
    blueprint: str = typer.Argument(..., help=BLUEPRINT_HELP),
    hours: int = typer.Option(48, "--hours", help="Horizon of each dispatch, hours from --start."),
    start: str = operating.START,
    notices: str = typer.Option("0,2", "--notices", help="Notice before an event, hours (comma-separated)."),
    durations: str = typer.Option("1,3,6", "--durations", help="Event durations, hours (comma-separated)."),
    depths: str = typer.Option("10,25,50", "--depths", help="Cuts, % of the import without the event (comma-separated)."),
    training: float = operating.TRAINING,
    slowdown: float = operating.SLOWDOWN,
    prices: Optional[float] = typer.Option(None, "--prices", help="Flat energy price, USD/MWh (default the site's)."),
    payment: float = typer.Option(0.0, "--payment", help="Paid per MWh of the requested cut that is met, USD."),
    headroom: Optional[Path] = typer.Option(None, "--headroom", help="Feeder headroom CSV (time, headroom_mw): adds the hosting curve."),
    extra_mw: str = typer.Option("10,25,50,100", "--extra-mw", help="MW more to connect on the feeder (with --headroom)."),
) -> None:
    """How many MW the facility can cut, for how long, at which notice and cost; and what a feeder would ask."""
    import blueprints
    from solvers.flex import flexibility, hosting

    facility = blueprints.load(blueprint)
    n, d, p = _numbers(notices, "--notices"), _numbers(durations, "--durations"), _numbers(depths, "--depths")
    total = len(n) * len(d) * len(p)
    with console.status(f"dispatching the baseline, then {total} events") as status:
        rep = flexibility(facility, hours=hours, start=start, notices=n, durations=d, depths=p,
                          payment_usd_per_mwh=payment, prices=prices,
                          training=operating.training_mix(training, slowdown),
                          progress=lambda i, k: status.update(f"events dispatched: {i}/{k}"))
    title = (f"{facility.name}: events at {str(rep.event_start)[:16]} (highest import, {rep.baseline_mw:,.2f} MW), "
             "each against the same baseline")
    output.show(output.Output("events", rep.table.reset_index(), title, labels=LABELS))
    output.show(output.Output("offer", rep.offer.reset_index(), "what the site can offer: the deepest cut met per notice and duration",
                              labels=LABELS))
    if headroom is not None:
        curve = hosting(headroom, _numbers(extra_mw, "--extra-mw"), offer=rep.offer)
        output.show(output.Output("hosting", curve.reset_index(), "feeder: curtailment that N more MW would need per year",
                                  labels={"curtailed_h_per_year": "curtailed, h/year", "share_of_hours": "share of hours",
                                          "curtailed_mwh_per_year": "curtailed, MWh/year",
                                          "share_of_energy": "share of energy", "longest_h": "longest, h",
                                          "deepest_mw": "deepest, MW", "site_covers": "site's offer covers it"}))
