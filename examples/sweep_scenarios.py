"""Sweep small AI factories in Phoenix over grid connection, GPU generation and the token tier they serve on a
local dask cluster, then print the Pareto front of tokens/s against capex and save the trade-off plots.

Run: python examples/sweep_scenarios.py [out_dir]   (writes sweep.nc, sweep.nc.parts/ and pareto.png; ~1 min)
Run it again and every finished scenario is read back from sweep.nc.parts/ instead of being solved again.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import solvers
from blueprints.parametric import ai_factory
from solvers.fronts import plot


def main(out_dir: Path) -> None:
    grid = {"grid_mw": [2, 8], "system": ["gb200_nvl72", "gb300_nvl72"], "tiers": ["batch", "standard", "premium"]}
    ds = solvers.sweep(ai_factory, grid, "optimize", out=out_dir / "sweep.nc", climate="phoenix", verify=False)
    print(f"{int((ds.status == 'ok').sum())} of {ds.status.size} scenarios solved "
          f"({ds.attrs['computed']} computed, {ds.attrs['reused']} reused)")
    best = solvers.front(ds, "capex_usd", "tokens_per_s")
    print("Pareto front, tokens/s against capex:")
    print(best.to_string(index=False))
    print(f"wrote {plot(ds, out_dir / 'pareto.png')}")


if __name__ == "__main__":   # the guard matters: dask starts worker processes that import this file
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="twin-sweep-"))
    out.mkdir(parents=True, exist_ok=True)
    main(out)
