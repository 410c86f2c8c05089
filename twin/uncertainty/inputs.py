"""The uncertain inputs of a facility: each catalog entry (and market, price, weather and utilization figure) a
run depends on, with the spread its evidence tag implies, overridable per input, per family and per tag.

An input is named `family[entry]` (`capex[gb200_nvl72]`, `chiller_cop[chiller_water_cooled]`) or `family`
(`electricity_price`, `weather`). Overrides (`spreads`) take a full name or a family name (every entry of that
family); `widths` replaces the default half-width of an evidence tag.

>>> from twin.catalog import default_catalog
>>> ins = catalog_inputs(default_catalog(), systems=["gb200_nvl72"], coolings=[], equipment=[], plants=[])
>>> [i.name for i in ins][:3]
['throughput[gb200_nvl72]', 'node_power[gb200_nvl72]', 'gpu_idle[gb200_nvl72]']
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from twin.errors import TwinError, did_you_mean
from twin.uncertainty.spreads import (
    THROUGHPUT_HALF_WIDTH, UTILIZATION_HALF_WIDTH, WEATHER_OFFSET_C, Spread, as_spread, tag_spread,
)

if TYPE_CHECKING:
    from twin.catalog import Catalog

LOSS_FIELDS = ("fixed_loss_fraction", "proportional_loss_fraction", "load_loss_fraction")
ELECTRICITY_SOURCE = "https://www.eia.gov/electricity/annual/secrev-map.php"


@dataclass(frozen=True)
class Input:
    """One uncertain input: what it scales (catalog section, entry id and fields) or shifts, and its spread."""

    name: str
    label: str
    spread: Spread
    evidence: str
    source: tuple[str, ...] = ()
    section: str = ""                 # catalog section of a catalog input ('' for the others)
    entry: str = ""
    fields: tuple[str, ...] = ()
    kind: str = "factor"              # factor (x the value) or offset (+ the value, in its unit)
    unit: str = "1"

    @property
    def family(self) -> str:
        return self.name.split("[", 1)[0]

    @property
    def median(self) -> float:
        return self.spread.median


# family: (section, fields, label, evidence field)
CATALOG_FAMILIES: Mapping[str, tuple[str, tuple[str, ...], str, str]] = {
    "throughput": ("systems", (), "tokens/s per GPU of", ""),
    "node_power": ("systems", ("node_overhead_w",), "non-GPU node power of", "node_overhead_w"),
    "gpu_idle": ("systems", ("gpu_idle_w",), "GPU idle power of", "gpu_idle_w"),
    "capex": ("systems", ("capex_usd_per_gpu",), "system price per GPU of", "capex_usd_per_gpu"),
    "cooling_units": ("cooling", ("unit_power_kw_per_kw", "fan_pressure_pa"), "in-hall unit power (fans, pumps) of",
                      "unit_power_kw_per_kw"),            # a CRAH's fan power follows its pressure: both move
    "cooling_capex": ("cooling", ("capex_usd_per_kw",), "capex per kW of", "capex_usd_per_kw"),
    "chain_losses": ("power_equipment", LOSS_FIELDS, "losses of", "load_loss_fraction"),
    "plant_fans": ("heat_rejection", ("fan_pump_kw_per_kw",), "fans and pumps of", "fan_pump_kw_per_kw"),
    "chiller_cop": ("heat_rejection", ("cop_rated",), "rated COP of", "cop_rated"),
}
GLOBAL_FAMILIES = ("electricity_price", "token_price", "demand", "gpu_hour_price", "utilization", "weather",
                   "capex_plant")


def catalog_inputs(catalog: Catalog, *, systems: Iterable[str], coolings: Iterable[str], equipment: Iterable[str],
                   plants: Iterable[str], families: Sequence[str] | None = None,
                   widths: Mapping[str, float] | None = None) -> list[Input]:
    """Inputs for the catalog entries a run uses, each with its field's evidence tag and source."""
    want = families or tuple(CATALOG_FAMILIES)
    ids = {"systems": list(dict.fromkeys(systems)), "cooling": list(dict.fromkeys(coolings)),
           "power_equipment": list(dict.fromkeys(equipment)), "heat_rejection": list(dict.fromkeys(plants))}
    getters = {"systems": catalog.system, "cooling": catalog.cooling_tech, "power_equipment": catalog.equipment,
               "heat_rejection": catalog.heat_rejection}
    out: list[Input] = []
    for section in ("systems", "cooling", "power_equipment", "heat_rejection"):
        for ident in ids[section]:
            entry = getters[section](ident)
            for family in want:
                sec, fields, label, field_for_evidence = CATALOG_FAMILIES[family]
                if sec != section:
                    continue
                if family == "throughput":
                    out.append(_throughput_input(catalog, entry, widths))
                    continue
                present = tuple(f for f in fields if getattr(entry, f, None) is not None)
                if not present or (family == "chain_losses" and entry.load_loss_fraction is None):
                    continue                # curve-form equipment keeps its measured curve
                tag = entry.evidence_of(field_for_evidence)
                out.append(Input(f"{family}[{ident}]", f"{label} {ident}", tag_spread(tag, widths), tag,
                                 entry.source_of(field_for_evidence), section, ident, present))
    return out


