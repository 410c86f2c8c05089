"""Single-failure scans on small hand-built facilities: blast radii, shed and re-capped losses computed by
hand, redundancy doing what it promises, and the matrices agreeing with the independent networkx checker."""

from __future__ import annotations

import math

import numpy as np
import pytest

import blueprints
import solvers
from twin import Facility
from twin.catalog import default_catalog
from twin.contingency import network, scan
from twin.contingency_check import dead_devices, lost_racks, overloads
from twin.errors import GraphError
from twin.physics import tokens

CAT = default_catalog()
SPEC = CAT.system("gb200_nvl72")
RACK_KW = SPEC.rack_power_kw(18, SPEC.gpu_tdp_w)                   # 131.994 kW
LIQUID = SPEC.liquid_heat_fraction                                   # 0.85 of the heat to CDUs


def rack_tokens() -> float:
    """Tokens/s of one GB200 NVL72 rack at TDP over the default equal tier mix (what a scan counts)."""
    mix = tokens.Workload().tiers(CAT)
    return sum(72 * share * tokens.tier_throughput(CAT, "gb200_nvl72", t) for t, share in mix.items())


def tiny(ups_kw: float = 600.0, cdu_kw: float = 320.0, racks: int = 4) -> Facility:
    """grid -> 2N UPS -> one busway (N) -> racks; 2 CDUs (N+1) -> one dry cooler; one CRAH -> one chiller."""
    f = Facility("tiny", grid_limit_mw=2.0, climate="phoenix")
    f.add_device("grid", "grid", rating_kw=5000)
    for side in "ab":
        f.add_device(f"ups-{side}", "ups", rating_kw=ups_kw, fed_by=["grid"], group="ups", redundancy="2N")
    f.add_device("busway-1", "busway", rating_kw=1000, fed_by=["ups-a", "ups-b"])
    f.add_device("dc-1", "dry_cooler", rating_kw=2000)
    f.add_device("ch-1", "chiller", rating_kw=500)
    for i in (1, 2):
        f.add_device(f"cdu-{i}", "cdu", rating_kw=cdu_kw, rejects_to=["dc-1"], group="cdus", redundancy="N+1")
    f.add_device("crah-1", "crah", rating_kw=300, rejects_to=["ch-1"])
    f.add_hall("hall-a", width_m=12, depth_m=6, cooling="dlc")
    row = f.add_row("hall-a", "row-01", y_m=3)
    f.add_racks(row, racks, x_m=2, system="gb200_nvl72", fed_by=["busway-1"], cooled_by=["cdu-1", "cdu-2", "crah-1"])
    return f


def two_rows() -> Facility:
    """Two rows on their own busways (N), both behind the same 2N UPS pair: a busway's blast radius is its row."""
    f = tiny(ups_kw=1200.0, cdu_kw=1200.0, racks=2)
    f.add_device("busway-2", "busway", rating_kw=1000, fed_by=["ups-a", "ups-b"])
    row = f.add_row("hall-a", "row-02", y_m=5)
    f.add_racks(row, 3, x_m=2, system="gb200_nvl72", fed_by=["busway-2"], cooled_by=["cdu-1", "cdu-2", "crah-1"])
    return f


def test_2n_ups_loses_nothing_and_the_n_busway_loses_its_branch():
    table = scan(tiny()).table
    for ups in ("ups-a", "ups-b"):
        assert table.loc[ups, ["racks_lost", "racks_shed", "tokens_lost"]].tolist() == [0, 0, 0.0]
    row = table.loc["busway-1"]
    assert (row["racks_unpowered"], row["racks_uncooled"], row["dead_devices"]) == (4, 0, 1)
    assert row["tokens_lost"] == pytest.approx(4 * rack_tokens(), rel=1e-9)
    assert row["it_kw_lost"] == pytest.approx(4 * RACK_KW)
    assert row["stranded_cooling_kw"] == pytest.approx(4 * RACK_KW) and row["stranded_power_kw"] == 0


def test_busway_blast_radius_is_its_own_row():
    table = scan(two_rows()).table
    assert table.loc["busway-1", "racks_unpowered"] == 2
    assert table.loc["busway-2", "racks_unpowered"] == 3
    assert table.loc["grid", "racks_lost"] == 5
    assert table["tokens_lost"].iloc[0] == table.loc["grid", "tokens_lost"]        # sorted worst first


def test_n_plus_1_cdus_lose_nothing_when_the_spare_can_take_the_load():
    ample = 4 * RACK_KW * LIQUID + 1.0                              # one CDU alone carries the liquid heat
    table = scan(tiny(cdu_kw=ample)).table
    assert table.loc["cdu-1", "racks_lost"] == 0 and table.loc["cdu-2", "tokens_lost"] == 0


