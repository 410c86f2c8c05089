"""`Facility`: one networkx graph of power feeds, cooling, halls, rows, racks and GPUs, with a builder API.

>>> f = Facility("demo", grid_limit_mw=2.0, climate="ashburn")
>>> _ = f.add_device("grid", "grid", rating_kw=2500)
>>> _ = f.add_device("ups-1", "ups", rating_kw=2000, fed_by=["grid"])
>>> _ = f.add_device("dc-1", "dry_cooler", rating_kw=2000)
>>> _ = f.add_device("cdu-1", "cdu", rating_kw=1500, rejects_to=["dc-1"])
>>> _ = f.add_hall("hall-a", width_m=20, depth_m=10, cooling="dlc")
>>> row = f.add_row("hall-a", "row-01", y_m=3)
>>> racks = f.add_racks(row, 4, x_m=2, system="gb200_nvl72", fed_by=["ups-1"], cooled_by=["cdu-1"])
>>> f.table("rack")["gpus"].sum()
288
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from twin import limits
from twin.errors import GraphError, did_you_mean
from twin.graph import DEVICE_KINDS, PLANT_KINDS, POWER_KINDS, UNIT_KINDS, FacilityGraph, bulk

if TYPE_CHECKING:
    import pandas as pd

    from twin.catalog import Catalog
    from twin.errors import Problem

SITE = "site"
GPU_NODES = "gpu_nodes"
"""The graph attribute that marks a lean facility (`False`: racks hold no GPU nodes; see `Facility.gpu_nodes`)."""
RACK_DEFAULTS = {"width_m": 0.6, "depth_m": 1.2, "height_m": 2.3}


_GPU_SUFFIXES = [f"/gpu-{i:02d}" for i in range(1000)]


def gpu_ids(rack: str, count: int) -> list[str]:
    """The ids of a rack's GPU nodes: `<rack>/gpu-00` ... in order."""
    suffixes = _GPU_SUFFIXES if count <= len(_GPU_SUFFIXES) else [f"/gpu-{i:02d}" for i in range(count)]
    return [rack + s for s in suffixes[:count]]


