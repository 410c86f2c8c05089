"""SimReady `aif:core:*` / `aif:spec:*` attributes of racks and devices, from the graph and the catalog.

Only what the twin knows is written: identity and class, the SimReady version, a description and the catalog
source as documentation link, rack dimensions (mm) and weight, and the per-class figures the twin holds (a
compute rack's nameplate power, GPU count and liquid/air heat split; a CDU's, CRAH's or rear door's rated
cooling capacity; a UPS's rating). The many datasheet fields the twin has no figure for (pump curves,
voltages, filter sizes, ...) are left out rather than guessed, so SimReady's AM.007 check reports them missing.
"""

from __future__ import annotations

from typing import Any

from twin.usd.schema import AIF_CORE, AIF_SPEC, ASSET_CLASS, SIMREADY_VERSION

COOLING_SPEC = {"cdu": "nominalCoolingCapacity", "crah": "nominalCoolingCapacity", "rdhx": "nominalCoolingCapacity",
                "ups": "upsRating"}
"""Device kind -> the `aif:spec:` attribute its `rating_kw` fills (kW, as in the SimReady examples)."""


def _core(kind: str, description: str, documentation: str | None) -> dict[str, tuple[str, Any]]:
    out = {
        AIF_CORE + "assetClass": ("string", ASSET_CLASS[kind]),
        AIF_CORE + "simreadyVersion": ("string", SIMREADY_VERSION),
        AIF_CORE + "assetDescription": ("string", description),
    }
    if documentation:
        out[AIF_CORE + "connectsToModelDocumentation"] = ("string", documentation)
    return out


def dimensions(width_m: float, depth_m: float, height_m: float) -> dict[str, tuple[str, Any]]:
    """SimReady's dimensions: mm, and the W x D x H triple."""
    w, d, h = (float(v) * 1000.0 for v in (width_m, depth_m, height_m))
    return {AIF_CORE + "width": ("float", w), AIF_CORE + "depth": ("float", d), AIF_CORE + "height": ("float", h),
            AIF_CORE + "overallGeometryDimensions": ("float3", (w, d, h))}


def rack(row: Any, catalog: Any) -> dict[str, tuple[str, Any]]:
    """A compute rack's metadata from its rack-table row (system, nodes, gpus, nameplate, cooling, dims)."""
    system = row.get("system")
    spec = catalog.systems.get(system) if isinstance(system, str) else None
    kw = float(row.get("nameplate_kw") or 0.0)
    liquid = float(row.get("liquid_fraction") or 0.0)
    gpus = int(row.get("gpus") or 0)
    cooling = row.get("cooling")
    if spec is None:
        text = "empty rack position" if system is None else f"rack of system {system!r} (not in the catalog)"
    else:
        text = f"{spec.name}, {row.get('nodes')} nodes, {gpus} GPUs, {kw:,.1f} kW nameplate, {cooling} cooling"
    out = _core("rack", text, spec.source[0] if spec is not None and spec.source else None)
    if spec is not None:
        out[AIF_CORE + "manufacturer"] = ("string", spec.vendor)
        out[AIF_CORE + "modelNumber"] = ("string", spec.name)
        out[AIF_CORE + "weight"] = ("float", float(spec.rack_weight_kg))
    out.update(dimensions(row["width_m"], row["depth_m"], row["height_m"]))
    out.update({
        AIF_SPEC + "namePlatePower": ("int", int(round(kw * 1000.0))),
        AIF_SPEC + "numGPUs": ("int", gpus),
        AIF_SPEC + "heatCaptureRatio": ("float", liquid * 100.0),
        AIF_SPEC + "liquidCooling": ("float", kw * liquid),
        AIF_SPEC + "airCooling": ("float", kw * (1.0 - liquid)),
    })
    return out


def device(kind: str, attrs: dict[str, Any], catalog: Any) -> dict[str, tuple[str, Any]]:
    """A device's metadata: its catalog model's name and source where it names one, its rated capacity."""
    model = attrs.get("model")
    entry = _entry(catalog, kind, model) if isinstance(model, str) else None
    text = entry.name if entry is not None else kind.replace("_", " ")
    rating = attrs.get("rating_kw")
    if isinstance(rating, (int, float)) and not isinstance(rating, bool):
        text += f", rated {float(rating):,.0f} kW"
    out = _core(kind, text, entry.source[0] if entry is not None and entry.source else None)
    if kind in COOLING_SPEC and isinstance(rating, (int, float)) and not isinstance(rating, bool):
        out[AIF_SPEC + COOLING_SPEC[kind]] = ("float", float(rating))
    if all(isinstance(attrs.get(k), (int, float)) for k in ("width_m", "depth_m", "height_m")):
        out.update(dimensions(attrs["width_m"], attrs["depth_m"], attrs["height_m"]))
    return out


def _entry(catalog: Any, kind: str, model: str) -> Any:
    for section in (catalog.power_equipment, catalog.heat_rejection_units):
        if model in section:
            return section[model]
    return None