def test_n_plus_1_cdus_short_of_the_load_shed_whole_racks():
    cdu_kw = 320.0
    excess = 4 * RACK_KW * LIQUID - cdu_kw                           # 128.8 kW of heat too much for one CDU
    want = math.ceil(excess / (RACK_KW * LIQUID))                    # 2 racks
    row = scan(tiny(cdu_kw=cdu_kw)).table.loc["cdu-1"]
    assert (row["racks_shed"], row["racks_lost"], row["racks_unpowered"]) == (want, want, 0)
    assert row["tokens_lost"] == pytest.approx(want * rack_tokens())
    assert row["stranded_power_kw"] == pytest.approx(want * RACK_KW)


def test_recap_keeps_every_rack_at_a_lower_cap_with_the_hand_computed_throughput():
    cdu_kw = 320.0
    kw_per_rack = cdu_kw / LIQUID / 4                                 # the 4 racks share one CDU's rating
    per_gpu_w = ((kw_per_rack - SPEC.rack_overhead_w / 1000) * 1000 / 18 - SPEC.node_overhead_w) / 4
    factor = float(CAT.power_cap_curve("measured_default").factor(per_gpu_w / SPEC.gpu_tdp_w))
    result = solvers.recap(scan(tiny(cdu_kw=cdu_kw)), shed="last-resort")
    row = result.table.loc["cdu-1"]
    assert (row["racks_capped"], row["racks_shed_recap"], row["racks_lost_recap"]) == (4, 0, 0)
    assert row["tokens_lost_recap"] == pytest.approx(4 * rack_tokens() * (1 - factor), rel=1e-6)
    assert row["tokens_lost_recap"] < row["tokens_lost"]
    assert set(result.rack_state("cdu-1")["outage"].values) == {"capped"}


def test_recap_sheds_only_what_minimum_caps_cannot_save():
    cdu_kw = 300.0                                                   # 4 racks at the minimum cap need 301.9 kW
    min_kw = SPEC.rack_power_kw(18, 0.5 * SPEC.gpu_tdp_w) * LIQUID
    assert 4 * min_kw > cdu_kw > 3 * min_kw
    row = solvers.recap(scan(tiny(cdu_kw=cdu_kw)), shed="last-resort").table.loc["cdu-1"]
    assert (row["racks_shed_recap"], row["racks_capped"]) == (1, 3)


def test_optimal_recap_never_loses_more_than_shedding_or_capping_alone():
    result = scan(tiny(cdu_kw=320.0, racks=8))
    best = solvers.recap(result).table.loc["cdu-1"]
    capped = solvers.recap(result, shed="last-resort").table.loc["cdu-1"]
    assert best["tokens_lost_recap"] <= min(best["tokens_lost"], capped["tokens_lost_recap"]) * (1 + 1e-9)
    # one CDU takes 320 kW: four racks fit only at a 56 % cap (4 x 0.692 = 2.77 racks' tokens), while one rack
    # off leaves three at a 92 % cap (3 x 0.948 = 2.84): the optimum sheds one
    four = solvers.recap(scan(tiny(cdu_kw=320.0))).table.loc["cdu-1"]
    assert (four["racks_shed_recap"], four["racks_capped"]) == (1, 3)


def test_cascades_dead_plant_kills_its_units_and_grid_takes_everything():
    table = scan(tiny()).table
    dc = table.loc["dc-1"]
    assert (dc["dead_devices"], dc["racks_uncooled"], dc["racks_unpowered"]) == (3, 4, 0)
    assert dc["stranded_power_kw"] == pytest.approx(4 * RACK_KW)
    assert table.loc["crah-1", "racks_uncooled"] == 4                # the air stream has a single unit
    assert (table.loc["grid", "dead_devices"], table.loc["grid", "racks_unpowered"]) == (4, 4)


def test_rack_state_for_a_view():
    result = scan(tiny(cdu_kw=320.0))
    state = result.rack_state("cdu-1")
    assert sorted(state["outage"].values.tolist()) == ["ok", "ok", "shed", "shed"]
    assert set(scan(tiny()).rack_state("busway-1")["outage"].values) == {"unpowered"}
    assert list(state["rack"].values) == list(tiny().table("rack").index)
    with pytest.raises(GraphError, match="cdu-9"):
        result.rack_state("cdu-9")


def test_scan_picks_devices_and_kinds():
    f = tiny()
    assert list(scan(f, ["cdu-1"]).table.index) == ["cdu-1"]
    assert set(scan(f, kinds=["ups"]).table.index) == {"ups-a", "ups-b"}
    with pytest.raises(GraphError, match="does not exist"):
        scan(f, ["ups-z"])
    with pytest.raises(GraphError, match="listed twice"):
        scan(f, ["ups-a", "ups-a"])
    with pytest.raises(GraphError, match="unknown device kinds"):
        scan(f, kinds=["toaster"])


