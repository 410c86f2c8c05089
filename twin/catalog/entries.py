"""Catalog entry types: frozen dataclasses carrying sources, evidence and vectorized helpers.

Each class lists its numeric fields in `SCHEMA` (kind and sane range) so loading can validate and
coerce any user file the same way as the packaged data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Mapping, NamedTuple

import numpy as np

from twin.errors import CatalogError

EVIDENCE_TAGS: frozenset[str] = frozenset({
    "measured", "standard", "official_statistics", "vendor_spec", "vendor_claim",
    "analyst_estimate", "secondary", "assumption", "calibrated",
})


class Spec(NamedTuple):
    """How one field is read: its kind, allowed range or choices, and whether it may be absent."""

    kind: str  # text | choice | int | ints | num | ids | curve | nummap
    lo: float = -math.inf
    hi: float = math.inf
    choices: tuple[str, ...] = ()
    optional: bool = False


def num(lo: float, hi: float, optional: bool = False) -> Spec:
    return Spec("num", lo, hi, optional=optional)


def integer(lo: float, hi: float) -> Spec:
    return Spec("int", lo, hi)


def choice(*options: str) -> Spec:
    return Spec("choice", choices=options)


_EMPTY: Mapping[str, Mapping[str, str]] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Entry:
    """Common part of every catalog entry: identity, sources, evidence and per-field provenance."""

    id: str
    name: str
    source: tuple[str, ...]
    evidence: str
    provenance: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: _EMPTY)
    note: str = ""

    SECTION: ClassVar[str] = ""
    SCHEMA: ClassVar[dict[str, Spec]] = {}

    def evidence_of(self, name: str) -> str:
        """Evidence tag of one field: its own provenance record if any, else the entry's."""
        return self.provenance.get(name, {}).get("evidence", self.evidence)

    def source_of(self, name: str) -> tuple[str, ...]:
        """Sources of one field (its provenance record's, else the entry's)."""
        rec = self.provenance.get(name)
        return tuple(rec["source"].split()) if rec else self.source


@dataclass(frozen=True, kw_only=True)
class System(Entry):
    """A GPU product as deployed in racks: power, cooling compatibility, compute and price."""

    vendor: str
    form: str
    gpus_per_node: int
    nodes_per_rack: tuple[int, ...]
    gpu_tdp_w: float
    gpu_idle_w: float
    node_overhead_w: float
    rack_overhead_w: float
    cooling: tuple[str, ...]
    liquid_heat_fraction: float
    max_coolant_supply_c: float | None
    max_inlet_air_c: float
    nvlink_domain_gpus: int
    hbm_gb: float
    fp8_dense_pflops: float
    fp4_dense_pflops: float
    capex_usd_per_gpu: float
    rack_width_m: float
    rack_depth_m: float
    rack_weight_kg: float
    throughput_system: str
    throughput_multiplier: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    gpu_full_load_w: float | None = None

    SECTION: ClassVar[str] = "systems"
    SCHEMA: ClassVar[dict[str, Spec]] = {
        "vendor": Spec("text"),
        "form": choice("rack", "node"),
        "gpus_per_node": integer(1, 1024),
        "nodes_per_rack": Spec("ints", 1, 512),
        "gpu_tdp_w": num(50, 10_000),
        "gpu_idle_w": num(0, 10_000),
        "node_overhead_w": num(0, 200_000),
        "rack_overhead_w": num(0, 1_000_000),
        "cooling": Spec("ids"),
        "liquid_heat_fraction": num(0, 1),
        "max_coolant_supply_c": num(5, 80, optional=True),
        "max_inlet_air_c": num(10, 60),
        "nvlink_domain_gpus": integer(1, 1_000_000),
        "hbm_gb": num(1, 100_000),
        "fp8_dense_pflops": num(0, 10_000),
        "fp4_dense_pflops": num(0, 10_000),
        "capex_usd_per_gpu": num(0, 10_000_000),
        "rack_width_m": num(0.3, 3),
        "rack_depth_m": num(0.3, 3),
        "rack_weight_kg": num(10, 20_000),
        "throughput_system": Spec("text", optional=True),
        "throughput_multiplier": Spec("nummap", 0.01, 1000, optional=True),
        "gpu_full_load_w": num(1, 10_000, optional=True),
    }

    def gpus_per_rack(self, nodes: Any) -> Any:
        """GPUs in a rack holding `nodes` nodes (scalar or array)."""
        return np.asarray(nodes) * self.gpus_per_node if np.ndim(nodes) else int(nodes) * self.gpus_per_node

    @property
    def full_load_w(self) -> float:
        """GPU power at full utilization when the cap does not bind: `gpu_full_load_w`, else the TDP."""
        return self.gpu_tdp_w if self.gpu_full_load_w is None else self.gpu_full_load_w

    def rack_power_kw(self, nodes: Any, cap_w: Any) -> Any:
        """Rack input power (kW) at full utilization with every GPU capped at `cap_w`; vectorized."""
        n = np.asarray(nodes, dtype=float)
        kw = n * (self.gpus_per_node * np.asarray(cap_w, dtype=float) + self.node_overhead_w) / 1000.0
        kw = kw + np.where(n > 0, self.rack_overhead_w / 1000.0, 0.0)
        return float(kw) if np.ndim(kw) == 0 else kw


