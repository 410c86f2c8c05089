"""N-1 contingency: what losing each single device costs (racks unpowered, uncooled or shed, tokens/s per
tier, stranded capacity), computed for every failure at once with sparse matrices.

Conventions (those of `twin validate`): members of a redundancy group share its load, so a group carries
the rack kW (power) or heat (liquid share to CDUs and rear doors, the rest to CRAHs) of every rack that
reaches any live member, and can carry the sum of its live members' ratings. A device is dead when it
fails, loses every power feed (if it has feeds) or every heat sink (if it rejects heat anywhere). A rack
is lost when no live device feeds it or when every unit of one of its heat streams is dead; a group then
still overloaded sheds its least valuable racks (`scan`); `solvers.recap` re-caps instead.

Racks are aggregated into blocks: racks with the same direct feeds and cooling units and the same
physics share one fate in every scenario, so the matrices are (scenario x block), never per rack. They are
sparse in what a failure touches (the dead devices of its cascade, the blocks it loses, the racks it sheds),
so time and memory grow with the sum of the cascades, linearly in the site, never scenario x device dense.

>>> import blueprints
>>> from twin.contingency import scan
>>> result = scan(blueprints.load("ai-factory-hall"))
>>> int(result.table.loc["ups-a", "racks_lost"]), int(result.table["racks_lost"].max())
(0, 64)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from twin.errors import GraphError, TwinError
from twin.graph import DEVICE_KINDS, HEAT_KINDS, UNIT_KINDS, bulk

if TYPE_CHECKING:
    import scipy.sparse as sp
    import xarray as xr

    from twin.facility import Facility

STREAMS = ("liquid", "air")
STREAM_OF_UNIT = {"cdu": 0, "rdhx": 0, "crah": 1}
TRAINING = "training"
BACKUP_KINDS = ("battery", "generator")
IDLE = "idle"
"""Reserved `workload` value of a rack that serves nothing: it draws its idle power and no tokens."""
SCAN_KEYS = ("system", "nodes", "cap_w", "cooling", "tier", "workload", "tokens_per_s", "revenue_usd_per_h")
BATCH_ROWS = 2048
"""Scenario (or scenario x group) rows propagated at once: bounds the sparse batches and the per-batch results."""


@dataclass
class Network:
    """The facility as matrices: devices, redundancy groups, and blocks of racks sharing feeds and physics."""

    devices: pd.Index
    kind: np.ndarray                 # (device,) kind
    rating: np.ndarray               # (device,) kW
    group_names: list[str]
    group_scheme: list               # (group,) redundancy scheme ('2N', 'N+1', None)
    group_of: np.ndarray             # (device,) group index
    members: Any                     # (group x device) 0/1 csr
    power: Any                       # (device x device) [parent, child] power edges
    heat: Any                        # (device x device) [unit, sink] heat edges
    needs_power: np.ndarray          # (device,) has a power feed or is an on-site source: dies without a live feed
    needs_sink: np.ndarray           # (device,) rejects heat somewhere, so dies without a live sink
    racks: pd.DataFrame              # populated racks with a `block` column
    blocks: pd.DataFrame             # one row per block: count + the key columns of its first rack
    feed: Any                        # (device x block) direct power feeds
    cool: list                       # per stream: (device x block) direct cooling units
    share: np.ndarray                # (block x stream) share of a rack's heat in each stream
    backup: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """(device,) on-site sources (batteries, generators): they pass grid power on, and carry racks only for their
    ride-through (`twin.onsite.ride_through`), so the scan counts racks without a grid path as unpowered."""

    @property
    def n_devices(self) -> int:
        return len(self.devices)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def base_weights(self) -> sp.csr_matrix:
        """(group x block): per rack of a block, the kW (power) or kW of heat a group carries with all devices up."""
        return _weights(self, self.members)

    def capacity(self, mode: str = "rating") -> np.ndarray:
        """(group,) kW a group can carry: 'rating' = every member's rating; 'usable' = less its spares."""
        from twin.validation import parse_redundancy

        full = np.asarray(self.members @ self.rating).ravel()
        if mode == "rating":
            return full
        if mode != "usable":
            raise TwinError(f"capacity mode {mode!r} is not 'rating' or 'usable'")
        out = full.copy()
        for g, scheme in enumerate(self.group_scheme):
            cols = self.members.indices[self.members.indptr[g]:self.members.indptr[g + 1]]
            spares = parse_redundancy(scheme)
            k = spares(len(cols)) if spares else 0
            out[g] = np.sort(self.rating[cols])[: len(cols) - k].sum() if k else full[g]
        return out


