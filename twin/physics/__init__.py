"""Reduced-order physics of an AI factory, vectorized over racks and time (numpy only).

Submodules (import them explicitly; nothing heavy is imported here):

- `gpu`: GPU and rack power vs utilization and power cap; throughput fraction at a cap.
- `tokens`: `Workload`, tokens/s per GPU per tier from measured Pareto curves, training throughput.
- `power_chain`: stage-by-stage losses P_in = f(P_out, rating) and the facility's power network.
- `cooling`: in-hall units, economizer vs chiller heat rejection by ambient, fans, pumps, water.
- `profiles`: utilization profiles (constant, diurnal inference, training swings, user arrays).
- `topology`: the facility graph turned into sparse share matrices for the simulation.
- `engine`: the vectorized kernel `twin.simulate` runs block by block (racks grouped into classes).

>>> from twin.physics import gpu
>>> float(gpu.gpu_power_w(100.0, 1000.0, 0.5))
550.0
"""

from __future__ import annotations

from twin.errors import TwinError


class PhysicsError(ValueError, TwinError):
    """An input to the physics is unusable; the message names the argument, the rule and the fix."""


class ThroughputRangeError(PhysicsError):
    """No measured throughput point of a system reaches the interactivity a tier requires."""


__all__ = ["PhysicsError", "ThroughputRangeError"]