@dataclass(frozen=True, kw_only=True)
class CoolingTech(Entry):
    """An in-hall cooling technology: how much heat it takes to liquid, rack limit, temperatures."""

    medium: str
    unit_kind: str
    liquid_heat_fraction: float
    max_rack_kw: float
    supply_temp_c: float
    facility_supply_c: float
    unit_power_kw_per_kw: float
    capex_usd_per_kw: float
    unit_min_flow: float | None = None
    unit_fixed_head: float | None = None
    fan_pressure_pa: float | None = None
    fan_efficiency: float | None = None
    air_dt_c: float | None = None

    SECTION: ClassVar[str] = "cooling"
    SCHEMA: ClassVar[dict[str, Spec]] = {
        "medium": choice("air", "liquid"),
        "unit_kind": choice("crah", "rdhx", "cdu"),
        "liquid_heat_fraction": num(0, 1),
        "max_rack_kw": num(1, 5_000),
        "supply_temp_c": num(5, 80),
        "facility_supply_c": num(0, 80),
        "unit_power_kw_per_kw": num(0, 0.5),
        "capex_usd_per_kw": num(0, 100_000),
        "unit_min_flow": num(0, 1, optional=True),
        "unit_fixed_head": num(0, 1, optional=True),
        "fan_pressure_pa": num(10, 5000, optional=True),
        "fan_efficiency": num(0.1, 1, optional=True),
        "air_dt_c": num(2, 40, optional=True),
    }

    #: air density x specific heat, J/(m3 K) (1.2 kg/m3 x 1006 J/kg K, reference/cooling_physics.yaml)
    RHO_CP_AIR: ClassVar[float] = 1.2 * 1006.0

    def fan_kw_per_kw(self, air_dt_c: Any = None) -> Any:
        """Fan power per kW of heat from airflow: dp / (eta rho cp dT); dT defaults to the entry's `air_dt_c`.

        Air moved per kW of heat is 1 / (rho cp dT), so a narrower supply/return difference needs more air
        and more fan power. Without fan figures the entry's `unit_power_kw_per_kw` is returned.
        """
        if self.fan_pressure_pa is None or self.fan_efficiency is None or self.air_dt_c is None:
            return self.unit_power_kw_per_kw
        dt = self.air_dt_c if air_dt_c is None else np.asarray(air_dt_c, dtype=float)
        out = self.fan_pressure_pa / (self.fan_efficiency * self.RHO_CP_AIR * dt)
        return float(out) if np.ndim(out) == 0 else out


