"""The USD vocabulary the twin reads and writes: prim names, asset classes, connection-point kinds, our namespace.

Pure Python (no `pxr`), so the mapping can be read, tested and documented on its own. Sources:
SimReady Foundation AIF tier 2026.8.0 (PyPI `simready-foundation-tier-aif`): `aif:core:*` metadata (AM.001-AM.007),
per-class `aif:spec:*` lists (`config/aif-equipment-{cdu,crah,ups,compute-rack}.json`), the v0.2.0 connection-point
property vocabulary (CP.010-CP.012: an Xform with `purpose = "guide"` under a `ConnectionPoints` scope that is a
direct child of the asset prim, carrying `simready:connectionPoint:*` properties). The spec leaves binding one
connection point to another to the tool ("outside v0.2.0"); ours is the `twin:connectedTo` relationship.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from twin.graph import PLANT_KINDS, UNIT_KINDS

FORMAT = "twin-usd/1"
SIMREADY_VERSION = "0.2.0"
"""The connection points follow the v0.2.0 property vocabulary, so assets say so (AM.005)."""

NS = "twin:"
"""Our own namespace: every graph attribute, id and link lives under it, so a stage round-trips exactly."""
ID = "twin:id"
KIND = "twin:kind"
GPUS = "twin:gpus"
OTHER_ATTRIBUTES = "twin:otherAttributes"
OTHER_EDGES = "twin:otherEdges"
OTHER_NODES = "twin:otherNodes"
FACILITY = "twin:facility:"
END = "twin:end"
PAIRED = "paired"
"""`twin:end` of a loop's other line (a supply pipe, an air intake): part of the equipment, carrying no link."""
EDGE_KIND = "twin:edgeKind"
CONNECTED_TO = "twin:connectedTo"
MEMBERS = "twin:members"
ROLE = "twin:role"
IDS = "twin:ids"
STATE = "twin:state:"
RESERVED = frozenset({"id", "kind", "gpus", "otherAttributes", "otherEdges", "otherNodes", "end", "edgeKind",
                      "connectedTo", "members", "role", "ids", "facility", "state"})
"""Names under `twin:` that are ours; a node attribute with one of these names goes into `twin:otherAttributes`."""

CP = "simready:connectionPoint:"
AIF_CORE = "aif:core:"
AIF_SPEC = "aif:spec:"

SCOPE = "ConnectionPoints"
EQUIPMENT = "Equipment"
PROTOTYPES = "Prototypes"
MANIFOLDS = "Manifolds"
RACK_GEOMETRY = "RackGeometry"
EQUIPMENT_GEOMETRY = "EquipmentGeometry"

ASSET_CLASS = {
    "rack": "compute rack", "cdu": "cdu", "crah": "crah", "ups": "ups",
    "grid": "grid connection", "substation": "substation", "transformer": "transformer", "generator": "generator",
    "battery": "battery", "switchboard": "switchboard", "busway": "busway", "pdu": "pdu", "rdhx": "rdhx",
    "chiller": "chiller", "dry_cooler": "dry cooler", "cooling_tower": "cooling tower",
}
"""Node kind -> `aif:core:assetClass`. The first four are SimReady's published classes; the rest are ours."""
PUBLISHED_CLASSES = frozenset({"compute rack", "cdu", "crah", "ups"})
LEGACY_RACK_TOKENS = ("compute-rack", "compute_rack", "gb300", "gb300 rack", "gb300_rack")
"""Further tokens SimReady accepts for a compute rack (`aif-equipment-compute-rack.json`)."""
CLASS_KIND = {**{v: k for k, v in ASSET_CLASS.items()}, **{t: "rack" for t in LEGACY_RACK_TOKENS}}


def asset_kind(token: str) -> str | None:
    """The node kind of an `aif:core:assetClass` value (case and spacing as SimReady normalizes), or None."""
    return CLASS_KIND.get(str(token).lower().strip())


@dataclass(frozen=True)
class Port:
    """One connection point: its prim name and SimReady identity, and which end of our edges it is."""

    name: str
    domain: str
    direction: str
    system: str
    disconnect: str
    edge: str
    end: str | None  # "source" / "target" of the graph edge; None for the return line's companion supply port