@pytest.mark.parametrize("make", [lambda: tiny(cdu_kw=320.0), two_rows, lambda: blueprints.load("ai-datacenter-hall"),
                                  lambda: blueprints.load("ai-factory-20mw")])
def test_matrices_agree_with_the_independent_checker(make):
    """Dead devices, lost racks and overloaded groups after every failure, from both implementations."""
    from twin.contingency_check import rack_kw
    from twin.validation import context

    f = make()
    ctx, kw = context(f), rack_kw(f)
    devices = [d for d in ctx.devices.index if not d.endswith("/door")] + list(ctx.devices.index[ctx.devices.index.str.endswith("/door")][:4])
    result = scan(f, devices)
    net, out = result.net, result.outages
    count = net.blocks["count"].to_numpy()
    block = net.racks["block"].to_numpy()
    lost_blocks = out.lost.toarray() > 0
    live_kw = ~lost_blocks * (count * result.values["kw"])[None, :]
    load = np.asarray(out.pair_weight.multiply(live_kw[out.pair_scenario]).sum(axis=1)).ravel()
    hot = load > out.pair_capacity * (1 + 1e-9) + 1e-6
    for s, device in enumerate(net.devices[out.failed]):
        dead = dead_devices(f, device, ctx)
        assert len(dead) == out.dead[s], device
        lost = lost_racks(f, dead, ctx)
        assert lost == set(net.racks.index[lost_blocks[s][block]]), device
        groups = {g.split(" ")[1] for g in overloads(f, device, kw=kw, ctx=ctx)}
        assert groups == {net.group_names[g] for g in out.pair_group[(out.pair_scenario == s) & hot]}, device


def test_shed_racks_leave_no_group_overloaded():
    f = tiny(cdu_kw=320.0)
    result = scan(f)
    kw = result.facility.table("rack")["nameplate_kw"].copy()
    shed = result.rack_state("cdu-1")["outage"].to_series()
    kw[shed.index[shed == "shed"]] = 0.0
    assert overloads(f, "cdu-1")
    assert overloads(f, "cdu-1", kw=kw) == []


def test_packaged_blueprints_lose_what_their_redundancy_says():
    hall = scan(blueprints.load("ai-factory-hall")).table
    assert set(hall.index[hall["racks_lost"] > 0]) == {"grid", "sub-1"}
    dc = scan(blueprints.load("ai-datacenter-hall")).table
    assert (dc.filter(like="pdu-1", axis=0)["racks_unpowered"] == 16).all()
    assert (dc.filter(like="/door", axis=0)["racks_uncooled"] == 1).all()
    assert dc.loc[[f"ups-{i}" for i in range(1, 5)], "racks_lost"].sum() == 0


def test_network_blocks_group_racks_by_feeds():
    net = network(two_rows())
    assert net.n_blocks == 2 and sorted(net.blocks["count"]) == [2, 3]
    assert net.capacity("rating")[net.group_names.index("ups")] == 2400
    assert net.capacity("usable")[net.group_names.index("ups")] == 1200


def test_cli_contingency_table_and_csv(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "scan.csv"
    run = subprocess.run([sys.executable, "-m", "twin", "contingency", "ai-datacenter-hall", "--kinds", "pdu,ups",
                          "--top", "3", "--out", str(out)], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr
    assert "hall-b/row-01/pdu-1" in run.stdout and "Mtok/s" in run.stdout
    assert "tokens_lost_recap" in out.read_text().splitlines()[0]


def test_failures_that_cost_the_same_keep_device_order():
    """Ties at 9 significant digits stay in device order: float noise from a sum's order never reorders them."""
    import pandas as pd

    from twin.contingency import worst_first

    table = pd.DataFrame({"tokens_lost": [5.0, 7.0, 5.0 * (1 + 1e-15), 5.0 * (1 - 1e-15), 6.0],
                          "racks_lost": [2, 3, 2, 2, 2]}, index=["a", "b", "c", "d", "e"])
    assert list(worst_first(table, ["tokens_lost", "racks_lost"]).index) == ["b", "e", "a", "c", "d"]
    f = blueprints.load("ai-datacenter-hall")
    result = scan(f)
    pos = pd.Series(np.arange(result.net.n_devices), index=result.net.devices)
    t = result.table
    for _, tied in t.groupby([t["tokens_lost"].round(3), t["racks_lost"], t["it_kw_lost"].round(3)], sort=False):
        assert pos[tied.index].is_monotonic_increasing