def network(facility: Facility, keys: pd.DataFrame | Sequence[str] = SCAN_KEYS) -> Network:
    """Build the matrices of a facility; `keys` are rack columns (or a frame of them) that split blocks."""
    with bulk():
        return _network(facility, keys)


def _network(facility: Facility, keys: pd.DataFrame | Sequence[str]) -> Network:
    import scipy.sparse as sp

    from twin.validation import context, groups

    ctx = context(facility)
    table = ctx.racks
    populated = table["system"].notna().to_numpy() & (table["gpus"].to_numpy() > 0)
    racks = table[populated].copy()
    devices = ctx.devices.index
    if devices.has_duplicates:
        raise GraphError(f"device ids repeat across kinds: {sorted(set(devices[devices.duplicated()]))[:5]}")
    pos = pd.Series(np.arange(len(devices)), index=devices)
    kind = np.array([ctx.kinds[d] for d in devices], dtype=object)
    rating = pd.to_numeric(ctx.devices["rating_kw"], errors="coerce").fillna(0.0).to_numpy(float)
    named = groups(ctx.devices)
    group_names = list(named)
    index_of = {m: g for g, members in enumerate(named.values()) for m in members}
    group_of = np.array([index_of[d] for d in devices], dtype=np.int64)
    n = len(devices)
    members = sp.csr_matrix((np.ones(n), (group_of, np.arange(n))), shape=(len(group_names), n))
    scheme = ctx.devices["redundancy"] if "redundancy" in ctx.devices else pd.Series(None, index=devices, dtype=object)
    group_scheme = [scheme[m[0]] if isinstance(scheme[m[0]], str) else None for m in named.values()]

    power = _device_edges(ctx.subgraph("power"), pos, n)
    heat = _device_edges(ctx.subgraph("heat"), pos, n)
    backup = np.isin(kind, list(BACKUP_KINDS))
    needs_power = (np.asarray(power.sum(axis=0)).ravel() > 0) | backup
    needs_sink = (np.asarray(heat.sum(axis=1)).ravel() > 0) & np.isin(kind, list(HEAT_KINDS))

    rack_pos = pd.Series(np.arange(len(racks)), index=racks.index)
    plinks = _links(ctx.rack_links("power"), pos, rack_pos)
    hlinks = _links(ctx.rack_links("heat"), pos, rack_pos)
    bad = ~np.isin(kind[hlinks[0]], list(UNIT_KINDS))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GraphError(f"rack {racks.index[hlinks[1][i]]} rejects heat straight to {devices[hlinks[0][i]]} "
                         f"({kind[hlinks[0][i]]}); connect racks to a CDU, CRAH or rear door that rejects to it")
    rng = np.random.default_rng(20250607)
    salt = rng.integers(1, np.iinfo(np.int64).max, size=(n, 2), dtype=np.int64).astype(np.uint64)
    sig = np.zeros((len(racks), 4), dtype=np.uint64)
    for col, (dev, rk) in enumerate((plinks, hlinks)):
        for h in range(2):
            np.bitwise_xor.at(sig[:, 2 * col + h], rk, salt[dev, h])
    frame = keys if isinstance(keys, pd.DataFrame) else racks[[k for k in keys if k in racks.columns]]
    frame = frame.reindex(racks.index)
    key = pd.concat([pd.DataFrame(sig.astype(np.int64), index=racks.index, columns=["p0", "p1", "h0", "h1"]),
                     racks[["hall"]], frame.astype(object).where(frame.notna(), None)], axis=1)
    codes = key.groupby(list(key.columns), sort=False, dropna=False).ngroup().to_numpy()
    racks["block"] = codes
    n_blocks = int(codes.max()) + 1 if len(codes) else 0
    first = np.zeros(n_blocks, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    blocks = racks.iloc[first].drop(columns=["block"]).reset_index().rename(columns={"id": "first_rack"})
    blocks["count"] = np.bincount(codes, minlength=n_blocks)
    for col in frame.columns:
        blocks[col] = frame.iloc[first][col].to_numpy()

    def incidence(dev: np.ndarray, rk: np.ndarray, keep: np.ndarray | None = None) -> sp.csr_matrix:
        d, b = (dev, codes[rk]) if keep is None else (dev[keep], codes[rk[keep]])
        m = sp.csr_matrix((np.ones(len(d)), (d, b)), shape=(n, n_blocks))
        m.data[:] = 1.0
        return m

    stream = np.array([STREAM_OF_UNIT.get(k, -1) for k in kind])
    feed = incidence(*plinks)
    cool = [incidence(*hlinks, keep=stream[hlinks[0]] == s) for s in range(len(STREAMS))]
    lf = np.nan_to_num(blocks["liquid_fraction"].to_numpy(float)) if n_blocks else np.zeros(0)
    share = np.stack([lf, 1.0 - lf], axis=1) if n_blocks else np.zeros((0, 2))
    return Network(devices, kind, rating, group_names, group_scheme, group_of, members, power, heat, needs_power, needs_sink,
                   racks, blocks, feed, cool, share, backup)


def _device_edges(graph, pos: pd.Series, n: int) -> sp.csr_matrix:
    import scipy.sparse as sp

    at = pos.to_dict()
    edges = [(at[u], at[v]) for u, v in graph.edges() if u in at and v in at]
    if not edges:
        return sp.csr_matrix((n, n))
    u, v = np.array(edges, dtype=np.int64).T
    m = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    m.data[:] = 1.0
    return m


def _links(frame: pd.DataFrame, pos: pd.Series, rack_pos: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    keep = frame["device"].isin(pos.index) & frame["rack"].isin(rack_pos.index)
    frame = frame[keep]
    return pos[frame["device"]].to_numpy(), rack_pos[frame["rack"]].to_numpy()


# ------------------------------------------------------------------------------------------ outages
def _ones(m: sp.spmatrix) -> sp.csr_matrix:
    """`m` as a new 0/1 float csr matrix (its nonzero pattern); `m` itself is left as it is."""
    m = m.tocsr(copy=True)
    m.eliminate_zeros()
    m.data = np.ones(len(m.data))
    return m


def _pattern(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """0/1 csr with entries at (`rows`, `cols`)."""
    import scipy.sparse as sp

    return _ones(sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape))


def _minus(a: sp.csr_matrix, b: sp.csr_matrix) -> sp.csr_matrix:
    """Entries of 0/1 matrix `a` that are not in 0/1 matrix `b` (same shape)."""
    return _ones(a - a.multiply(b))


def _complete(counts: sp.csr_matrix, needed: np.ndarray, applies: np.ndarray) -> sp.csr_matrix:
    """0/1 entries where a count of dead neighbours reaches a column's `needed` count (for columns it `applies` to)."""
    counts = counts.tocoo()
    hit = applies[counts.col] & (counts.data >= needed[counts.col] - 0.5)
    return _pattern(counts.row[hit], counts.col[hit], counts.shape)


@dataclass
class Cascade:
    """What is dead in each scenario: `base`, the devices dead with nothing failed (an on-site source without a
    feed, and what only it feeds), and `extra`, what each row's failure kills beyond them. Keeping `base` apart
    keeps the rows as small as their own cascades."""

    extra: Any                       # (scenario x device) 0/1 csr, disjoint from base
    base: np.ndarray                 # (device,) bool

    def counts(self, links: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
        """Dead devices among each column's `links` (device x column): (scenario x column) beyond base, and base's."""
        return self.extra @ links, np.asarray(self.base.astype(float) @ links).ravel()

    def rows(self, idx: np.ndarray) -> Cascade:
        return Cascade(self.extra[idx], self.base)

    def alive(self, cols: np.ndarray) -> np.ndarray:
        """(scenario x len(cols)) bool: which of the devices `cols` still work."""
        return (self.extra[:, cols].toarray() == 0) & ~self.base[cols][None, :]

    def size(self) -> np.ndarray:
        """(scenario,) dead devices in all."""
        return self.extra.getnnz(axis=1) + int(self.base.sum())


def _spread(net: Network, dead: sp.csr_matrix, base: np.ndarray) -> sp.csr_matrix:
    """Grow `dead` (rows beyond `base`) until every device with all feeds, or all heat sinks, dead is in it."""
    down, up = net.power.tocsr(), net.heat.T.tocsr()
    feeds = np.asarray(down.sum(axis=0)).ravel() - np.asarray(base.astype(float) @ down).ravel()
    sinks = np.asarray(up.sum(axis=0)).ravel() - np.asarray(base.astype(float) @ up).ravel()
    power, sink = net.needs_power & ~base, net.needs_sink & ~base
    for _ in range(net.n_devices + 1):
        grown = _ones(dead + _complete(dead @ down, feeds, power) + _complete(dead @ up, sinks, sink))
        if grown.nnz == dead.nnz:
            return dead
        dead = grown
    return dead


def _always_dead(net: Network) -> np.ndarray:
    """(device,) bool: dead with nothing failed: on-site sources without a feed (they carry racks only in the
    ride-through) and whatever only they feed or cool."""
    orphan = np.flatnonzero(net.needs_power & (np.asarray(net.power.sum(axis=0)).ravel() == 0))
    none = np.zeros(net.n_devices, dtype=bool)
    row = _spread(net, _pattern(np.zeros(orphan.size, np.int64), orphan, (1, net.n_devices)), none)
    return row.toarray()[0] > 0


def dead_after(net: Network, failed: np.ndarray) -> Cascade:
    """What no longer works when device `failed[r]` is down in scenario r: the failure and its cascade (a device
    with feeds dies with every feed dead; one with heat sinks, with every sink).

    Sparse in what dies: each round costs the dead entries times their edges, so a scan is linear in the sum of
    the cascades, never scenario x device dense.
    """
    base = _always_dead(net)
    failed = np.asarray(failed, dtype=np.int64)
    own = ~base[failed]
    first = _pattern(np.flatnonzero(own), failed[own], (len(failed), net.n_devices))
    return Cascade(_spread(net, first, base), base)


def rack_fate(net: Network, dead: Cascade) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(scenario x block) 0/1 csr (unfed, uncooled): no live feed; every unit of some stream the block uses dead."""
    n_rows = dead.extra.shape[0]

    def cut(links: sp.csr_matrix, unlinked: bool) -> sp.csr_matrix:
        """Blocks whose every link is dead; blocks with no link at all count as cut when `unlinked`."""
        total = np.asarray(links.sum(axis=0)).ravel()
        extra, base = dead.counts(links)
        always = (base >= total - 0.5) & ((total > 0) | unlinked)    # cut in every scenario (rare: replicated)
        gone = _complete(extra, total - base, (total > 0) & ~always)
        cols = np.flatnonzero(always)
        if cols.size:
            gone = _ones(gone + _pattern(np.repeat(np.arange(n_rows), cols.size), np.tile(cols, n_rows), gone.shape))
        return gone

    uncooled = _pattern(np.zeros(0, np.int64), np.zeros(0, np.int64), (n_rows, net.n_blocks))
    for m in net.cool:
        uncooled = _ones(uncooled + cut(m, unlinked=False))
    return cut(net.feed, unlinked=True), uncooled


def rack_counts(blocks: sp.csr_matrix, count: np.ndarray) -> sp.csr_matrix:
    """(scenario x block) racks: a 0/1 (scenario x block) matrix times each block's rack count."""
    import scipy.sparse as sp

    return sp.csr_matrix(blocks.multiply(count[None, :]))


def _weights(net: Network, start: sp.csr_matrix, dead: Cascade | None = None) -> sp.csr_matrix:
    """Block weights of groups: row r starts from its `start` devices and spreads through those still alive in
    row r of `dead` (all, without it).

    Power groups spread down to the racks they feed (weight 1 per kW); heat groups spread up to the units
    that reject to them and take each block's heat share of the streams they reach.
    """
    import scipy.sparse as sp

    start = _ones(start)
    start.sort_indices()
    n_rows = start.shape[0]
    dead = Cascade(sp.csr_matrix(start.shape), np.zeros(net.n_devices, dtype=bool)) if dead is None else dead
    live = (~dead.base).astype(float)[None, :]
    lead = start.indices[start.indptr[:-1].clip(max=max(start.nnz - 1, 0))] if start.nnz else np.zeros(n_rows, np.int64)
    is_heat_row = np.isin(net.kind[lead], list(HEAT_KINDS)) & (np.diff(start.indptr) > 0)
    parts, order = [], []
    for heat, step in ((False, net.power.tocsr()), (True, net.heat.T.tocsr())):
        rows = np.flatnonzero(is_heat_row == heat)
        if not rows.size:
            continue
        gone = dead.extra[rows]
        reach = _minus(_ones(start[rows].multiply(live)), gone)
        for _ in range(net.n_devices + 1):
            grown = _ones(reach + _minus(_ones((reach @ step).multiply(live)), gone))
            if grown.nnz == reach.nnz:
                break
            reach = grown
        if not heat:
            parts.append(_ones(reach @ net.feed))
        else:
            parts.append(sum((_ones(reach @ m).multiply(net.share[None, :, s]) for s, m in enumerate(net.cool)),
                             sp.csr_matrix((rows.size, net.n_blocks))).tocsr())
        order.append(rows)
    if not parts:
        return sp.csr_matrix((n_rows, net.n_blocks))
    stacked = sp.vstack(parts).tocsr()
    where = np.empty(n_rows, dtype=np.int64)
    where[np.concatenate(order)] = np.arange(n_rows)
    return stacked[where]


@dataclass
class Outages:
    """Every scenario's fate: dead devices, lost blocks, and the groups whose capacity changed.

    `pair_*` arrays describe (scenario, group) rows where a group lost members but still has live ones (or
    was already overloaded): its live capacity and the block weights of racks still reaching it.
    """

    failed: np.ndarray               # (scenario,) device index that fails
    dead: np.ndarray                 # (scenario,) devices dead in all (failure and cascade)
    unfed: Any                       # (scenario x block) 0/1 csr: no live feed
    uncooled: Any                    # (scenario x block) 0/1 csr: some heat stream without a live unit
    pair_scenario: np.ndarray
    pair_group: np.ndarray
    pair_capacity: np.ndarray
    pair_weight: Any                 # (pair x block) csr

    @functools.cached_property
    def lost(self) -> sp.csr_matrix:
        """(scenario x block) 0/1 csr: unpowered or uncooled."""
        return _ones(self.unfed + self.uncooled)

    def pairs_of(self, s: int) -> np.ndarray:
        """Indices of the (scenario, group) rows of scenario `s` (rows are sorted by scenario)."""
        return np.arange(*np.searchsorted(self.pair_scenario, [s, s + 1]))


def outages(net: Network, failed: np.ndarray | None = None, *, watch: np.ndarray | None = None) -> Outages:
    """Analyse single failures of `failed` devices (default: all), in batches; `watch` marks groups to
    keep a row for in every scenario (e.g. those already overloaded with all devices up)."""
    import scipy.sparse as sp

    failed = np.arange(net.n_devices) if failed is None else np.asarray(failed, dtype=np.int64)
    watch = np.zeros(len(net.group_names), dtype=bool) if watch is None else watch
    members = _ones(net.members)
    size = np.asarray(members.sum(axis=1)).ravel()
    full = np.asarray(members @ net.rating).ravel()
    rated_t = members.multiply(net.rating[None, :]).T.tocsr()
    backups = np.flatnonzero(net.backup)
    dead, unfed, uncooled, ps, pg, pc, pw = [], [], [], [], [], [], []
    for lo in range(0, len(failed), BATCH_ROWS):
        chunk = failed[lo:lo + BATCH_ROWS]
        gone = dead_after(net, chunk)
        cut, hot = rack_fate(net, gone)
        spare_backups = gone.extra[:, backups].getnnz(axis=1) + int(gone.base[backups].sum()) - net.backup[chunk]
        dead.append(gone.size() - spare_backups)                    # a backup without grid is not broken
        unfed.append(cut)
        uncooled.append(hot)
        out = _ones(cut + hot)
        extra_lost, base_lost = gone.counts(members.T)              # (scenario x group) dead members
        lost = extra_lost.tocoo()
        hit = lost.data + base_lost[lost.col] < size[lost.col] - 0.5  # lost some, some still live
        s_idx, g_idx = lost.row[hit], lost.col[hit]
        watched = np.flatnonzero(watch | (base_lost > 0.5))          # every scenario they still live in
        if watched.size:
            lost_w = extra_lost[:, watched].toarray() + base_lost[watched][None, :]
            ws, wg = np.nonzero(lost_w < size[watched][None, :] - 0.5)
            s_idx, g_idx = np.concatenate([s_idx, ws]), np.concatenate([g_idx, watched[wg]])
        pairs = np.unique(np.stack([s_idx, g_idx], axis=1), axis=0) if len(s_idx) else np.zeros((0, 2), np.int64)
        s_idx, g_idx = pairs[:, 0], pairs[:, 1]
        extra_kw, base_kw = gone.counts(rated_t)                    # (scenario x group) kW of dead members
        live_kw = full - base_kw
        for a in range(0, len(s_idx), BATCH_ROWS):
            s, g = s_idx[a:a + BATCH_ROWS], g_idx[a:a + BATCH_ROWS]
            w = _weights(net, members[g], gone.rows(s))
            kept = sp.csr_matrix(w - w.multiply(out[s]))             # weights of racks still working
            kept.eliminate_zeros()
            pw.append(kept)
            ps.append(s + lo)
            pg.append(g)
            pc.append(live_kw[g] - np.asarray(extra_kw[s, g]).ravel())
    cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt))
    weights = sp.vstack(pw).tocsr() if pw else sp.csr_matrix((0, net.n_blocks))
    empty = sp.csr_matrix((0, net.n_blocks))
    return Outages(failed, cat(dead, np.int64), sp.vstack(unfed).tocsr() if unfed else empty,
                   sp.vstack(uncooled).tocsr() if uncooled else empty,
                   cat(ps, np.int64), cat(pg, np.int64), cat(pc, float), weights)


# ------------------------------------------------------------------------------------------ values
def block_values(facility: Facility, net: Network, workload: Any = None) -> dict[str, Any]:
    """Per rack of each block: kW at its cap, tokens/s per tier and USD/h, and what re-capping needs.

    Racks carrying `tokens_per_s` (and `revenue_usd_per_h`), as placements write, keep those; others serve
    their `tier` (or the workload's tier mix) by the catalog's curves. `workload: idle` racks draw idle power.
    """
    from twin.physics import ThroughputRangeError, gpu, tokens

    cat = facility.catalog
    if workload is None:
        workload = tokens.site_workload(facility.graph.graph)
    b = net.blocks
    mix = workload.tiers(cat)
    own = b["tier"] if "tier" in b else pd.Series(None, index=b.index, dtype=object)
    tiers = list(mix) + sorted({t for t in own.dropna().unique() if t not in mix})
    n = len(b)
    kw, idle_kw, min_kw = np.zeros(n), np.zeros(n), np.zeros(n)
    rate = np.zeros((n, len(tiers)))        # tokens/s per rack at its cap
    usd = np.zeros(n)
    frac = np.ones(n)
    curve = cat.power_cap_curve(gpu.DEFAULT_CAP_CURVE)
    is_idle = (b["workload"] == IDLE).to_numpy() if "workload" in b else np.zeros(n, bool)
    for i, row in enumerate(b.itertuples(index=False)):
        spec = cat.system(row.system)
        cap = float(row.cap_w) if np.isfinite(row.cap_w) else spec.gpu_tdp_w
        frac[i] = cap / spec.gpu_tdp_w
        idle_kw[i] = float(spec.rack_power_kw(row.nodes, spec.gpu_idle_w))
        min_kw[i] = float(spec.rack_power_kw(row.nodes, curve.min_cap_fraction * spec.gpu_tdp_w))
        kw[i] = idle_kw[i] if is_idle[i] else float(spec.rack_power_kw(row.nodes, cap))
        if is_idle[i]:
            continue
        given = _number(getattr(row, "tokens_per_s", None))
        tier = getattr(row, "tier", None)
        if given is not None:
            tier = tier if isinstance(tier, str) else TRAINING    # placements leave training racks' tier empty
            if tier not in tiers:
                tiers.append(tier)
                rate = np.hstack([rate, np.zeros((n, 1))])
            rate[i, tiers.index(tier)] = given
            usd[i] = _number(getattr(row, "revenue_usd_per_h", None)) or 0.0
            continue
        shares = {tier: 1.0} if isinstance(tier, str) else mix
        factor = float(gpu.cap_factor(cat, cap, spec.gpu_tdp_w))
        for j, t in enumerate(tiers):
            if shares.get(t, 0.0) <= 0:
                continue
            try:
                point = tokens.tier_point(cat, row.system, t, workload)
            except ThroughputRangeError:
                continue
            rate[i, j] = row.gpus * shares[t] * factor * point.tokens_per_s_per_gpu
            usd[i] += rate[i, j] * tokens.revenue_usd_per_mtok(cat, t, point.output_share) * 3600 / 1e6
    return {"tiers": tiers, "kw": kw, "idle_kw": idle_kw, "min_kw": min_kw, "tokens": rate, "usd": usd,
            "cap_fraction": frac, "idle": is_idle, "min_cap_fraction": curve.min_cap_fraction}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float, np.number)) and np.isfinite(value) else None


