"""The workloads file and the arrays a placement model is built from.

Workloads file (YAML, `format: twin-workloads/1` optional):

```yaml
workloads:
  - id: chat-premium              # unique id; `idle` is reserved
    tier: premium                 # catalog tier: minimum interactivity, TTFT and price
    llm: deepseek-r1              # optional: llm, precision, isl, osl (default DeepSeek-R1 FP8 1k/1k)
    demand_tokens_per_s: 2.0e6    # optional: most tokens/s worth serving (default unlimited)
    min_tokens_per_s: 5.0e5       # optional: committed tokens/s (default 0)
    interactivity_tok_s_user: 60  # optional: stricter than the tier's minimum
    systems: [gb200_nvl72]        # optional: only these systems
  - id: pretrain-70b
    kind: training
    system: gb200_nvl72           # optional when the facility has one system
    domains: 16                   # whole NVLink domains the job needs, all in one hall
    params_b: 70                  # active parameters, billions (tokens/s from dense FLOPS x mfu)
    mfu: 0.4                      # optional
    hall: hall-01                 # optional: this hall only
    required: true                # optional: the placement must include it (default false)
    usd_per_gpu_hour: 3.30        # value of a GPU-hour at full throughput (needed for objective revenue)
```

Racks are aggregated into blocks that share their feeds, cooling units, system and current workload
(`twin.contingency.network`); decisions are rack counts per (block, workload) and their split over
power-cap levels, so the model never has a variable per rack.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from twin.contingency import IDLE, Network, network, outages
from twin.errors import InfeasibleDesign, TwinError, did_you_mean
from twin.graph import bulk

if TYPE_CHECKING:
    from twin.facility import Facility

INFERENCE_FIELDS = {"id", "kind", "tier", "llm", "precision", "isl", "osl", "demand_tokens_per_s", "min_tokens_per_s",
                    "interactivity_tok_s_user", "systems"}
TRAINING_FIELDS = {"id", "kind", "system", "domains", "params_b", "mfu", "llm", "precision", "hall", "required",
                   "usd_per_gpu_hour"}


class WorkloadError(ValueError, TwinError):
    """A workloads file or entry does not follow the format."""


@dataclass(frozen=True)
class WorkloadSpec:
    """One workload to place: an inference pool for a tier, or a training job of whole NVLink domains."""

    id: str
    kind: str = "inference"
    tier: str | None = None
    llm: str = "deepseek-r1"
    precision: str = "fp8"
    isl: int = 1024
    osl: int = 1024
    demand_tokens_per_s: float = math.inf
    min_tokens_per_s: float = 0.0
    interactivity_tok_s_user: float | None = None
    systems: tuple[str, ...] | None = None
    system: str | None = None
    domains: int = 0
    params_b: float | None = None
    mfu: float = 0.4
    hall: str | None = None
    required: bool = False
    usd_per_gpu_hour: float | None = None

    def physics(self) -> Any:
        """The `twin.physics.tokens.Workload` this entry serves."""
        from twin.physics import tokens

        if self.kind == "training":
            return tokens.Workload(llm=self.llm, precision=self.precision, kind="training", params_b=self.params_b,
                                   mfu=self.mfu)
        return tokens.Workload(llm=self.llm, precision=self.precision, isl=self.isl, osl=self.osl)


def read_workloads(source: str | Path | Mapping | Sequence) -> list[WorkloadSpec]:
    """Workloads from a YAML file, a mapping with a `workloads` list, or a list of entries/`WorkloadSpec`s."""
    where = "workloads"
    if isinstance(source, (str, Path)):
        from twin import yamlsafe

        path = Path(source)
        if not path.is_file():
            raise WorkloadError(f"workloads file {path} does not exist")
        where = str(path)
        try:
            source = yamlsafe.load(path.read_text(encoding="utf-8"))
        except (yamlsafe.YamlIssue, OSError, UnicodeDecodeError) as exc:
            raise WorkloadError(f"{where}: not readable YAML: {exc}") from None
    if isinstance(source, Mapping):
        fmt = source.get("format")
        if fmt not in (None, "twin-workloads/1"):
            raise WorkloadError(f"{where}: format {fmt!r} is not twin-workloads/1")
        source = source.get("workloads")
    if not isinstance(source, Sequence) or isinstance(source, str) or not source:
        raise WorkloadError(f"{where}: needs a non-empty `workloads:` list")
    out = [s if isinstance(s, WorkloadSpec) else _entry(s, f"{where}: workloads[{i}]") for i, s in enumerate(source)]
    seen: set[str] = set()
    for spec in out:
        if spec.id in seen:
            raise WorkloadError(f"{where}: workload id {spec.id!r} appears twice; give each workload its own id")
        seen.add(spec.id)
    return out


def _entry(raw: Any, where: str) -> WorkloadSpec:
    if not isinstance(raw, Mapping):
        raise WorkloadError(f"{where}: each workload is a mapping with at least `id`, got {raw!r}")
    kind = raw.get("kind", "inference")
    if kind not in ("inference", "training"):
        raise WorkloadError(f"{where}.kind: {kind!r} is not 'inference' or 'training'")
    allowed = INFERENCE_FIELDS if kind == "inference" else TRAINING_FIELDS
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise WorkloadError(f"{where}: unknown field {unknown[0]!r} for a {kind} workload; "
                            f"{did_you_mean(unknown[0], allowed)}")
    ident = raw.get("id")
    if not isinstance(ident, str) or not ident:
        raise WorkloadError(f"{where}.id: give each workload a non-empty text id, got {ident!r}")
    if ident == IDLE:
        raise WorkloadError(f"{where}.id: {IDLE!r} is reserved for racks that serve nothing; pick another id")
    values = dict(raw)
    for name in ("demand_tokens_per_s", "min_tokens_per_s", "interactivity_tok_s_user", "params_b", "mfu",
                 "usd_per_gpu_hour"):
        if isinstance(values.get(name), str):          # YAML 1.1 reads 2.0e6 (no exponent sign) as text
            try:
                values[name] = float(values[name])
            except ValueError:
                pass
    for name in ("demand_tokens_per_s", "min_tokens_per_s", "interactivity_tok_s_user", "params_b", "mfu",
                 "usd_per_gpu_hour"):
        if name in values and not (_is_number(values[name]) and values[name] >= 0):
            raise WorkloadError(f"{where}.{name}: must be a number >= 0, got {values[name]!r}")
    for name in ("isl", "osl", "domains"):
        if name in values and not (isinstance(values[name], int) and not isinstance(values[name], bool) and values[name] > 0):
            raise WorkloadError(f"{where}.{name}: must be a whole number > 0, got {values[name]!r}")
    if "systems" in values:
        systems = values["systems"]
        if not (isinstance(systems, list) and systems and all(isinstance(s, str) for s in systems)):
            raise WorkloadError(f"{where}.systems: a list of catalog system ids, got {systems!r}")
        values["systems"] = tuple(systems)
    if kind == "inference" and not isinstance(values.get("tier"), str):
        raise WorkloadError(f"{where}.tier: an inference workload names its catalog tier (free, batch, standard, premium, ...)")
    if kind == "training":
        if "domains" not in values or "params_b" not in values:
            raise WorkloadError(f"{where}: a training workload needs `domains` (whole NVLink domains) and `params_b`")
        if not isinstance(values.get("required", False), bool):
            raise WorkloadError(f"{where}.required: true or false, got {values['required']!r}")
    if values.get("min_tokens_per_s", 0) > values.get("demand_tokens_per_s", math.inf):
        raise WorkloadError(f"{where}: min_tokens_per_s {values['min_tokens_per_s']:g} exceeds demand_tokens_per_s "
                            f"{values['demand_tokens_per_s']:g}")
    return WorkloadSpec(**{k: (float(v) if _is_number(v) and k not in ("isl", "osl", "domains") else v)
                           for k, v in values.items()})


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class PlacementData:
    """Arrays of a placement problem: blocks b, workloads w, eligible pairs p = (b, w), cap levels l.

    Model blocks merge network blocks (`twin.contingency`) that no binding row tells apart.
    """

    site: str
    net: Network
    workloads: list[WorkloadSpec]
    levels: np.ndarray               # (l,) cap fractions of TDP, ascending; levels[0] is the catalog minimum
    super_of: np.ndarray             # (network block,) the model block b it is merged into
    first_rack: np.ndarray           # (b,) id of a rack of the block (its label)
    system: np.ndarray               # (b,) system id
    count: np.ndarray                # (b,) racks
    hall: np.ndarray                 # (b,) hall id
    kw: np.ndarray                   # (b, l) kW per working rack at each cap level
    idle_kw: np.ndarray              # (b,) kW of a rack serving nothing
    gpus: np.ndarray                 # (b,) GPUs per rack
    current: np.ndarray              # (b,) index of the workload the racks serve now; -1 none or idle
    pair_b: np.ndarray
    pair_w: np.ndarray
    tokens: np.ndarray               # (p, l) tokens/s per rack (inference; training uses job_tokens)
    usd: np.ndarray                  # (p, l) USD/h per rack (inference)
    domains_per_rack: np.ndarray     # (p,) NVLink domains per rack (training pairs)
    job_tokens: np.ndarray           # (w, l) tokens/s of a whole training job at each level (0 for inference)
    job_usd: np.ndarray              # (w, l) USD/h of a whole training job
    group_weight: Any                # (row x b) csr: kW a device group carries per kW of a block's racks
    group_capacity: np.ndarray       # (row,) kW
    group_names: list[str]
    n1_weight: Any                   # (row x b) csr, after one failure (lost racks dropped)
    n1_capacity: np.ndarray
    n1_labels: list[str]             # 'group after device fails' per row
    capacity_mode: str = "rating"
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def tier_of(self) -> list[str]:
        return [w.tier or "training" for w in self.workloads]


def placement_data(facility: Facility, workloads: Any, *, secure: bool = False, capacity: str = "rating",
                   levels: Sequence[float] | None = None) -> PlacementData:
    """Collect blocks, eligible (block, workload) pairs and their coefficients, and device-group rows.

    `secure` adds one row per (single failure, group that lost members): with every surviving working
    rack at the minimum cap the group fits its live members' ratings. `capacity`: 'rating' (members
    share the load up to their ratings) or 'usable' (spares held back, as `twin validate` checks).
    """
    with bulk():
        import time

        from twin.physics import gpu

        t0 = time.perf_counter()
        specs = read_workloads(workloads)
        cat = facility.catalog
        for spec in specs:
            if spec.tier is not None:
                cat.tier(spec.tier)
            for s in (spec.systems or ()) + ((spec.system,) if spec.system else ()):
                cat.system(s)
        racks = facility.table("rack")
        current = _current(racks, specs)
        keys = pd.DataFrame({"system": racks["system"], "nodes": racks["nodes"], "cooling": racks["cooling"],
                             "current": current}, index=racks.index)
        net = network(facility, keys)
        if net.n_blocks == 0:
            raise InfeasibleDesign(f"facility {facility.name!r} has no populated racks to place workloads on")
        b = net.blocks
        curve = cat.power_cap_curve(gpu.DEFAULT_CAP_CURVE)
        lv = np.array(sorted({float(x) for x in (levels or [p for p, _ in curve.points])
                              if curve.min_cap_fraction - 1e-9 <= float(x) <= 1.0 + 1e-9} | {curve.min_cap_fraction, 1.0}))
        factor = np.asarray(curve.factor(lv), dtype=float)
        n_b = len(b)
        kw = np.zeros((n_b, len(lv)))
        idle = np.zeros(n_b)
        gpus = b["gpus"].to_numpy(float)
        for i, (system, nodes) in enumerate(zip(b["system"], b["nodes"])):
            spec = cat.system(system)
            kw[i] = spec.rack_power_kw(np.full(len(lv), nodes), lv * spec.gpu_tdp_w)
            idle[i] = float(spec.rack_power_kw(nodes, spec.gpu_idle_w))
        t1 = time.perf_counter()
        weight = net.base_weights()
        cap = net.capacity(capacity)
        count = b["count"].to_numpy(float)
        binding = np.flatnonzero(weight @ (count * kw[:, -1]) > cap * (1 - 1e-9))
        rows = {"w": weight[binding], "cap": cap[binding], "labels": [net.group_names[g] for g in binding]}
        _check_idle(count * idle, rows["w"], rows["cap"], rows["labels"])
        t2 = time.perf_counter()
        n1 = _n1_rows(net, count, kw[:, 0], idle) if secure else {"w": weight[:0], "cap": np.zeros(0), "labels": []}
        t3 = time.perf_counter()
        sb, first = _aggregate(b, rows["w"], n1["w"])
        names = [w.id for w in specs]
        data = PlacementData(
            site=facility.name, net=net, workloads=specs, levels=lv, super_of=sb,
            first_rack=b["first_rack"].to_numpy(dtype=object)[first], system=b["system"].to_numpy(dtype=object)[first],
            count=np.bincount(sb, weights=count), hall=b["hall"].to_numpy(dtype=object)[first], kw=kw[first],
            idle_kw=idle[first], gpus=gpus[first],
            current=np.array([names.index(c) if isinstance(c, str) and c in names else -1 for c in b["current"].iloc[first]]),
            pair_b=np.zeros(0, np.int64), pair_w=np.zeros(0, np.int64), tokens=np.zeros((0, len(lv))),
            usd=np.zeros((0, len(lv))), domains_per_rack=np.zeros(0), job_tokens=np.zeros((0, len(lv))),
            job_usd=np.zeros((0, len(lv))), group_weight=rows["w"][:, first], group_capacity=rows["cap"],
            group_names=rows["labels"], n1_weight=n1["w"][:, first], n1_capacity=n1["cap"], n1_labels=n1["labels"],
            capacity_mode=capacity)
        pairs, data.tokens, data.usd, data.domains_per_rack = _pairs(facility, data, specs, factor)
        data.pair_b, data.pair_w = pairs[:, 0], pairs[:, 1]
        data.job_tokens, data.job_usd = _jobs(facility, data, specs, factor)
        data.timings = {"data_s": t1 - t0, "rows_s": t2 - t1, "n1_s": t3 - t2, "pairs_s": time.perf_counter() - t3}
        return data


def _aggregate(blocks: pd.DataFrame, *weights) -> tuple[np.ndarray, np.ndarray]:
    """Merge blocks that no kept row tells apart (same system, hall, current workload and row weights):
    rows that cannot bind are dropped first, so identical rows of a 1 GW site collapse to a few dozen."""
    base = blocks[["system", "nodes", "hall", "current"]].astype(object)
    cols = [base.where(base.notna(), None)]
    for w in weights:
        if w.shape[0]:
            cols.append(pd.DataFrame(np.round(w.T.toarray(), 9), index=blocks.index).add_prefix(f"w{len(cols)}_"))
    key = pd.concat(cols, axis=1)
    sb = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = np.zeros(int(sb.max()) + 1, dtype=np.int64)
    first[sb[::-1]] = np.arange(len(sb))[::-1]
    return sb, first


def _current(racks: pd.DataFrame, specs: list[WorkloadSpec]) -> pd.Series:
    """What each rack serves now: its `workload` attribute if it names one, else the only workload of its tier."""
    ids = {w.id for w in specs}
    by_tier: dict[str, list[str]] = {}
    for w in specs:
        if w.kind == "inference":
            by_tier.setdefault(w.tier, []).append(w.id)
    work = racks["workload"] if "workload" in racks else pd.Series(None, index=racks.index, dtype=object)
    tier = racks["tier"] if "tier" in racks else pd.Series(None, index=racks.index, dtype=object)
    out = []
    for w, t in zip(work, tier):
        if isinstance(w, str) and (w in ids or w == IDLE):
            out.append(w)
        elif isinstance(t, str) and len(by_tier.get(t, [])) == 1:
            out.append(by_tier[t][0])
        else:
            out.append(None)
    return pd.Series(out, index=racks.index, dtype=object)


def _pairs(facility: Facility, data: PlacementData, specs: list[WorkloadSpec],
           factor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Eligible (block, workload) pairs with tokens/s and USD/h per rack at each level, and domains per rack."""
    from twin.physics import ThroughputRangeError, tokens

    cat = facility.catalog
    systems, halls = data.system, data.hall
    rows, tok, usd, dpr = [], [], [], []
    for w, spec in enumerate(specs):
        if spec.kind == "training":
            system = spec.system or _only_system(data, spec)
            ok = (systems == system) & ((halls == spec.hall) if spec.hall else True)
            if spec.hall and spec.hall not in set(halls):
                raise WorkloadError(f"workload {spec.id!r}: hall {spec.hall!r} has no populated racks; "
                                    f"{did_you_mean(spec.hall, sorted(set(halls)))}")
            domain = cat.system(system).nvlink_domain_gpus
            for i in np.flatnonzero(ok):
                rows.append((i, w))
                tok.append(np.zeros(len(factor)))
                usd.append(np.zeros(len(factor)))
                g = float(data.gpus[i])
                dpr.append(g // domain if g >= domain else g / domain)
            continue
        catalog, tier = _tier_catalog(cat, spec)
        reasons = []
        for system in pd.unique(systems):
            if spec.systems and system not in spec.systems:
                continue
            try:
                point = tokens.tier_point(catalog, system, tier, spec.physics())
            except ThroughputRangeError as exc:
                reasons.append(str(exc))
                continue
            price = tokens.revenue_usd_per_mtok(cat, spec.tier, point.output_share)
            for i in np.flatnonzero(systems == system):
                per_rack = float(data.gpus[i]) * point.tokens_per_s_per_gpu * factor
                rows.append((i, w))
                tok.append(per_rack)
                usd.append(per_rack * price * 3600 / 1e6)
                dpr.append(0.0)
        if not any(pw == w for _, pw in rows):
            raise WorkloadError(f"workload {spec.id!r} can run on no rack of the facility: "
                                + ("; ".join(reasons) or f"none of its systems {list(spec.systems or [])} is installed"))
    if not rows:
        raise InfeasibleDesign("no workload can run on any rack: check the training jobs' systems and halls")
    return np.array(rows, dtype=np.int64), np.array(tok), np.array(usd), np.array(dpr, dtype=float)


def _only_system(data: PlacementData, spec: WorkloadSpec) -> str:
    have = pd.Series(data.count).groupby(data.system).sum()
    if len(have) != 1:
        raise WorkloadError(f"training workload {spec.id!r} needs `system:`; the facility has "
                            + ", ".join(f"{s} ({n:,} racks)" for s, n in have.items()))
    return str(have.index[0])


def _tier_catalog(cat: Any, spec: WorkloadSpec) -> tuple[Any, str]:
    """The catalog and tier id to read throughput at: a derived tier when the workload asks for more speed."""
    tier = cat.tier(spec.tier)
    want = spec.interactivity_tok_s_user
    if want is None or want <= tier.min_interactivity_tok_s_user:
        return cat, spec.tier
    derived = f"{spec.tier}@{want:g}"
    extra = {"tiers": [{"id": derived, "name": f"{tier.name} at >= {want:g} tok/s/user", "source": ["workloads file"],
                        "evidence": "assumption", "note": "the workload asks for this interactivity; the rest is the tier's", "min_interactivity_tok_s_user": want, "max_ttft_s": tier.max_ttft_s,
                        "price_usd_per_mtok": tier.price_usd_per_mtok,
                        "input_price_usd_per_mtok": tier.input_price_usd_per_mtok}]}
    return cat.extend(extra), derived


def _jobs(facility: Facility, data: PlacementData, specs: list[WorkloadSpec],
          factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tokens/s and USD/h of each training job as a whole, at each cap level (zeros for inference)."""
    from twin.physics import ThroughputRangeError, tokens

    cat = facility.catalog
    tok = np.zeros((len(specs), len(factor)))
    usd = np.zeros_like(tok)
    for w, spec in enumerate(specs):
        if spec.kind != "training":
            continue
        system = spec.system or _only_system(data, spec)
        gpus = spec.domains * cat.system(system).nvlink_domain_gpus
        try:
            rate = tokens.tier_point(cat, system, tokens.TRAINING_TIER, spec.physics()).tokens_per_s_per_gpu
        except ThroughputRangeError as exc:
            raise WorkloadError(f"training workload {spec.id!r}: {exc}") from None
        tok[w] = gpus * rate * factor
        usd[w] = gpus * (spec.usd_per_gpu_hour or 0.0) * factor
    return tok, usd


def _check_idle(idle_total: np.ndarray, weight, capacity: np.ndarray, labels: list[str]) -> None:
    """Raise when a group is overloaded even with every rack idle: no placement can help then."""
    floor = weight @ idle_total
    bad = np.flatnonzero(floor > capacity * (1 + 1e-9) + 1e-6)
    if bad.size:
        r = int(bad[0])
        raise InfeasibleDesign(f"{labels[r]}: its racks draw {floor[r]:,.1f} kW even idle, above the "
                               f"{capacity[r]:,.1f} kW it can carry; no placement fits (raise its ratings)")


def _n1_rows(net: Network, count: np.ndarray, min_kw: np.ndarray, idle_kw: np.ndarray) -> dict[str, Any]:
    """Rows for every single failure: surviving racks at the minimum cap must fit the groups that lost members.
    Rows that cannot bind (every surviving rack working at the minimum cap fits) are dropped, duplicates merged."""
    out = outages(net)
    none = {"w": net.base_weights()[:0], "cap": np.zeros(0), "labels": []}
    if not len(out.pair_scenario):
        return none
    w = out.pair_weight.tocsr()
    keep = np.flatnonzero(w @ (count * min_kw) > out.pair_capacity * (1 + 1e-9) + 1e-6)
    if not keep.size:
        return none
    w, cap = w[keep], out.pair_capacity[keep]
    labels = [f"group {net.group_names[g]} after {net.devices[out.failed[s]]} fails"
              for s, g in zip(out.pair_scenario[keep], out.pair_group[keep])]
    _check_idle(count * idle_kw, w, cap, labels)
    frame = pd.DataFrame(np.round(w.toarray(), 9))
    frame["cap"] = np.round(cap, 6)
    first = ~frame.duplicated().to_numpy()
    return {"w": w[first], "cap": cap[first], "labels": [lab for lab, f in zip(labels, first) if f]}


__all__ = ["WorkloadSpec", "WorkloadError", "PlacementData", "placement_data", "read_workloads"]
