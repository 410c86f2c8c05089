"""What the packaged AI-factory hall can offer the grid, and what a constrained feeder would ask of it.

Half the racks train (they may slow by 25 %), the batch tier waits up to a day. The site is dispatched once, then
under 25 % and 50 % cuts of 1 and 3 hours at 0 and 2 hours' notice, each placed at its highest import; the offer is
the deepest cut met per notice and duration, with its cost per MWh cut. A grid operator's curtailment request
arrives as an OpenADR 3 message and is dispatched too. Then a feeder's headroom (an illustrative day shape: an
assumption, not a measured feeder) says how many hours a year 2-8 MW more load would be curtailed and whether the
site's offer covers the longest, deepest of those events.

Run: python examples/flex_feeder.py [out_dir]   (writes flex.csv, hosting.csv, feeder.csv, openadr.json; ~1 min)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import blueprints
import solvers
from solvers.flex import flexibility, hosting


def main(out_dir: Path) -> dict:
    site = blueprints.load("ai-factory-hall")                      # 64 GB200 NVL72 racks, ~8 MW
    training = {"share": 0.5, "slowdown": 0.25, "deadline_h": 24}
    rep = flexibility(site, hours=36, notices=(0, 2), durations=(1, 3), depths=(25, 50), training=training)
    rep.table.to_csv(out_dir / "flex.csv")
    print(rep.offer.round(2).to_string())
    message = {"id": "feeder-relief", "programID": "feeder-12", "createdDateTime": "2025-01-01T12:00:00Z",
               "payloadDescriptors": [{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "MW"}],
               "intervalPeriod": {"start": "2025-01-01T14:00:00Z", "duration": "PT3H"},
               "intervals": [{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [0.75 * rep.baseline_mw]}]}]}
    (out_dir / "openadr.json").write_text(json.dumps(message, indent=1))
    run = solvers.dispatch(site, hours=36, events=out_dir / "openadr.json", training=training)
    assert run.met, run.explanation
    print(f"OpenADR limit {0.75 * rep.baseline_mw:.2f} MW for 3 h: met, cost {run.kpis['curtailment_shadow_cost_usd']:,.0f} USD")
    hours = pd.date_range("2025-01-01", periods=8760, freq="1h")
    day = 7 + 4 * np.cos(2 * np.pi * (hours.hour - 4) / 24) + 1.5 * np.cos(2 * np.pi * (hours.day_of_year - 20) / 365)
    pd.DataFrame({"time": hours, "headroom_mw": day}).to_csv(out_dir / "feeder.csv", index=False)
    curve = hosting(out_dir / "feeder.csv", [2, 4, 6, 8], offer=rep.offer)
    curve.to_csv(out_dir / "hosting.csv")
    print(curve.round(3).to_string())
    return {"offer": rep.offer, "hosting": curve}


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    main(out)