# ------------------------------------------------------------------------------------------ scan
@dataclass
class ContingencyScan:
    """A scan's result: `table` (one row per failed device, worst first) and what it was computed from."""

    facility: Facility
    net: Network
    outages: Outages
    values: dict[str, Any]
    shed: Any                        # (scenario x block) csr: racks shed after the failure
    base_overloads: list[str]
    table: pd.DataFrame
    recapped: dict[str, Any] = field(default_factory=dict)

    def scenario(self, device: str) -> int:
        ids = self.net.devices[self.outages.failed]
        hit = np.flatnonzero(ids == device)
        if not hit.size:
            from twin.errors import did_you_mean

            raise GraphError(f"{device!r} is not among the scanned devices; {did_you_mean(device, list(ids))}")
        return int(hit[0])

    def rack_state(self, device: str) -> xr.Dataset:
        """Per rack, what losing `device` does to it ('ok', 'capped', 'shed', 'idle off', 'uncooled', 'unpowered'), as a
        Dataset to colour a 3D view by (`twin.render(facility, path, color_by="outage", state=...)`)."""
        import xarray as xr

        s = self.scenario(device)
        o = self.outages
        state = np.full(self.net.n_blocks, "ok", dtype=object)
        capped = self.recapped.get("capped", {}).get(s)
        if capped is not None:
            state[np.asarray(capped) > 0] = "capped"
        shed = self.recapped.get("shed", {}).get(s)
        shed = self.shed[s].toarray().ravel() if shed is None else shed
        block = self.net.racks["block"].to_numpy()
        per_rack = state[block]
        rank = self.net.racks.groupby("block").cumcount().to_numpy()
        off = rank < np.asarray(shed)[block]
        per_rack[off] = np.where(self.values["idle"][block[off]], "idle off", "shed")
        per_rack[o.uncooled[s].toarray().ravel()[block] > 0] = "uncooled"
        per_rack[o.unfed[s].toarray().ravel()[block] > 0] = "unpowered"
        return xr.Dataset({"outage": ("rack", per_rack.astype(str), {"long_name": f"rack state after {device} fails"})},
                          coords={"rack": self.net.racks.index.to_numpy(dtype=str)})


