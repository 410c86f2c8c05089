"""3D views of the packaged AI-factory hall: by system, by a simulated day's rack power, interactive, animated.

Run: python examples/render_views.py [out_dir]
Writes hall_system.png, datacenter_plan.png, hall_power.png, hall.html (open it in a browser: drag to
rotate, wheel to zoom; it needs no network) and day.gif (rack power over a simulated day, every 2 h); ~10 s.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import blueprints
import twin


def main(out_dir: Path) -> list[Path]:
    hall = blueprints.load("ai-factory-hall")                      # 64 GB200 NVL72 racks, DLC + dry coolers
    written = [twin.render(hall, out_dir / "hall_system.png", color_by="system", show_power=True, show_coolant=True)]
    datacenter = blueprints.load("ai-datacenter-hall")             # 80 HGX racks with rear-door heat exchangers
    written.append(twin.render(datacenter, out_dir / "datacenter_plan.png", color_by="nameplate_kw", camera="plan"))

    # a simulated day with per-rack series: colour each rack by its power at 15:00, then animate the day
    day = twin.simulate(hall, weather="phoenix", hours=24, utilization="diurnal", per_rack=True)
    written.append(twin.render(hall, out_dir / "hall_power.png", color_by="rack_power_kw", state=day,
                               time=day["time"].values[15], camera="hall:hall-a"))
    written.append(twin.render(hall, out_dir / "hall.html", color_by="rack_power_kw", state=day, show_power=True))
    written.append(twin.render(hall, out_dir / "day.gif", state=day, window_size=(640, 400), fps=4, max_frames=12))
    for path in written:
        print(f"wrote {path} ({path.stat().st_size / 1e3:,.0f} kB)")
    return written


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
