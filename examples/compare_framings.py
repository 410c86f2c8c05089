"""AI datacenter vs AI factory at 20 MW in Phoenix, for an inference-heavy and a training-heavy workload mix.

Each design is optimized once for profit under its own billing (the datacenter sells GPU-hours, the factory
tokens) and the packaged market, then compared for each mix: a year of simulation per workload, revenue
under both billing models, margin per MW-year, a verdict with the numbers that drive it, and the break-even
prices at which it would flip.

Run: python examples/compare_framings.py [out_dir]
Writes inference-heavy/report.md|.html and training-heavy/report.md|.html (figures and 3D views beside them).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import blueprints
import solvers
from solvers.compare import INFERENCE

MIXES = {"inference-heavy": "inference=0.9,training=0.1", "training-heavy": "inference=0.2,training=0.8"}


def main(out_dir: Path) -> dict[str, dict]:
    climate = "phoenix"
    plans = [solvers.optimize(blueprints.load(name, climate=climate), workload=INFERENCE)
             for name in ("ai-datacenter-20mw", "ai-factory-20mw")]
    results, views = {}, None
    for label, mix in MIXES.items():
        result = solvers.compare(*plans, workload_mix=mix, climate=climate, render=views is None,
                                 views_dir=out_dir / label / "report-figures")
        if views is None:
            views = [s.view for s in result.sites]                  # same designs: draw them once
        for site, view in zip(result.sites, views):
            site.view = view
        paths = result.save(out_dir / label)
        print(f"\n{label} ({mix}):\n  {result.verdict['text']}")
        for row in result.sensitivity["tornado"][:3]:
            flip = "no flip in x0.02-x50" if row["break_even"] is None else f"flips at x{row['break_even']:.3g}"
            print(f"  {row['label']}: {flip}")
        for claim in result.claims:
            print(f"  {'holds' if claim['holds'] else 'does NOT hold here'}: {claim['claim']} ({claim['numbers']})")
        print(f"  report: {paths['html']}")
        results[label] = result.verdict
    return results


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="twin-compare-"))
    out.mkdir(parents=True, exist_ok=True)
    main(out)