def scan(facility: Facility, devices: Sequence[str] | None = None, *, workload: Any = None,
         kinds: Sequence[str] | None = None) -> ContingencyScan:
    """Fail every device (or `devices`, or those of `kinds`) one at a time; shed load where groups overload.

    Rows of `table`: dead_devices (the failure and its cascade), racks_unpowered, racks_uncooled (powered
    but uncooled), racks_shed, racks_lost, it_kw_lost, stranded_power_kw (rack kW with a live feed but out),
    stranded_cooling_kw (kW of heat with live cooling but out), tokens_lost (+ per tier), revenue_lost_usd_per_h;
    with batteries or generators also racks_on_backup and ride_through_s (`twin.onsite.ride_through`).
    """
    with bulk():
        net = network(facility)
        vals = block_values(facility, net, workload)
        chosen = _chosen(net, devices, kinds)
        count = net.blocks["count"].to_numpy(float)
        weights = net.base_weights()
        load = weights @ (vals["kw"] * count)
        cap = net.capacity("rating")
        over = load > cap * (1 + 1e-9) + 1e-9
        out = outages(net, chosen, watch=over)
        shed = shed_load(net, out, vals)
        table = _table(net, out, vals, shed)
        if net.backup.any():
            from twin.onsite.ride_through import ride_through

            table = table.join(ride_through(facility, net, out, vals))
        return ContingencyScan(facility, net, out, vals, shed, [net.group_names[g] for g in np.flatnonzero(over)], table)


