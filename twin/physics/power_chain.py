"""Power-chain losses, stage by stage: P_in = input_power(P_out, rating) from the catalog's efficiency curves.

Each catalog `PowerEquipment.input_power` already holds the no-load loss (its curve's floor), so nothing
is added on top. Devices whose kind has no loss model in the catalog (grid, generator, battery) pass
power through unchanged; a device without a `model` attribute uses DEFAULT_MODEL for its kind. A
substation is modelled with the MV transformer curve (assumption: no HV/MV transformer in the catalog).

>>> from twin.catalog import default_catalog
>>> r = chain_losses(default_catalog(), [Stage("busway", 1000), Stage("ups_double_conversion", 1000, 2)], 800.0)
>>> round(float(r["losses_kw"]), 1)
44.8
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np

from twin.physics import PhysicsError

if TYPE_CHECKING:
    from twin.catalog import Catalog, PowerEquipment

DEFAULT_MODEL = {
    "substation": "transformer_mv",
    "transformer": "transformer_mv",
    "ups": "ups_double_conversion",
    "switchboard": "switchboard",
    "busway": "busway",
    "pdu": "pdu",
}
LOSSLESS_KINDS = frozenset({"grid", "generator", "battery"})


class Stage(NamedTuple):
    """One stage of a serial chain: catalog equipment id (None = lossless), rating per member, members sharing."""

    model: str | None
    rating_kw: float
    members: int = 1


def equipment_for(catalog: Catalog, kind: str, model: Any = None) -> PowerEquipment | None:
    """The catalog loss model of a power device: its `model`, else the default for its kind, else lossless."""
    if isinstance(model, str) and model:
        if model in catalog.power_equipment:
            return catalog.equipment(model)
        if model in catalog.heat_rejection_units:
            raise PhysicsError(f"power device model {model!r} is a heat-rejection unit, not power equipment")
        return catalog.equipment(model)  # raises UnknownEntry with a suggestion
    if kind in LOSSLESS_KINDS:
        return None
    default = DEFAULT_MODEL.get(kind)
    return catalog.equipment(default) if default is not None else None


def stage_input_kw(equipment: PowerEquipment | None, p_out_kw: Any, rating_kw: Any) -> Any:
    """Input power of one device delivering `p_out_kw` (lossless when `equipment` is None); vectorized."""
    if equipment is None:
        return np.asarray(p_out_kw, dtype=float) * 1.0
    return equipment.input_power(p_out_kw, rating_kw)


def chain_losses(catalog: Catalog, stages: Sequence[Stage | tuple], p_out_kw: Any) -> dict[str, Any]:
    """Walk a serial chain from the load (first stage) to the grid (last), splitting each stage's load
    equally over its members. Returns input_kw, losses_kw and stage_input_kw (one array per stage).
    """
    p = np.asarray(p_out_kw, dtype=float)
    if np.any(p < 0) or not np.all(np.isfinite(p)):
        raise PhysicsError("p_out_kw must be finite and >= 0 (the load the chain delivers, kW)")
    inputs = []
    for raw in stages:
        stage = Stage(*raw)
        if stage.members < 1 or not stage.rating_kw > 0:
            raise PhysicsError(f"stage {stage!r}: members must be >= 1 and rating_kw > 0")
        eq = None if stage.model is None else catalog.equipment(stage.model)
        p = stage.members * np.asarray(stage_input_kw(eq, p / stage.members, stage.rating_kw))
        inputs.append(p)
    p_in = p
    losses = p_in - np.asarray(p_out_kw, dtype=float)
    return {"input_kw": p_in, "losses_kw": losses, "stage_input_kw": inputs}


def input_power_by_model(
    catalog: Catalog, models: Sequence[PowerEquipment | None], p_out_kw: np.ndarray, rating_kw: np.ndarray,
    groups: dict | None = None,
) -> np.ndarray:
    """Input power of many devices at once: p_out_kw is (time, device); devices grouped by loss model."""
    out = np.array(p_out_kw, dtype=float, copy=True)
    groups = groups if groups is not None else group_by_model(models)
    for eq, idx in groups.items():
        if eq is None:
            continue
        out[:, idx] = eq.input_power(p_out_kw[:, idx], rating_kw[idx])
    return out


def group_by_model(models: Sequence[PowerEquipment | None]) -> dict:
    """Device column indices per loss model (None = lossless)."""
    groups: dict = {}
    for i, eq in enumerate(models):
        groups.setdefault(eq, []).append(i)
    return {eq: np.asarray(idx) for eq, idx in groups.items()}


__all__ = [
    "DEFAULT_MODEL", "LOSSLESS_KINDS", "Stage", "equipment_for", "stage_input_kw", "chain_losses",
    "input_power_by_model", "group_by_model",
]