class Facility:
    """A facility design: `graph` is the source of truth; `table(kind)` gives cached columnar views."""

    def __init__(
        self,
        name: str = "facility",
        *,
        grid_limit_mw: float | None = None,
        climate: str | None = None,
        catalog: Catalog | None = None,
        graph: FacilityGraph | None = None,
        gpu_nodes: bool | None = None,
        **site_attrs: Any,
    ):
        if gpu_nodes is not None and not isinstance(gpu_nodes, bool):
            raise GraphError(f"gpu_nodes must be True or False, got {gpu_nodes!r}")
        self.graph = graph if graph is not None else FacilityGraph()
        self._catalog = catalog
        self._tables: dict[str, tuple[int, Any]] = {}
        if graph is not None and gpu_nodes is not None and gpu_nodes != self.gpu_nodes:
            raise GraphError(f"gpu_nodes={gpu_nodes} disagrees with the given graph, built with gpu_nodes={self.gpu_nodes}; "
                             "leave gpu_nodes out to take the graph's mode, or switch it with Facility.set_gpu_nodes")
        if graph is None:
            self.graph.graph.update(name=name, grid_limit_mw=grid_limit_mw, climate=climate, **site_attrs)
            if gpu_nodes is False:
                self.graph.graph[GPU_NODES] = False
            self.graph.scan()
            self.graph.add_new_nodes([(SITE, {"kind": "site"})])

    # ----------------------------------------------------------------- site-level attributes
    @property
    def name(self) -> str:
        return self.graph.graph.get("name", "facility")

    @property
    def grid_limit_mw(self) -> float | None:
        return self.graph.graph.get("grid_limit_mw")

    @grid_limit_mw.setter
    def grid_limit_mw(self, value: float | None) -> None:
        self.graph.graph["grid_limit_mw"] = value

    @property
    def climate(self) -> str | None:
        return self.graph.graph.get("climate")

    @property
    def gpu_nodes(self) -> bool:
        """Whether populated racks hold one graph node per GPU (False: a lean graph, GPU counts live in the rack
        table only; physics, validation, the N-1 scan and the optimizer read nothing else). Kept as the graph
        attribute `gpu_nodes` (absent means True), so copies, saved files and re-populated racks keep the mode."""
        return self.graph.graph.get(GPU_NODES, True) is not False

    def set_gpu_nodes(self, on: bool) -> None:
        """Switch the mode: True gives every populated rack its GPU nodes, False removes every GPU node."""
        if not isinstance(on, bool):
            raise GraphError(f"gpu_nodes must be true or false, got {on!r}")
        if not on:
            self.graph.remove_nodes_from([n for n, _ in self.graph.by_kind().get("gpu", [])])
            self.graph.graph[GPU_NODES] = False
            return
        self.graph.graph.pop(GPU_NODES, None)
        racks = self.table("rack")
        todo = racks[racks["system"].notna()]
        with bulk():
            for (system, nodes, cap), members in todo.groupby(["system", "nodes", "power_cap_w"], dropna=False).groups.items():
                self.populate(list(members), system, nodes=int(nodes), power_cap_w=None if cap != cap else cap)

    @property
    def catalog(self) -> Catalog:
        """The catalog this facility's system and technology ids refer to (the packaged one by default)."""
        if self._catalog is None:
            from twin.catalog import default_catalog

            self._catalog = default_catalog()
        return self._catalog

    # ----------------------------------------------------------------- builder
    def add_device(
        self,
        id: str,
        kind: str,
        *,
        rating_kw: float | None = None,
        fed_by: Iterable[str] = (),
        rejects_to: Iterable[str] = (),
        group: str | None = None,
        redundancy: str | None = None,
        **attrs: Any,
    ) -> str:
        """Add a power or cooling device; `fed_by` adds power edges in, `rejects_to` heat edges out."""
        if kind not in DEVICE_KINDS:
            raise GraphError(f"device {id!r}: unknown kind {kind!r}; {did_you_mean(kind, DEVICE_KINDS)}")
        self._require_new(id)
        extra = {k: v for k, v in (("group", group), ("redundancy", redundancy)) if v is not None}
        self.graph.add_new_nodes([(id, {"kind": kind, "rating_kw": rating_kw, **extra, **attrs})])
        self.connect_many([(src, id) for src in fed_by], "power")
        self.connect_many([(id, dst) for dst in rejects_to], "heat")
        return id

    def add_hall(
        self,
        id: str,
        *,
        width_m: float,
        depth_m: float,
        cooling: str,
        x_m: float = 0.0,
        y_m: float = 0.0,
        **attrs: Any,
    ) -> str:
        """Add a hall: a floor rectangle at (x_m, y_m) with one cooling technology for its racks."""
        self._require_new(id)
        self.graph.add_new_nodes(
            [(id, {"kind": "hall", "x_m": x_m, "y_m": y_m, "width_m": width_m, "depth_m": depth_m, "cooling": cooling, **attrs})]
        )
        self.connect(SITE, id, "contains")
        return id

    def add_row(self, hall: str, name: str, **attrs: Any) -> str:
        """Add a row of rack positions to a hall; its id is `<hall>/<name>`."""
        self._require_kind(hall, "hall")
        row = f"{hall}/{name}"
        self._require_new(row)
        self.graph.add_new_nodes([(row, {"kind": "row", **attrs})])
        self.graph.add_new_edges([(hall, row)], kind="contains")
        return row

    def add_racks(
        self,
        row: str,
        n: int | None = None,
        *,
        names: Sequence[str] | None = None,
        x_m: float | Sequence[float] = 0.0,
        y_m: float | Sequence[float] | None = None,
        pitch_m: float | None = None,
        system: str | None = None,
        nodes: int | None = None,
        power_cap_w: float | None = None,
        fed_by: Iterable[str] = (),
        cooled_by: Iterable[str] = (),
        **attrs: Any,
    ) -> list[str]:
        """Add `n` rack positions in a row (x from `x_m` every `pitch_m`), optionally populated with a system.

        Positions are rack centres in metres; `y_m` defaults to the row's `y_m`.
        """
        self._require_kind(row, "row")
        if names is None:
            if n is None:
                raise GraphError(f"row {row!r}: add_racks needs `n` or `names`")
            limits.check_nodes(len(self.graph) + n, what=f"{n:,} racks in row {row!r}")
            start = sum(1 for _ in self._children(row, "rack"))
            names = [f"rack-{start + i + 1:02d}" for i in range(n)]
        ids = [f"{row}/{name}" for name in names]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            twice = next(rack for rack in ids if rack in seen or seen.add(rack))
            raise GraphError(f"row {row!r}: rack {twice!r} is listed twice; give each rack its own name")
        for rack in ids:
            self._require_new(rack)
        count = len(ids)
        geometry = {**RACK_DEFAULTS, **{k: attrs.pop(k) for k in list(attrs) if k in RACK_DEFAULTS}}
        pitch = geometry["width_m"] if pitch_m is None else pitch_m
        xs = np.broadcast_to(np.asarray(x_m, dtype=float), (count,)) if np.ndim(x_m) else x_m + pitch * np.arange(count)
        if y_m is None:
            y_m = self.graph.nodes[row].get("y_m", 0.0)
        ys = np.broadcast_to(np.asarray(y_m, dtype=float), (count,))
        self.graph.add_new_nodes(
            (rack, {"kind": "rack", "system": None, "nodes": None, "power_cap_w": None,
                    "x_m": float(x), "y_m": float(y), "z_m": 0.0, **geometry, **attrs})
            for rack, x, y in zip(ids, xs.tolist(), ys.tolist())
        )
        self.graph.add_new_edges(((row, rack) for rack in ids), kind="contains")
        self.connect_many([(src, rack) for src in fed_by for rack in ids], "power")
        self.connect_many([(rack, dst) for dst in cooled_by for rack in ids], "heat")
        if system is not None:
            self.populate(ids, system, nodes=nodes, power_cap_w=power_cap_w)
        return ids

    def populate(
        self,
        racks: Sequence[str],
        system: str | None,
        *,
        nodes: int | None = None,
        power_cap_w: float | None = None,
    ) -> None:
        """Put `nodes` servers of a catalog system (and their GPU nodes) into racks; `None` empties them.

        `power_cap_w` is the per-GPU cap (None means the system's TDP). GPU nodes are added only when the
        facility has them (`Facility.gpu_nodes`), so re-populating never changes its mode.
        """
        gpu_nodes = self.gpu_nodes
        for rack in racks:
            self._require_kind(rack, "rack")
        old = [g for rack in racks for g in self._children(rack, "gpu")]
        if old:
            self.graph.remove_nodes_from(old)
        if system is None:
            for rack in racks:
                self.graph.nodes[rack].update(system=None, nodes=None, power_cap_w=None)
            return
        spec = self.catalog.system(system)
        nodes = spec.nodes_per_rack[0] if nodes is None else int(nodes)
        gpus = int(spec.gpus_per_rack(nodes))
        added = len(racks) * gpus if gpu_nodes else 0
        limits.check_nodes(len(self.graph) + added, gpus=added,
                           what=f"{len(racks):,} racks of {nodes:,} {system} nodes ({gpus:,} GPUs each)")
        for rack in racks:
            self.graph.nodes[rack].update(system=system, nodes=nodes, power_cap_w=power_cap_w)
        if gpu_nodes:
            self.graph.add_gpus((rack, gpu) for rack in racks for gpu in gpu_ids(rack, gpus))

    def connect(self, src: str, dst: str, kind: str) -> None:
        """Add one `power`, `heat` or `contains` edge between existing nodes."""
        self.connect_many([(src, dst)], kind)

    def connect_many(self, edges: Sequence[tuple[str, str]], kind: str) -> None:
        """Add many edges of one kind; every endpoint must already exist."""
        if kind not in ("power", "heat", "contains"):
            raise GraphError(f"unknown edge kind {kind!r}; use 'power', 'heat' or 'contains'")
        graph = self.graph
        missing = [end for end in set(chain.from_iterable(edges)) if end not in graph]
        if missing:
            src, dst = next(p for p in edges if p[0] in missing or p[1] in missing)
            end = src if src in missing else dst
            raise GraphError(
                f"{kind} edge {src!r} -> {dst!r}: node {end!r} does not exist; "
                f"add it first ({did_you_mean(end, self._ids_like(end))})"
            )
        graph.add_new_edges(edges, kind=kind)

    # ----------------------------------------------------------------- views
    def table(self, kind: str) -> pd.DataFrame:
        """A columnar table of all nodes of `kind`, indexed by node id; cached until the graph changes.

        Rack tables add derived columns (hall, row, cooling, gpus, nameplate_kw, liquid_fraction).
        """
        from twin import tables

        if kind == "gpu":
            self._require_gpu_nodes("table('gpu')")
        cached = self._tables.get(kind)
        if cached is not None and cached[0] == self.graph.version:
            return cached[1]
        frame = tables.build(self, kind)
        self._tables[kind] = (self.graph.version, frame)
        return frame

    def nodes_of(self, kind: str) -> list[str]:
        """Ids of all nodes of one kind, in insertion order."""
        if kind == "gpu":
            self._require_gpu_nodes("nodes_of('gpu')")
        return [n for n, _ in self.graph.by_kind().get(kind, [])]

    @property
    def racks(self) -> pd.DataFrame:
        return self.table("rack")

    def summary(self) -> dict[str, Any]:
        """Headline numbers: counts per kind, GPUs (from the rack table, so lean and full graphs agree),
        nameplate IT MW, grid limit."""
        racks = self.table("rack")
        counts = {kind: len(pairs) for kind, pairs in self.graph.by_kind().items()}
        return {
            "name": self.name,
            "grid_limit_mw": self.grid_limit_mw,
            "climate": self.climate,
            "halls": counts.get("hall", 0),
            "racks": counts.get("rack", 0),
            "populated_racks": int(racks["system"].notna().sum()),
            "gpus": int(racks["gpus"].sum()),
            "nameplate_it_mw": float(racks["nameplate_kw"].sum()) / 1000.0,
            "power_devices": sum(counts.get(k, 0) for k in POWER_KINDS),
            "cooling_units": sum(counts.get(k, 0) for k in UNIT_KINDS),
            "heat_rejection_units": sum(counts.get(k, 0) for k in PLANT_KINDS),
        }

    # ----------------------------------------------------------------- checks and files
    def validate(self, *, raise_on_error: bool = True) -> list[Problem]:
        """Check every rule (see `twin.validation`); raise one ValidationError listing all problems."""
        from twin.validation import validate

        return validate(self, raise_on_error=raise_on_error)

    def save(self, path: str | Path) -> Path:
        """Write the facility as a blueprint YAML (.yaml/.yml) or node-link JSON (.json), atomically."""
        from twin import io

        return io.save(self, path)

    @classmethod
    def load(cls, path: str | Path, *, catalog: Catalog | None = None) -> Facility:
        """Read a facility saved by `save` (YAML blueprint or node-link JSON)."""
        from twin import io

        return io.load(path, catalog=catalog)

    def copy(self, *, without: Iterable[str] = ()) -> Facility:
        """An independent copy (graph and attributes) sharing the catalog; `without` leaves out nodes of those
        kinds and their edges (e.g. `("gpu",)`: racks keep their system attributes but no GPU nodes)."""
        graph = self.graph.copy_without(without) if without else self.graph.copy()
        return Facility(graph=graph, catalog=self._catalog)

    def on_catalog(self, catalog: Catalog) -> Facility:
        """This facility's graph (shared, not copied) on another catalog, with the cached tables that do not read
        the catalog (all but the rack table)."""
        other = Facility(graph=self.graph, catalog=catalog)
        other._tables = {kind: cached for kind, cached in self._tables.items() if kind != "rack"}
        return other

    def __repr__(self) -> str:
        g = self.graph
        return f"<Facility {self.name!r}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges>"

    # ----------------------------------------------------------------- helpers
    def _require_gpu_nodes(self, what: str) -> None:
        """Refuse per-GPU requests on a lean facility instead of answering them with nothing."""
        if not self.gpu_nodes:
            raise GraphError(f"facility {self.name!r} is built without GPU nodes (gpu_nodes=False), so {what} needs "
                             "GPU-level detail it does not have; GPU counts per rack are in table('rack')['gpus'], or "
                             "build it with gpu_nodes=True (`gpu_nodes: true` in a blueprint) or call "
                             "facility.set_gpu_nodes(True)")

    def _children(self, node: str, kind: str) -> Iterable[str]:
        nodes = self.graph.nodes
        return (c for c, d in self.graph.succ[node].items() if d.get("kind") == "contains" and nodes[c].get("kind") == kind)

    def _require_new(self, id: str) -> None:
        if not isinstance(id, str) or not id:
            raise GraphError(f"node ids are non-empty strings, got {id!r}")
        if id in self.graph:
            raise GraphError(f"node {id!r} already exists ({self.graph.nodes[id].get('kind')}); pick another id")

    def _require_kind(self, id: str, kind: str) -> None:
        if id not in self.graph:
            raise GraphError(f"{kind} {id!r} does not exist; {did_you_mean(id, self._ids_like(id))}")
        actual = self.graph.nodes[id].get("kind")
        if actual != kind:
            raise GraphError(f"node {id!r} is a {actual}, not a {kind}")

    def _ids_like(self, id: str) -> list[str]:
        depth = str(id).count("/")
        return [n for n in self.graph if isinstance(n, str) and n.count("/") == depth and self.graph.nodes[n].get("kind") != "gpu"]


__all__ = ["Facility", "GPU_NODES", "SITE", "gpu_ids"]