def _throughput_input(catalog: Catalog, system: Any, widths: Mapping[str, float] | None) -> Input:
    """Measured curves move with software releases; derived curves (multipliers) are claims."""
    derived = system.throughput_system != system.id
    if derived or (widths and "throughput" in widths):
        tag = "vendor_claim" if derived else "measured"
        spread = tag_spread(tag, {"measured": widths["throughput"]} if widths and "throughput" in widths else widths)
    else:
        tag, spread = "measured", Spread(THROUGHPUT_HALF_WIDTH[0], why=THROUGHPUT_HALF_WIDTH[1])
    return Input(f"throughput[{system.id}]", f"tokens/s per GPU of {system.id} (serving-software vintage)", spread, tag,
                 system.source, "systems", system.id, ())


def global_inputs(families: Sequence[str], *, tier_evidence: str = "vendor_spec",
                  widths: Mapping[str, float] | None = None) -> list[Input]:
    """Inputs that are not one catalog entry: prices, demand, utilization and weather."""
    made = {
        "electricity_price": lambda: Input("electricity_price", "electricity price", tag_spread("official_statistics", widths),
                                           "official_statistics", (ELECTRICITY_SOURCE,)),
        "token_price": lambda: Input("token_price", "token list prices (every tier)", tag_spread(tier_evidence, widths),
                                     tier_evidence),
        "demand": lambda: Input("demand", "token demand (every tier)", tag_spread("assumption", widths), "assumption"),
        "gpu_hour_price": lambda: Input("gpu_hour_price", "GPU-hour prices", tag_spread("analyst_estimate", widths),
                                        "analyst_estimate"),
        "capex_plant": lambda: Input("capex_plant", "power-chain and building capex per kW",
                                     tag_spread("analyst_estimate", widths), "analyst_estimate"),
        "utilization": lambda: Input("utilization", "utilization of serving capacity",
                                     Spread(UTILIZATION_HALF_WIDTH[0], why=UTILIZATION_HALF_WIDTH[1]), "assumption"),
        "weather": lambda: Input("weather", "ambient temperature offset from the typical year",
                                 Spread(WEATHER_OFFSET_C[0], center=0.0, why=WEATHER_OFFSET_C[1]), "assumption",
                                 kind="offset", unit="degC"),
    }
    unknown = [f for f in families if f not in made]
    if unknown:
        raise TwinError(f"unknown input family {unknown[0]!r}; {did_you_mean(unknown[0], made)}")
    return [made[f]() for f in families]


def overridden(inputs: Sequence[Input], spreads: Mapping[str, Any] | None) -> list[Input]:
    """The inputs with user spreads applied: a full name overrides one input, a family name all of its entries;
    a spread of 0 fixes the input at its median. Unknown names raise, naming the known ones."""
    if not spreads:
        return list(inputs)
    names = {i.name for i in inputs}
    families = {i.family for i in inputs}
    for key in spreads:
        if key not in names and key not in families:
            raise TwinError(f"spread for {key!r}: no such uncertain input in this run; "
                            f"{did_you_mean(key, sorted(names | families))}")
    out = []
    for i in inputs:
        value = spreads.get(i.name, spreads.get(i.family))
        out.append(i if value is None else replace(i, spread=as_spread(value, i.spread.center, i.name)))
    return out


def catalog_overlay(catalog: Catalog, inputs: Sequence[Input], values: Sequence[float]) -> Catalog:
    """A new catalog with each catalog input's fields multiplied by its sampled factor (the same evidence tags and
    sources, noted as sampled), or the same catalog when no catalog field moves."""
    getters = {"systems": catalog.system, "cooling": catalog.cooling_tech, "power_equipment": catalog.equipment,
               "heat_rejection": catalog.heat_rejection}
    doc: dict[str, dict[str, dict]] = {}
    for i, v in zip(inputs, values):
        if not i.fields or v == 1.0:
            continue
        entry = getters[i.section](i.entry)
        rec = doc.setdefault(i.section, {}).setdefault(i.entry, {
            "id": i.entry, "source": list(entry.source), "evidence": entry.evidence, "provenance": {}})
        for f in i.fields:
            rec[f] = float(getattr(entry, f)) * float(v)
            tag = entry.evidence_of(f)
            rec["provenance"][f] = {"evidence": tag, "source": " ".join(entry.source_of(f)),
                                    "note": f"sampled: catalog value x {float(v):.4g} (twin.uncertainty)"}
    if not doc:
        return catalog
    return catalog.extend({section: list(entries.values()) for section, entries in doc.items()})


__all__ = ["Input", "catalog_inputs", "global_inputs", "overridden", "catalog_overlay", "CATALOG_FAMILIES",
           "GLOBAL_FAMILIES"]
