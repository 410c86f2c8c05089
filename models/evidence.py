"""Which evidence a design option rests on, and which options an evidence policy admits.

A rack option's tokens rest on its system's throughput curve for the workload: `measured` (benchmark
points), `derived` (another system's measured curve x a multiplier the catalog marks as an assumption) or
`vendor_claim` (a multiplier or system the vendor claims: unreleased systems, marketing ratios). Policy
`measured` (the default) admits measured curves of systems whose entry is not a vendor claim; `claims`
admits everything and every output flags the share that rests on each kind.

>>> from twin.catalog import default_catalog
>>> from twin.physics.tokens import Workload
>>> option_evidence(default_catalog(), "gb200_nvl72", Workload()), option_evidence(default_catalog(), "gb300_nvl72", Workload())
('measured', 'derived')
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twin.errors import TwinError, did_you_mean

if TYPE_CHECKING:
    from twin.catalog import Catalog
    from twin.physics.tokens import Workload

POLICIES = ("measured", "claims")
LABELS = ("measured", "derived", "vendor_claim")
CLAIM_TAGS = ("vendor_claim",)


def check_policy(policy: object) -> str:
    """`measured` (default, also for None) or `claims`; a TwinError naming the choices otherwise."""
    value = "measured" if policy is None else str(policy)
    if value not in POLICIES:
        raise TwinError(f"evidence policy {policy!r} is not one of {list(POLICIES)}; {did_you_mean(value, POLICIES)}")
    return value


def option_evidence(catalog: Catalog, system: str, workload: Workload) -> str:
    """`measured`, `derived` or `vendor_claim`: what the system's tokens for this workload rest on."""
    if catalog.system(system).evidence in CLAIM_TAGS:
        return "vendor_claim"
    if workload.kind == "training":
        return "measured"
    rows = catalog.throughput_for(system)
    rows = rows[(rows["llm"] == workload.llm) & (rows["precision"] == workload.precision)
                & (rows["isl"] == workload.isl) & (rows["osl"] == workload.osl)]
    if rows.empty or not bool(rows["derived"].any()):
        return "measured"
    return "vendor_claim" if (rows["evidence"] == "vendor_claim").any() else "derived"


def admits(policy: str, label: str) -> bool:
    """Whether an evidence policy lets the optimizer choose an option with this label."""
    return policy == "claims" or label == "measured"


__all__ = ["POLICIES", "LABELS", "check_policy", "option_evidence", "admits"]