@dataclass(frozen=True, eq=False)
class Link:
    """How one kind of edge is drawn: the port it leaves on the source node and the port it enters."""

    system: str
    source: Port
    target: Port
    companions: tuple[Port, Port]  # the supply-line ports on (source, target), carrying no link of their own
    flow: str  # key of the flow ratio in the port data, "" for power
    # compared and hashed by identity: there is one Link object per kind of link


POWER = Link("power", Port("power_out", "electrical", "output", "power", "hardwired", "power", "source"),
             Port("power_in", "electrical", "input", "power", "hardwired", "power", "target"), (), "")


def _loop(system: str, prefix: str, source_disconnect: str, flow: str) -> Link:
    """A liquid loop: heat leaves on the source's return line and enters the target's; supply lines mirror them."""
    ret, sup = f"{prefix}_return", f"{prefix}_supply"
    return Link(system, Port(ret, "thermal", "return", system, source_disconnect, "heat", "source"),
                Port(ret, "thermal", "return", system, "flanged", "heat", "target"),
                (Port(sup, "thermal", "supply", system, source_disconnect, "heat", None),
                 Port(sup, "thermal", "supply", system, "flanged", "heat", None)), flow)


TCS = _loop("TCS", "tcs", "quick_disconnect", "tcs")
FWS = _loop("FWS", "fws", "flanged", "fws")
CHW = _loop("FWS", "chw", "flanged", "chw")
CW = _loop("CW", "cw", "flanged", "cw")
AIR = Link("equipment_cooling",
           Port("air_out", "airflow", "output", "equipment_cooling", "open_vent", "heat", "source"),
           Port("air_in", "airflow", "input", "equipment_cooling", "open_vent", "heat", "target"),
           (Port("air_in", "airflow", "input", "equipment_cooling", "open_vent", "heat", None),
            Port("air_out", "airflow", "output", "equipment_cooling", "open_vent", "heat", None)), "air")
AIR_UNITS = frozenset({"crah", "rdhx"})


def link_for(edge: str, source_kind: str, target_kind: str) -> Link | None:
    """The link an edge becomes, or None when it is not drawn as connection points (it goes to `twin:otherEdges`)."""
    if edge == "power":
        return POWER if source_kind != "rack" and target_kind not in ("site", "hall", "row", "gpu") else None
    if edge != "heat":
        return None
    if source_kind == "rack":
        return AIR if target_kind in AIR_UNITS else (TCS if target_kind not in ("rack", "gpu") else None)
    if source_kind in UNIT_KINDS and target_kind in PLANT_KINDS:
        return CHW if target_kind == "chiller" else FWS
    if source_kind in PLANT_KINDS and target_kind in PLANT_KINDS:
        return CW
    return None


HEAT_RANK = {"rack": 0, "cdu": 1, "crah": 1, "rdhx": 1, "chiller": 2, "dry_cooler": 3, "cooling_tower": 3}
"""Where heat flows on a stage without our `twin:end`: from the lower rank to the higher (rack -> unit -> plant)."""

_INVALID = re.compile(r"[^A-Za-z0-9_]")


def prim_name(text: str) -> str:
    """A valid USD prim name for an id segment: other characters become `_`, a leading digit gets `_` in front."""
    name = _INVALID.sub("_", str(text))
    return name if name and not name[0].isdigit() else f"_{name}"


def derived_id(parent_id: str | None, name: str) -> str:
    """The id a prim gets without `twin:id`: `<parent id>/<name with _ as ->`, or the name at the top."""
    segment = name.replace("_", "-")
    return f"{parent_id}/{segment}" if parent_id else segment


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name_2`, `name_3`, ... so siblings never collide."""
    out, k = name, 2
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    taken.add(out)
    return out


@functools.lru_cache(maxsize=1)
def flow_table() -> dict[str, dict[str, Any]]:
    """Design flow per kW of heat by line (`twin/data/usd_flows.yaml`: value, unit, source, evidence, note)."""
    from importlib import resources

    import yaml

    text = (resources.files("twin") / "data" / "usd_flows.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["flows"]
