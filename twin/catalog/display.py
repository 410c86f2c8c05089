"""Catalog sections as pandas DataFrames for the CLI: id, the key numbers, and their evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

if TYPE_CHECKING:
    import pandas as pd


def _systems(e: Any) -> dict[str, Any]:
    top = max(e.nodes_per_rack)
    return {
        "form": e.form, "gpus_per_rack": int(e.gpus_per_rack(top)), "gpu_tdp_w": e.gpu_tdp_w,
        "rack_kw": round(e.rack_power_kw(top, e.gpu_tdp_w), 1), "cooling": ",".join(e.cooling),
        "capex_usd_per_gpu": e.capex_usd_per_gpu,
    }


def _cooling(e: Any) -> dict[str, Any]:
    return {
        "unit_kind": e.unit_kind, "liquid_heat_fraction": e.liquid_heat_fraction, "max_rack_kw": e.max_rack_kw,
        "supply_temp_c": e.supply_temp_c, "facility_supply_c": e.facility_supply_c,
    }


def _equipment(e: Any) -> dict[str, Any]:
    return {
        "kind": e.kind, "eff_25pct": round(e.efficiency(0.25), 4), "eff_50pct": round(e.efficiency(0.5), 4),
        "eff_100pct": round(e.efficiency(1.0), 4), "capex_usd_per_kw": e.capex_usd_per_kw,
    }


def _heat(e: Any) -> dict[str, Any]:
    return {
        "kind": e.kind, "approach_c": e.approach_c, "fan_pump_kw_per_kw": e.fan_pump_kw_per_kw,
        "cop_rated": e.cop_rated, "water_l_per_kwh": e.water_l_per_kwh,
    }


def _tiers(e: Any) -> dict[str, Any]:
    return {
        "min_tok_s_user": e.min_interactivity_tok_s_user, "max_ttft_s": e.max_ttft_s,
        "usd_per_mtok_out": e.price_usd_per_mtok, "usd_per_mtok_in": e.input_price_usd_per_mtok,
    }


def _caps(e: Any) -> dict[str, Any]:
    return {"min_cap_fraction": e.min_cap_fraction, "at_70pct": round(e.factor(0.7), 3),
            "at_85pct": round(e.factor(0.85), 3)}


_ROWS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "systems": _systems, "cooling": _cooling, "power_equipment": _equipment, "heat_rejection": _heat,
    "tiers": _tiers, "power_cap_curves": _caps,
}


def section_table(section: str, entries: Mapping[str, Any]) -> pd.DataFrame:
    """One row per entry; `assumptions` counts the fields whose evidence is an assumption."""
    import pandas as pd

    rows = []
    for e in entries.values():
        assumed = sum(rec["evidence"] == "assumption" for rec in e.provenance.values())
        rows.append({"id": e.id, **_ROWS[section](e), "evidence": e.evidence, "assumptions": assumed})
    return pd.DataFrame(rows)
