"""What does losing one device cost? Place workloads on the packaged AI-factory hall with its 2N UPS pair
oversubscribed, once plainly and once N-1 secure, then fail every device of the secure placement in turn:
load shed vs re-optimized caps, worst first, and a 3D view of one failure's blast radius.

Run: python examples/contingency_scan.py [out_dir]   (writes placement.nc, scan.csv, blast_ups-a.png; ~20 s)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import blueprints
import solvers
import twin
from twin.contingency import scan

WORKLOADS = [
    {"id": "chat", "tier": "standard"},
    {"id": "api", "tier": "premium", "demand_tokens_per_s": 2.0e6},
    {"id": "batch", "tier": "batch", "llm": "deepseek-r1", "precision": "fp4"},
]


def main(out_dir: Path) -> None:
    site = blueprints.load("ai-factory-hall")                      # 64 GB200 NVL72 racks, 8.4 MW at TDP
    for ups in ("ups-a", "ups-b"):
        site.graph.nodes[ups]["rating_kw"] = 5000.0                # 2N pair: 10 MW together, 5 MW alone
    plain = solvers.place(site, WORKLOADS)
    secure = solvers.place(site, WORKLOADS, secure=True, check="n1")
    assert plain.problems == [] and secure.problems == []         # independent checker: every rating holds
    for name, p in (("plain", plain), ("N-1 secure", secure)):
        k = p.kpis
        print(f"{name:>11}: {k['revenue_usd_per_h']:,.0f} USD/h, {k['tokens_per_s'] / 1e6:.2f} M tok/s, "
              f"{k['racks_working']} racks working, {k['racks_idle']} idle")
    secure.save(out_dir / "placement.nc")

    for name, p in (("plain", plain), ("N-1 secure", secure)):
        result = solvers.recap(scan(p.facility))
        row = result.table.loc["ups-a"]
        print(f"{name:>11}, ups-a fails: shed {row['racks_shed']} racks ({row['tokens_lost'] / 1e6:.2f} M tok/s) or "
              f"re-cap {row['racks_capped']} and shed {row['racks_shed_recap']} ({row['tokens_lost_recap'] / 1e6:.2f} M tok/s)")
    result.table.to_csv(out_dir / "scan.csv")
    print(result.table[["racks_lost", "tokens_lost", "racks_capped", "tokens_lost_recap"]].head(6).to_string())
    twin.render(p.facility, out_dir / "blast_ups-a.png", color_by="outage", state=result.rack_state("ups-a"),
                title="ups-a fails (N-1 secure placement)")


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="twin-contingency-"))
    out.mkdir(parents=True, exist_ok=True)
    main(out)
    print(f"wrote {out / 'placement.nc'}, {out / 'scan.csv'} and {out / 'blast_ups-a.png'}")