def _chosen(net: Network, devices: Sequence[str] | None, kinds: Sequence[str] | None) -> np.ndarray:
    if devices is not None:
        pos = pd.Series(np.arange(net.n_devices), index=net.devices)
        missing = [d for d in devices if d not in pos.index]
        if missing:
            from twin.errors import did_you_mean

            raise GraphError(f"device {missing[0]!r} does not exist; {did_you_mean(missing[0], list(net.devices))}")
        twice = pd.Index(devices)[pd.Index(devices).duplicated()]
        if len(twice):
            raise GraphError(f"device {twice[0]!r} is listed twice; scan each device once")
        return pos[list(devices)].to_numpy()
    allowed = set(kinds) if kinds is not None else DEVICE_KINDS
    unknown = allowed - DEVICE_KINDS
    if unknown:
        raise GraphError(f"unknown device kinds {sorted(unknown)}; use some of {sorted(DEVICE_KINDS)}")
    return np.flatnonzero(np.isin(net.kind, list(allowed)))


def overloaded(out: Outages, kw_total: np.ndarray) -> np.ndarray:
    """Indices of (scenario, group) rows whose live capacity is exceeded by the racks still working, each block
    drawing `kw_total[block]` (its racks' kW) where it works: pair weights are zero on lost blocks."""
    load = out.pair_weight @ kw_total
    return np.flatnonzero(load > out.pair_capacity * (1 + 1e-9) + 1e-6)