def _interp(x: Any, points: tuple[tuple[float, float], ...]) -> Any:
    xs, ys = zip(*points)
    out = np.interp(np.asarray(x, dtype=float), xs, ys)
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True, kw_only=True)
class PowerEquipment(Entry):
    """A power-chain stage: losses as no-load + proportional + square-law terms, or an efficiency curve.

    Loss terms (fractions of the rating R, at output P): loss = P0 R + b P + Pk P^2 / R, the reduced-order
    form of reference/cooling_physics.yaml (transformers: P0 + Pk x^2; UPS: three terms). An entry gives
    either `load_loss_fraction` (with `fixed_loss_fraction` = P0 and optional `proportional_loss_fraction`)
    or an `efficiency_curve` of measured points.
    """

    kind: str
    efficiency_curve: tuple[tuple[float, float], ...] | None
    fixed_loss_fraction: float
    proportional_loss_fraction: float | None
    load_loss_fraction: float | None
    capex_usd_per_kw: float

    SECTION: ClassVar[str] = "power_equipment"
    SCHEMA: ClassVar[dict[str, Spec]] = {
        "kind": choice("transformer", "ups", "switchboard", "busway", "pdu", "psu", "dc_800v"),
        "efficiency_curve": Spec("curve", 0.5, 1.0, optional=True),
        "fixed_loss_fraction": num(0, 0.2),
        "proportional_loss_fraction": num(0, 0.2, optional=True),
        "load_loss_fraction": num(0, 0.2, optional=True),
        "capex_usd_per_kw": num(0, 100_000),
    }

    @property
    def has_loss_terms(self) -> bool:
        return self.load_loss_fraction is not None

    def loss_fraction(self, load_fraction: Any) -> Any:
        """Loss per unit of rating at an output load fraction x (terms form): P0 + b x + Pk x^2."""
        x = np.asarray(load_fraction, dtype=float)
        out = self.fixed_loss_fraction + (self.proportional_loss_fraction or 0.0) * x + self.load_loss_fraction * x * x
        return float(out) if np.ndim(out) == 0 else out

    def efficiency(self, load_fraction: Any) -> Any:
        """Total efficiency P_out / P_in at an output load fraction (curve: interpolated and clamped)."""
        if not self.has_loss_terms:
            return _interp(load_fraction, self.efficiency_curve)
        x = np.asarray(load_fraction, dtype=float)
        loss = np.asarray(self.loss_fraction(x))
        out = np.divide(x, x + loss, out=np.zeros(np.broadcast(x, loss).shape), where=x + loss > 0)
        return float(out) if np.ndim(out) == 0 else out

    def input_power(self, p_out: Any, rating: Any) -> Any:
        """Input power for output `p_out` on a stage rated `rating` (same units); vectorized.

        Terms: P_in = P_out + (P0 R + b P_out + Pk P_out^2 / R). Curve: the curve already contains the
        no-load loss, which is only the floor at light load:
        P_in = max(P_out / efficiency(P_out / rating), P_out + fixed_loss_fraction * rating).
        """
        p = np.asarray(p_out, dtype=float)
        r = np.asarray(rating, dtype=float)
        x = np.divide(p, r, out=np.zeros(np.broadcast(p, r).shape), where=r > 0)
        if self.has_loss_terms:
            out = p + r * np.asarray(self.loss_fraction(x))
        else:
            out = np.maximum(p / np.asarray(self.efficiency(x)), p + self.fixed_loss_fraction * r)
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True, kw_only=True)
class HeatRejection(Entry):
    """Plant that rejects heat to ambient: approach, auxiliary power, chiller COP, water use."""

    kind: str
    ambient_basis: str
    approach_c: float
    fan_pump_kw_per_kw: float
    cop_rated: float | None
    cop_rated_condenser_c: float | None
    cop_rated_supply_c: float | None
    cop_slope_per_c: float | None
    water_l_per_kwh: float
    capex_usd_per_kw: float
    fan_share: float | None = None
    constant_pump_share: float | None = None
    eir_part_load: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    cycles_of_concentration: float | None = None
    range_c: float | None = None
    adiabatic_effectiveness: float | None = None
    air_range_c: float | None = None

    SECTION: ClassVar[str] = "heat_rejection"
    SCHEMA: ClassVar[dict[str, Spec]] = {
        "kind": choice("dry_cooler", "cooling_tower", "chiller"),
        "ambient_basis": choice("dry_bulb", "wet_bulb"),
        "approach_c": num(0, 40),
        "fan_pump_kw_per_kw": num(0, 0.5),
        "cop_rated": num(1, 30, optional=True),
        "cop_rated_condenser_c": num(-20, 70, optional=True),
        "cop_rated_supply_c": num(-10, 50, optional=True),
        "cop_slope_per_c": num(0, 0.2, optional=True),
        "water_l_per_kwh": num(0, 20),
        "capex_usd_per_kw": num(0, 100_000),
        "fan_share": num(0, 1, optional=True),
        "constant_pump_share": num(0, 1, optional=True),
        "eir_part_load": Spec("nummap", -5, 5, optional=True),
        "cycles_of_concentration": num(1.5, 50, optional=True),
        "range_c": num(1, 30, optional=True),
        "adiabatic_effectiveness": num(0, 1, optional=True),
        "air_range_c": num(1, 40, optional=True),
    }

    #: the linear lift model is only trusted within this band of the rated COP (assumption)
    COP_FACTOR_RANGE: ClassVar[tuple[float, float]] = (0.3, 2.5)

    def cop(self, condenser_c: Any, supply_c: Any = None) -> Any:
        """Chiller COP at a condenser temperature (°C; ambient basis + approach) and chilled supply.

        COP = COP_rated * (1 - slope * (lift - lift_rated)), lift = condenser - supply, clipped to
        COP_FACTOR_RANGE of the rated value; vectorized.
        """
        if self.cop_rated is None:
            raise CatalogError(f"heat rejection {self.id!r} is a {self.kind}, not a chiller: it has no COP")
        supply = self.cop_rated_supply_c if supply_c is None else np.asarray(supply_c, dtype=float)
        lift = np.asarray(condenser_c, dtype=float) - supply
        rated_lift = self.cop_rated_condenser_c - self.cop_rated_supply_c
        factor = np.clip(1.0 - self.cop_slope_per_c * (lift - rated_lift), *self.COP_FACTOR_RANGE)
        out = self.cop_rated * factor
        return float(out) if np.ndim(out) == 0 else out

    def part_load_factor(self, plr: Any) -> Any:
        """Compressor kW per kW at a part-load ratio over kW per kW at full load (DOE-2 EIR-fPLR / PLR).

        EIR-fPLR = a + b PLR + c PLR^2 (`eir_part_load`, equal to 1 at PLR 1); below `min_plr` the chiller
        cycles at its minimum, so the ratio stays at its value there. 1 everywhere without a curve.
        """
        x = np.asarray(plr, dtype=float)
        if not self.eir_part_load:
            return np.ones(x.shape) if x.ndim else 1.0
        k = self.eir_part_load
        x = np.clip(x, k.get("min_plr", 0.1), 1.0)
        out = (k["a"] + k["b"] * x + k["c"] * x * x) / x
        return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True, kw_only=True)
