"""Operate the packaged AI-factory hall for three January days at hourly prices with a grid curtailment request: half the
racks train (they may slow by 25 %), the batch tier waits up to a day, a battery sits behind the meter. Prints what
the 25 %-for-3-hours cut cost and writes the dispatch (NetCDF) and its picture.

Run: python examples/dispatch_curtailment.py [out_dir]   (writes dispatch.nc, dispatch.png, prices.csv; ~10 s)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import blueprints
import solvers
from solvers.dispatch_plot import plot
from twin.onsite import Storage


def main(out_dir: Path) -> dict:
    site = blueprints.load("ai-factory-hall")                      # 64 GB200 NVL72 racks, ~8 MW
    hours = pd.date_range("2025-01-06", periods=72, freq="1h")
    # an illustrative day-ahead shape (assumption): 40 USD/MWh at night, 120 USD/MWh in the early evening
    price = 80 - 40 * np.cos(2 * np.pi * (hours.hour - 6) / 24)
    pd.DataFrame({"time": hours, "price_usd_per_mwh": price}).to_csv(out_dir / "prices.csv", index=False)
    event = {"id": "feeder-relief", "start": "2025-01-07T15:00", "duration_h": 3, "reduce_pct": 25, "notice_h": 2,
             "payment_usd_per_mwh": 150}
    battery = Storage(energy_kwh=4000, charge_kw=1000, discharge_kw=1000, charge_efficiency=0.85 ** 0.5,
                      discharge_efficiency=0.85 ** 0.5)               # 1 MW / 4 MWh at the NREL ATB 85 % round trip
    run = solvers.dispatch(site, hours=72, start="2025-01-06", prices=out_dir / "prices.csv", events=[event],
                           training={"share": 0.5, "slowdown": 0.25, "deadline_h": 24}, storage=battery)
    assert run.met, run.explanation
    ds = run.dataset
    cut = ds.grid_import_kw.values[ds.event.values].max() / run.baseline.dataset.grid_import_kw.values[ds.event.values].max()
    run.save(out_dir / "dispatch.nc")
    plot(run, out_dir / "dispatch.png", title="ai-factory-hall: three January days with a 25 % / 3 h curtailment")
    k = run.kpis
    for key in ("profit_usd", "energy_cost_usd", "curtailed_mwh", "curtailment_cost_usd", "curtailment_shadow_cost_usd",
                "event_payment_usd", "recovery_h", "tokens_lost_premium", "tokens_lost_standard"):
        print(f"{key:>28}: {k[key]:,.2f}")
    print(f"{'import at the event peak':>28}: {cut:.1%} of the baseline; interactive tiers kept whole")
    return k


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    main(out)