def working_racks(out: Outages, s: int, count: np.ndarray) -> np.ndarray:
    """(block,) racks of each block still powered and cooled in scenario `s`."""
    return count * (1.0 - out.lost[s].toarray().ravel())


def shed_load(net: Network, out: Outages, vals: dict[str, Any]) -> sp.csr_matrix:
    """Racks shed per (scenario, block), csr, so every group with lost members fits its live capacity again.

    The most overloaded group sheds first, least tokens per kW first, whole racks; loops run over overloaded
    groups, never over racks.
    """
    import scipy.sparse as sp

    count = net.blocks["count"].to_numpy(float)
    kw = vals["kw"]
    value = vals["tokens"].sum(axis=1) / np.maximum(kw, 1e-9)
    order = np.argsort(value, kind="stable")
    hot = overloaded(out, count * kw)
    rows_of, cols_of, racks_of = [], [], []
    for s in np.unique(out.pair_scenario[hot]):
        rows = out.pairs_of(s)
        w = out.pair_weight[rows].toarray()
        cap = out.pair_capacity[rows]
        live = working_racks(out, s, count)
        left = live.copy()
        while True:
            excess = w @ (left * kw) - cap
            r = int(np.argmax(excess))
            if excess[r] <= 1e-6 * max(cap[r], 1.0):
                break
            need = excess[r]
            for b in order[(w[r, order] > 0) & (left[order] > 0)]:
                per_rack = kw[b] * w[r, b]
                take = min(left[b], np.ceil(need / per_rack - 1e-9)) if per_rack > 0 else 0
                left[b] -= take
                need -= take * per_rack
                if need <= 1e-6:
                    break
            if need > 1e-6:
                left[w[r] > 0] = 0
        cols = np.flatnonzero(live - left)
        rows_of.append(np.full(cols.size, s))
        cols_of.append(cols)
        racks_of.append((live - left)[cols])
    cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0))
    return sp.csr_matrix((cat(racks_of), (cat(rows_of).astype(np.int64), cat(cols_of).astype(np.int64))),
                         shape=(len(out.failed), net.n_blocks))


