"""The types and constants a comparison of two facilities shares between `solvers.compare` (which builds
it), `solvers.verdict`, `solvers.sensitivity` and `solvers.report` (which read it), so each of those
modules imports only this one and their arrows run one way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.errors import TwinError
from twin.physics.tokens import Workload

if TYPE_CHECKING:
    from solvers.plan import Plan
    from twin.economics import Finance, Market

WORKLOADS = ("inference", "training")
INFERENCE = Workload(llm="deepseek-r1", precision="fp8", isl=1024, osl=1024)
TRAINING = Workload(llm="deepseek-r1", precision="fp8", kind="training", params_b=37.0)
"""Training DeepSeek-V3/R1: 37 B activated parameters per token (DeepSeek-V3 technical report,
https://arxiv.org/abs/2412.19437, vendor_spec); MFU is the twin's labelled default."""
PROFILES = {"inference": "diurnal", "training": "training"}
BILLING_MODELS = ("compute-hour", "token")
LIQUID = ("dlc", "dlc_2p", "immersion")
TRAINING_GOODPUT = 0.9
"""Share of a training reservation's GPU-hours that bills: Meta reports > 90 % effective training time on
16k H100 over 54 days with 419 unexpected interruptions (The Llama 3 Herd of Models,
https://arxiv.org/abs/2407.21783, measured); hours lost to failures and restarts are credited (assumption)."""
TRAINING_DOMAIN_GPUS = 8
"""GPUs a training job needs inside one NVLink domain (tensor parallel 8, the DeepSeek-V3 / Llama 3 recipe;
assumption): racks of systems with smaller domains sell no training hours."""


class CompareError(ValueError, TwinError):
    """A comparison request that cannot be met (bad mix, unknown billing); the message says how to fix it."""


@dataclass(frozen=True)
class Number:
    """A reported value with its unit and where it comes from (catalog entry, optimization or simulation)."""

    value: Any
    unit: str
    source: str


@dataclass
class WorkloadYear:
    """One facility serving one workload for the whole simulated period (from one simulation)."""

    workload: str
    gpu_hours: float              # busy GPU-hours: GPUs x utilization x throttle x step hours
    compute_revenue_usd: float    # those GPU-hours at the GPU-hour list price (x cap factor)
    token_revenue_usd: float      # inference tokens at tier list prices (0 for training)
    tokens: float                 # tokens served (inference) or trained on (training)
    grid_mwh: float
    utilization: float
    tiers: dict[str, float] = field(default_factory=dict)   # share of GPUs per tier (inference)


@dataclass
class SiteEconomics:
    """What a site's money depends on, per year, so any price can be changed and the margin re-evaluated
    without a new design or simulation (`solvers.sensitivity.evaluate`)."""

    grid_mw: float
    billing: str                          # the site's own billing: tokens or gpu_hours
    capacity: dict[str, float]            # tokens/s per tier at full use (inference year mean per unit of use)
    gpu_rate_usd_per_h: float             # all GPUs x list rental price x cap factor, at full use
    training_gpu_rate_usd_per_h: float    # the same for racks whose NVLink domain fits a training job
    inference_throttle: float             # mean throttle of the inference year (1 = never throttled)
    training_busy: float                  # busy share of training-capable GPU-hours in the training year
    grid_mwh: dict[str, float]            # per year: inference, training (whole-year workloads)
    capex: dict[str, float]               # USD per asset class (GPUs, power, cooling, building)
    list_usd_per_mtok: dict[str, float]   # tier list prices of the inference workload's token blend


@dataclass
class SiteResult:
    """Everything the report says about one facility."""

    label: str
    name: str
    framing: str
    billing: str
    climate: str
    plan: Plan
    years: dict[str, WorkloadYear]
    mixed: dict[str, float]
    metrics: dict[str, Number]
    monthly: dict[str, list[float]]
    economics: SiteEconomics | None = None
    view: Path | None = None


@dataclass
class ComparisonData:
    """Two `SiteResult`s for a mix under one market and finance, the verdict, the claims checked against
    the numbers, and the sensitivity of the verdict (tornado and break-even prices)."""

    mix: dict[str, float]
    climate: str | None
    hours: int
    sites: list[SiteResult]
    verdict: dict[str, Any]
    claims: list[dict[str, Any]] = field(default_factory=list)
    market: Market | None = None
    finance: Finance | None = None
    sensitivity: dict[str, Any] = field(default_factory=dict)


__all__ = ["WORKLOADS", "INFERENCE", "TRAINING", "PROFILES", "BILLING_MODELS", "LIQUID", "TRAINING_GOODPUT",
           "TRAINING_DOMAIN_GPUS", "CompareError", "Number", "WorkloadYear", "SiteEconomics", "SiteResult",
           "ComparisonData"]
