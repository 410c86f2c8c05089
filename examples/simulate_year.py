"""Simulate the packaged AI-factory hall for a year of Phoenix weather, print the summary and save a plot.

Run: python examples/simulate_year.py [out_dir]   (writes year.nc and year.png; ~2 s)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import blueprints
import twin
from twin.physics.tokens import Workload


def main(out_dir: Path) -> dict:
    site = blueprints.load("ai-factory-hall")                      # 64 GB200 NVL72 racks, DLC + dry coolers
    ds = twin.simulate(site, weather="phoenix", hours=8760, utilization="diurnal",
                       workload=Workload(llm="deepseek-r1", precision="fp8"))
    assert ds.twin.conservation_error() < 1e-9                      # grid = IT + losses + cooling + aux
    ds.twin.save(out_dir / "year.nc")
    ds.twin.plot(out_dir / "year.png", title="ai-factory-hall, Phoenix, diurnal inference demand")
    summary = ds.twin.summary()
    for key in ("grid_energy_mwh", "it_energy_mwh", "pue", "pue_peak", "wue_l_per_kwh", "tokens", "revenue_usd",
                "throttling_hours", "over_temperature_hours"):
        print(f"{key:>24}: {summary[key]:,.3f}")
    return summary


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="twin-year-"))
    out.mkdir(parents=True, exist_ok=True)
    main(out)
    print(f"wrote {out / 'year.nc'} and {out / 'year.png'}")