def _table(net: Network, out: Outages, vals: dict[str, Any], shed: sp.csr_matrix) -> pd.DataFrame:
    count = net.blocks["count"].to_numpy(float)
    kw, rate, usd = vals["kw"], vals["tokens"], vals["usd"]
    unpowered = rack_counts(out.unfed, count)
    uncooled = rack_counts(_minus(out.uncooled, out.unfed), count)      # powered but uncooled
    lost = unpowered + uncooled + shed
    cooled_out = rack_counts(_minus(out.unfed, out.uncooled), count) + shed
    total = (lambda m: np.asarray(m.sum(axis=1)).ravel().round().astype(np.int64))
    lost_tokens = lost @ rate
    ids = net.devices[out.failed]
    frame = pd.DataFrame({
        "kind": net.kind[out.failed],
        "group": [net.group_names[g] for g in net.group_of[out.failed]],
        "dead_devices": out.dead,
        "racks_unpowered": total(unpowered),
        "racks_uncooled": total(uncooled),
        "racks_shed": total(shed),
        "racks_lost": total(lost),
        "it_kw_lost": lost @ kw,
        "stranded_power_kw": (uncooled + shed) @ kw,
        "stranded_cooling_kw": cooled_out @ kw,
        "tokens_lost": lost_tokens.sum(axis=1),
        **{f"tokens_lost[{t}]": lost_tokens[:, j] for j, t in enumerate(vals["tiers"])},
        "revenue_lost_usd_per_h": lost @ usd,
    }, index=pd.Index(ids, name="device"))
    return worst_first(frame, ["tokens_lost", "racks_lost", "it_kw_lost"])


def worst_first(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Rows by `keys` descending, ties in their present (device) order. Keys are compared at 9 significant
    digits, so float noise from the order of a sum never reorders failures that cost the same."""
    def coarse(x: np.ndarray) -> np.ndarray:
        ok = np.isfinite(x) & (x != 0)
        step = 10.0 ** (np.floor(np.log10(np.abs(np.where(ok, x, 1.0)))) - 8)
        return np.where(ok, np.round(x / step) * step, x)

    return table.iloc[np.lexsort([-coarse(np.asarray(table[k], dtype=float)) for k in reversed(keys)])]


__all__ = ["Network", "Outages", "ContingencyScan", "network", "outages", "dead_after", "rack_fate", "rack_counts", "scan",
           "shed_load", "working_racks", "worst_first", "block_values", "overloaded", "Cascade", "IDLE", "STREAMS"]
