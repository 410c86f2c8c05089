"""Design knobs shared by `twin optimize` and `twin compare`: parsing the command-line forms into the
keyword arguments of `solvers.optimize` (each with a clear error naming the option)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from twin.errors import BlueprintError

EVIDENCE_HELP = "Evidence the design may rest on: measured (default: measured, standard, vendor-spec figures) or claims."
SYSTEMS_HELP = "Comma-separated catalog systems to choose among (default: the blueprint's site.systems and racks)."
TIER_MIX_HELP = "Share of GPUs per token tier, e.g. standard=0.6,premium=0.4 (binds every objective)."
MARKET_HELP = "YAML file with a `market:` mapping (and optionally `finance:`), as in a blueprint's site."


def split(text: Optional[str]) -> Optional[list[str]]:
    """'a, b' -> ['a', 'b']; None stays None."""
    return None if text is None else [p.strip() for p in text.split(",") if p.strip()]


def shares(text: str, option: str) -> dict[str, float]:
    """'a=0.6,b=0.4' -> {'a': 0.6, 'b': 0.4}."""
    out = {}
    for part in split(text) or []:
        key, _, value = part.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise BlueprintError(f"{option} {text!r}: write it as standard=0.6,premium=0.4") from None
    return out


def levels(text: Optional[str]) -> Optional[list[float]]:
    """'1,0.8,0.6' -> [1.0, 0.8, 0.6]."""
    try:
        return None if text is None else [float(x) for x in split(text) or []]
    except ValueError:
        raise BlueprintError(f"--cap-levels {text!r}: write fractions of TDP, e.g. 1,0.9,0.8") from None


def design_kwargs(site: Any, *, evidence: Optional[str] = None, systems: Optional[str] = None,
                  tier_mix: Optional[str] = None, cap_curve: Optional[str] = None, cap_levels: Optional[str] = None,
                  market: Optional[Path] = None, billing: Optional[str] = None) -> dict[str, Any]:
    """Keyword arguments for `solvers.optimize` from the command-line forms (None: the blueprint's own)."""
    import dataclasses

    import yaml

    from twin.economics import default_finance, default_market, market_for, parse_finance, parse_market
    from twin.physics.tokens import Workload

    out: dict[str, Any] = {"evidence": evidence, "systems": split(systems), "cap_curve": cap_curve,
                           "cap_levels": levels(cap_levels), "billing": billing}
    if tier_mix:
        own = site.graph.graph.get("workload")
        base = Workload(**own) if isinstance(own, dict) else Workload()
        out["workload"] = dataclasses.replace(base, tier_mix=shares(tier_mix, "--tier-mix"))
    if market is not None:
        try:
            doc = yaml.safe_load(Path(market).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise BlueprintError(f"--market {market}: cannot read it ({exc}); give a YAML file with a `market:` mapping") from None
        if not isinstance(doc, dict):
            raise BlueprintError(f"--market {market}: expected a mapping with `market:` and/or `finance:`")
        base = market_for(site.graph.graph, site.catalog.tiers)
        if doc.get("market") is not None:
            out["market"] = parse_market(doc["market"], base, tiers=site.catalog.tiers)
        if doc.get("finance") is not None:
            out["finance"] = parse_finance(doc["finance"], default_finance())
        if doc.get("market") is None and doc.get("finance") is None:
            out["market"] = parse_market(doc, default_market(), tiers=site.catalog.tiers)
    return out


__all__ = ["design_kwargs", "split", "shares", "levels", "EVIDENCE_HELP", "SYSTEMS_HELP", "TIER_MIX_HELP", "MARKET_HELP"]
