"""The rack power model fitted from sufficient statistics, so a year of 1,000 racks costs microseconds per step.

Under a measured utilization u the twin predicts a rack's power as F + D x u, with F and D functions of the
system's catalog fields (`twin.physics.gpu.rack_power_terms_kw`, or `gpu_power_terms_kw` for GPU board
power). Racks of the same system, node count and cap share (F, D): a class. For a class with measured
points (u_i, y_i) the sum of squares is SSR(F, D) = SSR_min + (beta_hat - beta)^T M (beta_hat - beta) with
M = [[n, sum u], [sum u, sum u^2]] and beta_hat its own least-squares line, so the residuals
L^T (beta_hat - beta) (M = L L^T) carry the whole fit exactly: two numbers per class and target.
Steps where the twin throttles a rack are left out (the model is linear only without throttling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from twin.catalog import Catalog

RACK_TARGETS = {"rack_power_kw": "rack_power_terms_kw", "rack_gpu_power_kw": "gpu_power_terms_kw"}


@dataclass
class _Block:
    target: str
    beta_hat: np.ndarray      # (class, 2)
    root: np.ndarray          # (class, 2, 2): L^T with M = L L^T
    ssr_min: float
    n: int
    y: np.ndarray             # (time, rack) measured, NaN where not used
    mean: float


class RackModel:
    """Compressed rack-level targets (rack_power_kw, rack_gpu_power_kw) under a measured utilization."""

    def __init__(self, racks: pd.DataFrame, catalog: Catalog, u: np.ndarray, targets: dict[str, np.ndarray]):
        """racks: populated racks (system, nodes, cap_w); u, targets[name]: (time, rack) arrays, NaN = unused."""
        import pandas as pd

        self.racks = racks
        self.catalog = catalog
        self.u = u
        keys = pd.DataFrame({"s": racks["system"].astype(str).to_numpy(), "n": racks["nodes"].to_numpy(float),
                             "c": racks["cap_w"].to_numpy(float)})
        self.cls = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
        first = np.zeros(self.cls.max() + 1, dtype=int)
        first[self.cls[::-1]] = np.arange(len(racks))[::-1]
        self.first = first
        self.blocks = [self._block(name, y) for name, y in targets.items()]

    @property
    def n_points(self) -> int:
        return sum(b.n for b in self.blocks)

    def _block(self, name: str, y: np.ndarray) -> _Block:
        ok = np.isfinite(y) & np.isfinite(self.u)
        u = np.where(ok, self.u, 0.0)
        yy = np.where(ok, y, 0.0)
        k = self.cls.max() + 1
        per = lambda a: np.bincount(self.cls, weights=a.sum(axis=0), minlength=k)  # noqa: E731
        n, su, suu = per(ok.astype(float)), per(u), per(u * u)
        sy, suy, syy = per(yy), per(u * yy), per(yy * yy)
        m = np.stack([np.stack([n, su], -1), np.stack([su, suu], -1)], -2)
        b = np.stack([sy, suy], -1)
        beta = np.array([np.linalg.lstsq(m[c], b[c], rcond=None)[0] if n[c] else np.zeros(2) for c in range(k)])
        w, v = np.linalg.eigh(m)
        root = np.einsum("cij,cj->cji", v, np.sqrt(np.clip(w, 0.0, None)))     # rows: sqrt(lambda_j) v_j^T
        ssr_min = float(syy.sum() - np.einsum("ci,ci->", b, beta))
        total = int(n.sum())
        return _Block(name, beta, root, max(ssr_min, 0.0), total, np.where(ok, y, np.nan),
                      float(sy.sum() / total) if total else float("nan"))

    def terms(self, target: str, systems: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(F, D) per class for `target` with the given (possibly replaced) system entries."""
        from twin.physics import gpu

        fn = getattr(gpu, RACK_TARGETS[target])
        f = np.zeros(self.first.size)
        d = np.zeros(self.first.size)
        sys_ids = self.racks["system"].astype(str).to_numpy()
        nodes = self.racks["nodes"].to_numpy(float)
        cap = self.racks["cap_w"].to_numpy(float)
        for c, r in enumerate(self.first):
            spec = systems.get(sys_ids[r]) or self.catalog.system(sys_ids[r])
            f[c], d[c] = (float(v) for v in fn(spec, nodes[r], np.minimum(cap[r], spec.gpu_tdp_w)))
        return f, d

    def residuals(self, systems: dict[str, Any], weights: dict[str, float]) -> np.ndarray:
        """Weighted compressed residuals of every block."""
        out = []
        for b in self.blocks:
            f, d = self.terms(b.target, systems)
            diff = b.beta_hat - np.stack([f, d], -1)
            out.append(weights[b.target] * np.einsum("cij,cj->ci", b.root, diff).ravel())
        return np.concatenate(out) if out else np.zeros(0)

    def ssr_offset(self, weights: dict[str, float]) -> float:
        return float(sum(weights[b.target] ** 2 * b.ssr_min for b in self.blocks))

    def raw(self, target: str, systems: dict[str, Any]) -> np.ndarray:
        """(time, rack) residuals measured - predicted of one target (NaN where unused)."""
        b = next(b for b in self.blocks if b.target == target)
        f, d = self.terms(target, systems)
        return b.y - (f[self.cls] + d[self.cls] * self.u)


__all__ = ["RackModel", "RACK_TARGETS"]
