"""Benchmark: place 24 workloads on a 1 GW site and scan every single-device failure, with timings.

Run: python benchmarks/bench_placement.py [--grid-mw 1000] [--oversubscribe 0.6,0.45]
Scenarios: the stock parametric site (2N UPS/busways with 15 % margin, N+1 cooling) and variants whose UPS
are each rated for only `--oversubscribe` x the hall's load at TDP (0.6: 2N run above one side's rating,
the practice N-1-secure placement and re-capping exist for; 0.45: even both sides together bind). Workloads: 20 inference pools (4 tiers x
DeepSeek-R1 FP8/FP4 1k/1k and 8k/1k, gpt-oss-120b FP4, demands between 50 and 400 M tokens/s) and 4 training
jobs of 32-128 NVLink domains (one required). The independent checker runs on the base case and, for the
secure placement, after the failure of every UPS and transformer of two halls; the N-1 scan (load shed, then
re-optimized caps) runs on the secure placement.
"""

from __future__ import annotations

import argparse
import time

from blueprints.parametric import ai_factory

TIERS = ("free", "batch", "standard", "premium")
LLMS = (("deepseek-r1", "fp8", 1024), ("deepseek-r1", "fp4", 1024), ("deepseek-r1", "fp8", 8192),
        ("deepseek-r1", "fp4", 8192), ("gpt-oss-120b", "fp4", 1024))


def workloads() -> list[dict]:
    """20 inference pools and 4 training jobs (GPU-hour value from SemiAnalysis rental prices, economics.yaml)."""
    out = []
    for i, (llm, precision, isl) in enumerate(LLMS):
        for j, tier in enumerate(TIERS):
            out.append({"id": f"{llm}-{precision}-{isl // 1024}k-{tier}", "tier": tier, "llm": llm,
                        "precision": precision, "isl": isl, "osl": 1024,
                        "demand_tokens_per_s": 5.0e7 * (1 + (i + j) % 8)})
    for k in range(4):
        out.append({"id": f"train-{k}", "kind": "training", "domains": 32 * (k + 1), "params_b": 37 + 100 * k,
                    "usd_per_gpu_hour": 3.30, "required": k == 0})
    return out


def oversubscribe(site, share: float) -> None:
    """Rate each UPS of a hall for `share` x the hall's rack load at TDP (the builder gives 1.15x)."""
    racks = site.table("rack")
    load = racks.groupby("hall")["nameplate_kw"].sum()
    for hall, kw in load.items():
        for side in "ab":
            site.graph.nodes[f"{hall}/ups-{side}"]["rating_kw"] = share * float(kw)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid-mw", type=float, default=1000.0)
    parser.add_argument("--oversubscribe", default="0.6,0.45", help="comma-separated UPS shares of hall load")
    args = parser.parse_args()

    import solvers
    from twin.contingency import scan
    from solvers.placement import placed_facility
    from twin.contingency_check import overloads, rack_kw

    work = workloads()
    solvers.place(ai_factory(grid_mw=5), work[:2], path="direct")          # warm imports and caches
    shares = [float(x) for x in args.oversubscribe.split(",") if x]
    for label, share in [("stock", None)] + [(f"UPS at {x:g}x", x) for x in shares]:
        site, t_build = timed(ai_factory, grid_mw=args.grid_mw)
        if share is not None:
            oversubscribe(site, share)
        racks = len(site.table("rack"))
        print(f"\n== {label}: {args.grid_mw:g} MW, {racks:,} racks, {len(work)} workloads (site built in {t_build:.1f} s)")
        for secure in (False, True):
            p, t = timed(solvers.place, site, work, objective="revenue", secure=secure)
            k = p.kpis
            print(f"place secure={secure}: {t:.2f} s (data {k['time_data_s']:.2f}, pyomo build {k['time_build_s']:.2f}, "
                  f"solve {k['time_solve_s']:.2f}, check {k['time_check_s']:.2f}); blocks {k['blocks']} -> model "
                  f"{k['model_blocks']}; device rows {k['device_rows']}, N-1 rows {k['n1_rows']}; gap {k['gap']:.1e}")
            print(f"  revenue {k['revenue_usd_per_h']:,.0f} USD/h, tokens {k['tokens_per_s'] / 1e6:,.1f} M/s, working "
                  f"{k['racks_working']:,} / idle {k['racks_idle']:,}, IT {k['it_kw'] / 1000:,.1f} MW; checker: "
                  f"{len(p.problems)} problems")
            placed_facility(site, p.racks, copy=False)                      # scan this placement
            if secure:
                devices = [d for h in ("hall-01", "hall-02") for d in (f"{h}/ups-a", f"{h}/ups-b", f"{h}/tx-a", f"{h}/tx-b")]
                kw = rack_kw(site, min_caps=True)
                found, t_chk = timed(lambda: {d: overloads(site, d, kw=kw) for d in devices})
                print(f"  N-1 checker on {len(devices)} failures at minimum caps: {sum(map(len, found.values()))} "
                      f"problems ({t_chk:.1f} s)")
            result, t_scan = timed(scan, site)
            recapped, t_recap = timed(solvers.recap, result)
            r = recapped.table
            print(f"  scan of {len(r):,} single failures {t_scan:.2f} s + re-cap {t_recap:.2f} s = {t_scan + t_recap:.2f} s; "
                  f"racks lost in {int((r['racks_lost'] > 0).sum())} failures, shed in {int((r['racks_shed'] > 0).sum())}, "
                  f"re-capped in {int((r['racks_capped'] > 0).sum())}; tokens lost summed over failures: shed "
                  f"{r['tokens_lost'].sum() / 1e6:,.0f} vs re-capped {r['tokens_lost_recap'].sum() / 1e6:,.0f} M tok/s")

if __name__ == "__main__":
    main()
