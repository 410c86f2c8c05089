"""Which framing is best for which workload? The seed's seven "best for" cases, each an AI datacenter
(ai-datacenter-20mw, GPU-hour billing) against an AI factory (ai-factory-20mw, token billing), both designed
for profit under the packaged market, with the verdict and the prices at which it would flip.

Run: python examples/best_for.py [out_dir]   (writes best_for.md; ~1-2 min)
A case's tier mix shapes the factory's design (what its racks serve); its workload mix splits the year.
Break-evens are for the designs as built (solvers.sensitivity); three days of weather per workload year
keep the example quick (`hours=` of solvers.compare for a full year).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

import blueprints
import solvers
from solvers.compare import INFERENCE
from twin.atomic import atomic_write

CASES = {
    "large-scale training": ("inference=0.05,training=0.95", None),
    "high-volume inference": ("inference=1,training=0", {"batch": 0.5, "standard": 0.5}),
    "agentic workflows": ("inference=0.9,training=0.1", {"standard": 0.4, "premium": 0.6}),
    "multi-tenant cloud": ("inference=0.5,training=0.5", None),
    "enterprise mixed": ("inference=0.7,training=0.3", None),
    "token-as-a-service": ("inference=1,training=0", None),
    "research": ("inference=0.3,training=0.7", None),
}
"""Case -> (workload mix, the factory's tier mix; None lets the market choose)."""
HOURS = 72


def main(out_dir: Path) -> dict[str, dict]:
    climate = "phoenix"
    dc = solvers.optimize(blueprints.load("ai-datacenter-20mw", climate=climate), workload=INFERENCE)
    factories = {}
    rows, results = [], {}
    for case, (mix, tiers) in CASES.items():
        key = tuple(sorted(tiers.items())) if tiers else None
        if key not in factories:
            workload = dataclasses.replace(INFERENCE, tier_mix=tiers) if tiers else INFERENCE
            factories[key] = solvers.optimize(blueprints.load("ai-factory-20mw", climate=climate), workload=workload)
        r = solvers.compare(dc, factories[key], workload_mix=mix, climate=climate, hours=HOURS, render=False)
        own = r.verdict["own"]
        winner = "tie" if own["winner"] is None else r.sites[own["winner"]].name
        flips = {row["input"]: row["break_even"] for row in r.sensitivity["tornado"]}
        top = r.sensitivity["tornado"][0]
        rows.append([case, mix, ", ".join(f"{t} {s:.0%}" for t, s in (tiers or {}).items()) or "market",
                     winner, f"{own['margins'][0] / 1e6:,.2f} / {own['margins'][1] / 1e6:,.2f}",
                     _flip(flips["token_price"]), _flip(flips["gpu_hour_price"]), top["label"]])
        results[case] = {"winner": winner, "margins": own["margins"], "break_even": flips}
        print(f"{case} ({mix}): {winner} earns more per MW-year (datacenter / factory "
              f"{own['margins'][0] / 1e6:,.2f} / {own['margins'][1] / 1e6:,.2f} MUSD); flips at token prices "
              f"{_flip(flips['token_price'])}, GPU-hour prices {_flip(flips['gpu_hour_price'])}; moved most by {top['label']}")
    header = ["case", "workload mix", "factory tiers", "better", "margin MUSD/MW-yr (dc / factory)",
              "flips at token price", "flips at GPU-hour price", "moves it most"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    atomic_write(out_dir / "best_for.md", lambda fh: fh.write("\n".join(lines) + "\n"))
    return results


def _flip(factor: float | None) -> str:
    return "no flip in x0.02-x50" if factor is None else f"x{factor:.3g}"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="twin-best-for-"))
    out.mkdir(parents=True, exist_ok=True)
    main(out)
    print(f"wrote {out / 'best_for.md'}")
