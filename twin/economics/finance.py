"""Finance: a WACC and asset lives per class turn capex into a yearly cost (capital recovery), plus O&M.

Capital recovery factor CRF = r / (1 - (1 + r)^-n): the level yearly payment that repays one dollar over n
years at rate r. Asset classes: `gpus` (IT systems), `power` (power chain), `cooling` (cooling units and
heat rejection), `building` (shell, site, white space: USD per kW of IT capacity). Defaults and sources in
`twin/data/market.yaml` (`finance:`); a blueprint's `site.finance` overrides any field.

>>> f = Finance(wacc=0.0)
>>> f.crf("gpus") == 1 / f.classes["gpus"].life_years
True
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from twin.errors import BlueprintError, did_you_mean

ASSET_CLASSES = ("gpus", "power", "cooling", "building")
CLASS_FIELDS = ("life_years", "om_fraction", "capex_usd_per_kw_it")
FINANCE_FIELDS = ("wacc", "electricity_usd_per_kwh", "horizon_years", "capex_factor", "asset_classes")


@dataclass(frozen=True)
class AssetClass:
    """Economic life (years) and yearly O&M as a share of capex for one class of assets."""

    life_years: float
    om_fraction: float = 0.0
    capex_usd_per_kw_it: float = 0.0     # only the building class is priced per kW of IT here


def _classes() -> Mapping[str, AssetClass]:
    return MappingProxyType({"gpus": AssetClass(5, 0.03), "power": AssetClass(15, 0.02),
                             "cooling": AssetClass(15, 0.03), "building": AssetClass(30, 0.01, 5500.0)})


@dataclass(frozen=True)
class Finance:
    """WACC, electricity price, NPV horizon, a capex scale knob and the asset classes."""

    wacc: float = 0.09
    electricity_usd_per_kwh: float = 0.08
    horizon_years: float = 5.0
    capex_factor: float = 1.0            # x every capex (sensitivity knob; 1.0 = as sourced)
    classes: Mapping[str, AssetClass] = field(default_factory=_classes)

    def crf(self, asset_class: str) -> float:
        """Capital recovery factor of a class: yearly cost per USD of capex."""
        return crf(self.wacc, self.classes[asset_class].life_years)

    def yearly_cost_per_capex(self, asset_class: str) -> float:
        """USD/year per USD of capex of a class: capital recovery plus O&M (capex_factor applied)."""
        return (self.crf(asset_class) + self.classes[asset_class].om_fraction) * self.capex_factor

    def annuity(self) -> float:
        """Present value of 1 USD a year over the horizon at the WACC."""
        n, r = self.horizon_years, self.wacc
        return n if r == 0 else (1 - (1 + r) ** -n) / r

    def scaled(self, **factors: float) -> Finance:
        """A copy with `capex_factor` or `electricity_usd_per_kwh` multiplied (sensitivity studies)."""
        allowed = ("capex_factor", "electricity_usd_per_kwh", "wacc")
        unknown = set(factors) - set(allowed)
        if unknown:
            raise BlueprintError(f"finance scale {sorted(unknown)[0]!r} is unknown; use {', '.join(allowed)}")
        return dataclasses.replace(self, **{k: getattr(self, k) * float(v) for k, v in factors.items()})


def crf(rate: float, years: float) -> float:
    """Capital recovery factor r / (1 - (1 + r)^-n) (1/n at r = 0)."""
    return 1.0 / years if rate == 0 else rate / (1.0 - (1.0 + rate) ** -years)


def _plain(value: Any) -> Any:
    return value["value"] if isinstance(value, Mapping) and "value" in value else value


def _num(raw: Any, where: str, lo: float, hi: float = math.inf) -> float:
    value = _plain(raw)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (lo <= value <= hi):
        raise BlueprintError(f"{where}: is {value!r}; give a number in [{lo:g}, {hi:g}]")
    return float(value)


def parse_finance(raw: Any, base: Finance | None = None, where: str = "site.finance") -> Finance:
    """A `Finance` from a mapping (market.yaml `finance:` or a blueprint's `site.finance`) over `base`."""
    out = base or Finance()
    if not isinstance(raw, Mapping):
        raise BlueprintError(f"{where}: is {raw!r}; give a mapping with {', '.join(FINANCE_FIELDS)}")
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in FINANCE_FIELDS:
            raise BlueprintError(f"{where}.{key}: is not a finance field; {did_you_mean(str(key), FINANCE_FIELDS)}")
        if key == "asset_classes":
            changes["classes"] = _parse_classes(value, out.classes, f"{where}.asset_classes")
        else:
            lo = 1.0 if key == "horizon_years" else 0.0
            changes[key] = _num(value, f"{where}.{key}", lo, 1.0 if key == "wacc" else math.inf)
    return dataclasses.replace(out, **changes)


def _parse_classes(raw: Any, base: Mapping[str, AssetClass], where: str) -> Mapping[str, AssetClass]:
    if not isinstance(raw, Mapping):
        raise BlueprintError(f"{where}: is {raw!r}; give a mapping class -> {{life_years, om_fraction}}")
    merged = dict(base)
    for name, fields in raw.items():
        if name not in ASSET_CLASSES:
            raise BlueprintError(f"{where}.{name}: is not an asset class; {did_you_mean(str(name), ASSET_CLASSES)}")
        if not isinstance(fields, Mapping):
            raise BlueprintError(f"{where}.{name}: is {fields!r}; give life_years, om_fraction")
        changes = {}
        for key, value in fields.items():
            if key not in CLASS_FIELDS:
                raise BlueprintError(f"{where}.{name}.{key}: is not an asset-class field; {did_you_mean(str(key), CLASS_FIELDS)}")
            changes[key] = _num(value, f"{where}.{name}.{key}", 1.0 if key == "life_years" else 0.0)
        merged[name] = dataclasses.replace(merged[name], **changes)
    return MappingProxyType(merged)


def default_finance() -> Finance:
    """The packaged finance defaults (twin/data/market.yaml `finance:`)."""
    from twin.economics.market import _packaged

    return parse_finance(_packaged()["finance"], where="twin/data/market.yaml: finance")


def finance_for(site: Mapping[str, Any]) -> Finance:
    """The site's finance: packaged defaults, the site's `electricity_usd_per_kwh` attribute, then `site.finance`."""
    out = default_finance()
    if site.get("electricity_usd_per_kwh") is not None:
        out = dataclasses.replace(out, electricity_usd_per_kwh=_num(site["electricity_usd_per_kwh"],
                                                                     "site.electricity_usd_per_kwh", 0.0))
    own = site.get("finance")
    return parse_finance(own, out) if own else out


__all__ = ["Finance", "AssetClass", "ASSET_CLASSES", "crf", "parse_finance", "default_finance", "finance_for"]
