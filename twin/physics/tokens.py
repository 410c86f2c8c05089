"""Tokens per second per GPU: inference tiers from measured Pareto curves, training from FLOPS.

Inference: a tier asks for a minimum interactivity (tokens/s/user) and a maximum time to first token.
A system's throughput at that interactivity is read off its measured Pareto points for the workload
(llm, precision, input/output lengths), interpolated log-linearly (ln tokens/s/GPU linear in
interactivity) between neighbouring points. Below the lowest measured interactivity the lowest point is
used (serving faster than asked is allowed; nothing is extrapolated); above the highest measured point
the tier is out of reach and `ThroughputRangeError` says so.

Training: tokens/s/GPU = dense FLOPS x MFU / (6 x active parameters) (the usual 6N FLOPs per token).

>>> from twin.catalog import default_catalog
>>> round(tier_throughput(default_catalog(), "gb200_nvl72", "standard", Workload()))
4107
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, NamedTuple

import numpy as np

from twin.physics import PhysicsError, ThroughputRangeError

if TYPE_CHECKING:
    from twin.catalog import Catalog

LLM_ALIASES = {"dsr1": "deepseek-r1", "deepseek": "deepseek-r1", "gptoss": "gpt-oss-120b", "gpt-oss": "gpt-oss-120b"}
TRAINING_TIER = "training"
#: assumption: model-FLOPs utilization of large-scale training (no figure in the reference folder)
DEFAULT_MFU = 0.4


@dataclass(frozen=True)
class Workload:
    """What the facility serves: an LLM at a precision and input/output length, split over token tiers.

    kind: 'inference' (tiers from measured curves) or 'training' (needs `params_b`, active parameters in
    billions; throughput from dense FLOPS x `mfu`). tier_mix: share of GPUs serving each tier; None means
    an equal share for every catalog tier (assumption, after the GTC-2026 illustrative 25 % per tier).
    Defaults (DeepSeek-R1, FP8, 1k/1k) exist for every catalog system except the H100 (gpt-oss only).
    """

    llm: str = "deepseek-r1"
    precision: str = "fp8"
    isl: int = 1024
    osl: int = 1024
    kind: str = "inference"
    tier_mix: Mapping[str, float] | None = field(default=None, hash=False)
    params_b: float | None = None
    mfu: float = DEFAULT_MFU

    def __post_init__(self) -> None:
        object.__setattr__(self, "llm", LLM_ALIASES.get(str(self.llm).lower(), str(self.llm)))
        if self.kind not in ("inference", "training"):
            raise PhysicsError(f"Workload.kind {self.kind!r} is not 'inference' or 'training'")
        for name in ("isl", "osl"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise PhysicsError(f"Workload.{name} must be a positive whole number of tokens, got {value!r}")
        if self.kind == "training":
            if self.params_b is None or not self.params_b > 0:
                raise PhysicsError("a training Workload needs params_b > 0 (active parameters, billions)")
            if not 0 < self.mfu <= 1:
                raise PhysicsError(f"Workload.mfu {self.mfu!r} must be in (0, 1]")
        if self.tier_mix is not None:
            mix = dict(self.tier_mix)
            if not mix or any(not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)) for v in mix.values()):
                raise PhysicsError(f"Workload.tier_mix {mix!r} must map tier ids to shares >= 0")
            total = sum(mix.values())
            if total <= 0:
                raise PhysicsError("Workload.tier_mix shares sum to 0; give at least one positive share")
            object.__setattr__(self, "tier_mix", MappingProxyType({k: v / total for k, v in mix.items()}))

    def tiers(self, catalog: Catalog) -> dict[str, float]:
        """Tier id -> share of GPUs (summing to 1); training workloads have the single 'training' tier."""
        if self.kind == "training":
            return {TRAINING_TIER: 1.0}
        if self.tier_mix is None:
            ids = list(catalog.tiers)
            return {t: 1.0 / len(ids) for t in ids}
        for t in self.tier_mix:
            catalog.tier(t)
        return dict(self.tier_mix)

    def describe(self) -> str:
        if self.kind == "training":
            return f"training {self.llm} ({self.params_b:g}B active params, {self.precision}, MFU {self.mfu:g})"
        return f"inference {self.llm} {self.precision} isl={self.isl} osl={self.osl}"


def site_workload(site: Mapping[str, Any]) -> Workload:
    """The workload a site declares (`site.workload`, a mapping of Workload fields), else the default one."""
    own = site.get("workload")
    if own is None:
        return Workload()
    if not isinstance(own, Mapping):
        raise PhysicsError(f"site.workload must be a mapping of Workload fields, got {own!r}")
    try:
        return Workload(**own)
    except TypeError as exc:
        raise PhysicsError(f"site.workload: {exc}") from None


class TierPoint(NamedTuple):
    """Operating point of one system on one tier at TDP."""

    tokens_per_s_per_gpu: float
    output_share: float
    interactivity_tok_s_user: float
    ttft_s: float


def curve(catalog: Catalog, system_id: str, workload: Workload):
    """The Pareto points (sorted by interactivity) of a system for a workload; raise if none exist."""
    from twin.catalog.throughput import workload_rows

    df = catalog.throughput_for(system_id)
    sel = workload_rows(df, system_id, workload.llm, workload.precision, workload.isl, workload.osl)
    if sel.empty:
        have = sorted({f"{r.llm} {r.precision} {r.isl}/{r.osl}" for r in df.itertuples()})
        raise ThroughputRangeError(
            f"system {system_id!r} has no throughput curve for {workload.describe()}; measured or derived: "
            f"{', '.join(have) or 'none'}; pick one of those in Workload(llm=, precision=, isl=, osl=)")
    return sel


def tier_point(catalog: Catalog, system_id: str, tier_id: str, workload: Workload) -> TierPoint:
    """The throughput point a system serves a tier at (TDP): tokens/s/GPU, output share, interactivity, TTFT.

    Reads only the system's FLOPS (training) or its curve for the workload (`Catalog.curve_points`, kept with
    the throughput table) and the tier's limits, so catalogs that differ elsewhere (sampled ones) cost no rereading.
    """
    spec = catalog.system(system_id)
    if workload.kind == "training":
        pflops = spec.fp4_dense_pflops if workload.precision == "fp4" else spec.fp8_dense_pflops
        if not pflops:
            raise ThroughputRangeError(f"system {system_id!r} has no dense {workload.precision} FLOPS for training")
        tps = pflops * 1e15 * workload.mfu / (6.0 * workload.params_b * 1e9)
        return TierPoint(float(tps), 1.0, math.nan, math.nan)
    tier = catalog.tier(tier_id)
    x, y, share, ttft = catalog.curve_points(system_id, workload.llm, workload.precision, workload.isl, workload.osl)
    if x.size == 0:
        curve(catalog, system_id, workload)           # raises, listing the curves the system has
    need = tier.min_interactivity_tok_s_user
    if need > x[-1]:
        raise ThroughputRangeError(
            f"tier {tier_id!r} needs {need:g} tok/s/user but system {system_id!r} serving {workload.describe()} "
            f"was measured only at {x[0]:g}-{x[-1]:g} tok/s/user; drop the tier from Workload(tier_mix=...) "
            "or serve it on a faster system")
    at = max(need, x[0])
    value = float(np.exp(np.interp(at, x, np.log(y))))
    point = TierPoint(value, float(np.interp(at, x, share)), float(at), float(np.interp(at, x, ttft)))
    if not (point.ttft_s <= tier.max_ttft_s):  # NaN TTFT (not measured) passes the check
        if not math.isnan(point.ttft_s):
            ok = np.flatnonzero((x >= at) & (ttft <= tier.max_ttft_s))
            if ok.size == 0:
                raise ThroughputRangeError(
                    f"tier {tier_id!r} needs TTFT <= {tier.max_ttft_s:g} s but no measured point of {system_id!r} "
                    f"({workload.describe()}) at >= {at:g} tok/s/user meets it")
            i = int(ok[0])
            point = TierPoint(float(y[i]), float(share[i]), float(x[i]), float(ttft[i]))
    return point


def tier_throughput(catalog: Catalog, system_id: str, tier_id: str, workload: Workload | None = None) -> float:
    """Tokens/s (input + output) per GPU at TDP when a system serves a tier at its minimum interactivity.

    Raises ThroughputRangeError (naming the system, tier and measured range) when no measured point
    reaches the tier.
    """
    return tier_point(catalog, system_id, tier_id, workload or Workload()).tokens_per_s_per_gpu


def revenue_usd_per_mtok(catalog: Catalog, tier_id: str, output_share: float) -> float:
    """Blended price per million tokens (input + output) of a tier at a given output share."""
    if tier_id == TRAINING_TIER:
        return 0.0
    tier = catalog.tier(tier_id)
    return output_share * tier.price_usd_per_mtok + (1.0 - output_share) * tier.input_price_usd_per_mtok


__all__ = [
    "Workload", "TierPoint", "site_workload", "tier_throughput", "tier_point", "curve", "revenue_usd_per_mtok",
    "TRAINING_TIER", "DEFAULT_MFU", "LLM_ALIASES",
]
