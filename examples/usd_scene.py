"""Write the packaged AI-factory hall as an OpenUSD scene with a simulated day as time samples, check it with
usd-core's validators, and read it back into the same facility graph.

Run: python examples/usd_scene.py [out_dir]   (writes hall.usdz and day.usdc; a few seconds)
Open day.usdc in any USD viewer (usdview, Omniverse, Blender) and play it: racks coloured by their power.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import networkx as nx

import blueprints
import twin
from twin.usd.check import check


def main(out_dir: Path) -> dict:
    site = blueprints.load("ai-factory-hall")                      # 64 GB200 NVL72 racks, DLC + dry coolers
    scene = twin.export_usd(site, out_dir / "hall.usdz")            # SimReady aif:* metadata, connection points
    day = twin.simulate(site, weather="phoenix", hours=24, per_rack=True, utilization="diurnal")
    movie = twin.export_usd(site, out_dir / "day.usdc", state=day)  # 24 time codes: rack power, colours, PUE ...
    findings = check(scene) + check(movie)                          # what usdchecker runs
    again = twin.import_usd(scene)
    assert nx.utils.graphs_equal(site.graph, again.graph) and not findings
    sizes = {p.name: p.stat().st_size for p in (scene, movie)}
    for name, size in sizes.items():
        print(f"{name:>10}: {size / 1e3:,.1f} kB")
    print(f"read back: {again.summary()['racks']} racks, {again.summary()['gpus']:,} GPUs, validators: no findings")
    return sizes


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