class Tier(Entry):
    """A token tier: minimum interactivity and TTFT a request needs, and its price."""

    min_interactivity_tok_s_user: float
    max_ttft_s: float
    price_usd_per_mtok: float
    input_price_usd_per_mtok: float

    SECTION: ClassVar[str] = "tiers"
    SCHEMA: ClassVar[dict[str, Spec]] = {
        "min_interactivity_tok_s_user": num(0, 100_000),
        "max_ttft_s": num(0, 1e7),
        "price_usd_per_mtok": num(0, 100_000),
        "input_price_usd_per_mtok": num(0, 100_000),
    }


@dataclass(frozen=True, kw_only=True)
class PowerCapCurve(Entry):
    """Throughput fraction vs GPU power cap (fraction of TDP): concave, 1.0 at TDP."""

    points: tuple[tuple[float, float], ...]
    min_cap_fraction: float

    SECTION: ClassVar[str] = "power_cap_curves"
    SCHEMA: ClassVar[dict[str, Spec]] = {
        "points": Spec("curve", 0.0, 1.0),
        "min_cap_fraction": num(0.01, 1),
    }

    def factor(self, cap_fraction: Any) -> Any:
        """Throughput fraction at a cap (fraction of TDP), interpolated; outside [min, 1] is an error."""
        c = np.asarray(cap_fraction, dtype=float)
        bad = (c < self.min_cap_fraction - 1e-9) | (c > 1.0 + 1e-9) | ~np.isfinite(c)
        if np.any(bad):
            worst = c[bad] if c.ndim else c
            raise CatalogError(
                f"power cap fraction {np.ravel(worst)[0]:g} is outside {self.min_cap_fraction:g}-1.0 "
                f"for power-cap curve {self.id!r}; cap GPUs between {self.min_cap_fraction:.0%} and 100% of TDP"
            )
        return _interp(c, self.points)


ENTRY_TYPES: dict[str, type[Entry]] = {
    cls.SECTION: cls for cls in (System, CoolingTech, PowerEquipment, HeatRejection, Tier, PowerCapCurve)
}


def _hash_entry(self: Entry) -> int:
    """Entries compare by value; they hash by identity fields because mapping fields are unhashable."""
    return hash((type(self).__name__, self.id, self.source, self.evidence))


for _cls in ENTRY_TYPES.values():
    _cls.__hash__ = _hash_entry  # type: ignore[method-assign]
