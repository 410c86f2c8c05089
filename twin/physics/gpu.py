"""GPU and rack power vs utilization and power cap, and the throughput fraction a cap leaves.

GPU power follows DESIGN §5: P = idle + (draw - idle) x utilization with draw = min(cap, full load), cap <=
TDP; the full-load draw is the catalog's `gpu_full_load_w` when set (a measured or calibrated figure: GPUs
often draw less than their TDP at full utilization), else the TDP. Non-GPU node power
(catalog `node_overhead_w`, its full-load value) is split: NODE_OVERHEAD_FIXED_SHARE of it (CPUs, memory,
NICs) is constant, the rest (fans, power conversion) follows GPU power relative to TDP. Assumption: the
reference gives server fans at 10-15 % of server input (reference/cooling_physics.yaml) and PSU losses of
4-10 % of load (80 PLUS); their sum is about half of the catalog's node overheads. Rack-level overhead
(`rack_overhead_w`, NVLink switch trays) is constant. At full load and TDP the rack power equals the
catalog's `System.rack_power_kw`.

>>> import numpy as np
>>> gpu_power_w(145.0, 1200.0, np.array([0.0, 1.0])).tolist()
[145.0, 1200.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from twin.physics import PhysicsError

if TYPE_CHECKING:
    from twin.catalog import Catalog, System

DEFAULT_CAP_CURVE = "measured_default"
#: share of node_overhead_w that does not follow GPU power (assumption, see module docstring)
NODE_OVERHEAD_FIXED_SHARE = 0.5


def _check_utilization(utilization: Any) -> np.ndarray:
    u = np.asarray(utilization, dtype=float)
    bad = ~np.isfinite(u) | (u < 0.0) | (u > 1.0)
    if np.any(bad):
        where = np.argwhere(bad)[0] if u.ndim else ()
        value = u[tuple(where)] if u.ndim else float(u)
        raise PhysicsError(f"utilization {value!r} at index {tuple(int(i) for i in where)} is outside 0..1; "
                           "give the fraction of serving capacity in use (0 idle, 1 full)")
    return u


def gpu_power_w(idle_w: Any, cap_w: Any, utilization: Any) -> Any:
    """GPU power in W: idle + (cap - idle) x utilization; vectorized (numpy broadcasting)."""
    u = _check_utilization(utilization)
    idle = np.asarray(idle_w, dtype=float)
    cap = np.asarray(cap_w, dtype=float)
    if np.any(cap < idle):
        raise PhysicsError(f"power cap {np.min(cap):g} W is below the idle power {np.max(idle):g} W; "
                           "raise the cap (caps live between the curve's minimum and the TDP)")
    out = idle + (cap - idle) * u
    return float(out) if np.ndim(out) == 0 else out


def cap_factor(catalog: Catalog, cap_w: Any, tdp_w: Any, curve: str = DEFAULT_CAP_CURVE) -> Any:
    """Throughput fraction at a GPU power cap (1.0 at TDP), from the catalog's concave cap curve.

    `curve` is a catalog power-cap curve id: 'measured_default' (MLPerf MaxQ vs MaxP, the default) or
    'vendor_claim' (NVIDIA's rosier Max-Q claim, a labelled alternative). Caps outside the curve's
    evidence (below its min_cap_fraction, or above TDP) raise.
    """
    tdp = np.asarray(tdp_w, dtype=float)
    if np.any(tdp <= 0):
        raise PhysicsError(f"tdp_w must be positive, got {np.min(tdp):g}")
    return catalog.power_cap_curve(curve).factor(np.asarray(cap_w, dtype=float) / tdp)


def rack_power_kw(spec: System, nodes: Any, cap_w: Any, utilization: Any) -> Any:
    """Rack AC input power (kW, PSU losses included) of `nodes` nodes at a GPU cap and utilization; vectorized.

    At utilization 1 and cap = TDP this equals the catalog's `System.rack_power_kw(nodes, tdp)`.
    """
    u = _check_utilization(utilization)
    fixed, dynamic = rack_power_terms_kw(spec, nodes, cap_w)
    kw = fixed + dynamic * u
    return float(kw) if np.ndim(kw) == 0 else kw


def rack_power_terms_kw(spec: System, nodes: Any, cap_w: Any) -> tuple[np.ndarray, np.ndarray]:
    """(fixed, dynamic) kW of racks so that power = fixed + dynamic x utilization (for vectorized sims)."""
    n = np.asarray(nodes, dtype=float)
    cap = np.asarray(cap_w, dtype=float)
    if np.any(cap < spec.gpu_idle_w) or np.any(cap > spec.gpu_tdp_w * (1 + 1e-9)):
        raise PhysicsError(f"{spec.id}: power cap {np.min(cap):g}-{np.max(cap):g} W must lie between the idle power "
                           f"{spec.gpu_idle_w:g} W and the TDP {spec.gpu_tdp_w:g} W")
    share = NODE_OVERHEAD_FIXED_SHARE
    follow = spec.node_overhead_w * (1.0 - share) / (spec.gpus_per_node * spec.gpu_tdp_w)  # per W of GPU power
    per_node_idle = spec.gpus_per_node * spec.gpu_idle_w * (1.0 + follow) + spec.node_overhead_w * share
    fixed = n * per_node_idle / 1000.0 + np.where(n > 0, spec.rack_overhead_w / 1000.0, 0.0)
    dynamic = n * spec.gpus_per_node * (np.minimum(cap, spec.full_load_w) - spec.gpu_idle_w) * (1.0 + follow) / 1000.0
    return fixed, dynamic


def gpu_power_terms_kw(spec: System, nodes: Any, cap_w: Any) -> tuple[np.ndarray, np.ndarray]:
    """(fixed, dynamic) kW of the GPU boards alone (what DCGM / nvidia-smi report), as `rack_power_terms_kw`."""
    gpus = np.asarray(nodes, dtype=float) * spec.gpus_per_node
    draw = np.minimum(np.asarray(cap_w, dtype=float), spec.full_load_w)
    return gpus * spec.gpu_idle_w / 1000.0, gpus * (draw - spec.gpu_idle_w) / 1000.0


__all__ = [
    "DEFAULT_CAP_CURVE", "NODE_OVERHEAD_FIXED_SHARE", "gpu_power_w", "cap_factor", "rack_power_kw", "rack_power_terms_kw",
    "gpu_power_terms_kw",
]
