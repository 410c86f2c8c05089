"""Cooling vs weather: linear in heat, economizer vs chiller by ambient, fans, water, capacity at the limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.catalog import default_catalog
from twin.physics import PhysicsError
from twin.physics.cooling import (
    MIN_FAN_SPEED, aux_per_kw, cooling_power_kw, fan_speed, free_capacity_kw, plant_coefficients,
)

CAT = default_catalog()
CASES = [
    ("dlc", "dry_cooler"),
    ("dlc", ["chiller_water_cooled", "cooling_tower"]),
    ("immersion", "cooling_tower"),
    ("rdhx", ["chiller_water_cooled", "cooling_tower"]),
    ("air", "chiller_air_cooled"),
    ("air", ["chiller_air_cooled", "dry_cooler"]),
]
KEYS = ("units_kw", "plant_kw", "chiller_kw", "fans_pumps_kw", "water_l_per_h")


def run(tech, chain, liquid, air, db, wb):
    if CAT.cooling_tech(tech).unit_kind == "crah":
        liquid, air = 0.0 * np.asarray(liquid), np.asarray(liquid) + np.asarray(air)
    return cooling_power_kw(CAT, tech, chain, liquid, air, db, wb)


@settings(max_examples=40, deadline=None)
@given(case=st.sampled_from(CASES), scale=st.floats(0.0, 50.0), db=st.floats(-30.0, 50.0), dep=st.floats(0.0, 25.0),
       liquid=st.floats(0.0, 5000.0), air=st.floats(0.0, 1000.0))
def test_linear_in_heat_at_any_ambient(case, scale, db, dep, liquid, air):
    tech, chain = case
    wb = db - dep
    base = run(tech, chain, liquid, air, db, wb)
    scaled = run(tech, chain, scale * liquid, scale * air, db, wb)
    unit = run(tech, chain, 1.0, 0.0, db, wb)
    unit_air = run(tech, chain, 0.0, 1.0, db, wb)
    for k in KEYS:
        assert scaled[k] == pytest.approx(scale * base[k], rel=1e-9, abs=1e-9)
        # superposition: coefficients at 1 kW rebuild any heat split (what the optimizer relies on)
        rebuilt = liquid * unit[k] + air * unit_air[k]
        assert base[k] == pytest.approx(rebuilt, rel=1e-9, abs=1e-9)
        assert base[k] >= 0


@pytest.mark.parametrize("tech,chain", CASES)
def test_cooling_power_never_falls_as_ambient_rises(tech, chain):
    db = np.linspace(-25, 48, 147)
    r = run(tech, chain, 1000.0, 100.0, db, db - 6.0)
    total = r["units_kw"] + r["plant_kw"]
    assert np.all(np.diff(total) >= -1e-9)
    assert np.all(np.diff(r["free_fraction"]) <= 1e-12)


def test_warm_water_dry_cooler_is_chiller_free_until_ambient_plus_approach_passes_the_setpoint():
    tech = CAT.cooling_tech("dlc")
    dc = CAT.heat_rejection("dry_cooler")
    db = np.array([0.0, 20.0, tech.facility_supply_c - dc.approach_c + 1.0])
    r = cooling_power_kw(CAT, "dlc", "dry_cooler", 1000.0, 0.0, db, db - 5)
    assert not np.any(r["chiller_on"])
    assert r["supply_c"][:2].tolist() == [tech.facility_supply_c] * 2
    assert r["supply_c"][2] == pytest.approx(db[2] + dc.approach_c)
    assert r["units_kw"] == pytest.approx(1000.0 * tech.unit_power_kw_per_kw)
    # fans slow with headroom (cube law on the fan share), never below the minimum speed
    assert r["fans_pumps_kw"][0] < r["fans_pumps_kw"][2]
    assert r["water_l_per_h"].tolist() == [0.0, 0.0, 0.0]


def test_fan_speed_and_aux():
    dc = CAT.heat_rejection("dry_cooler")
    assert fan_speed(dc, 36.0, 36.0 - dc.approach_c).item() == pytest.approx(1.0)
    assert fan_speed(dc, 36.0, 36.0 - 2 * dc.approach_c).item() == pytest.approx(0.5)
    assert fan_speed(dc, 36.0, -40.0).item() == pytest.approx(MIN_FAN_SPEED)
    assert aux_per_kw(dc, 1.0) == pytest.approx(dc.fan_pump_kw_per_kw)


def test_chiller_at_its_rating_point_runs_at_rated_cop():
    for ident in ("chiller_water_cooled", "chiller_air_cooled"):
        ch = CAT.heat_rejection(ident)
        amb = ch.cop_rated_condenser_c - ch.approach_c
        c = plant_coefficients(ch, None, ch.cop_rated_supply_c, amb, amb)
        assert c.compressor.item() == pytest.approx(1.0 / ch.cop_rated, rel=1e-5)  # EIR-fPLR(1) = 1 to 6 digits
        assert c.out.item() == pytest.approx(1.0 + 1.0 / ch.cop_rated, rel=1e-5)


def test_waterside_economizer_fraction_follows_the_wet_bulb():
    ch, ct = CAT.heat_rejection("chiller_water_cooled"), CAT.heat_rejection("cooling_tower")
    setpoint = 14.0
    wb = np.array([0.0, setpoint - ct.approach_c, setpoint + 2.5 - ct.approach_c, setpoint + 5 - ct.approach_c, 30.0])
    c = plant_coefficients(ch, ct, setpoint, wb + 8, wb)
    assert c.free_fraction.tolist() == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0])
    assert c.compressor[0] == 0 and c.compressor[-1] > c.compressor[2] > 0
    # a chiller behind a tower: the tower evaporates (less in the cold, when its water is only at the
    # setpoint), the chiller keeps only its chilled-water pumps
    assert np.all(c.water == 0) and np.all(c.down_water > 1.0) and c.down_water[0] < c.down_water[-1]
    assert c.aux[0] == pytest.approx(ch.fan_pump_kw_per_kw - ct.fan_pump_kw_per_kw)


def test_free_capacity_scales_with_headroom():
    dc = CAT.heat_rejection("dry_cooler")
    cap = free_capacity_kw(dc, 1000.0, 36.0, np.array([36.0 - dc.approach_c, 36.0 - 2 * dc.approach_c, 40.0]), 0.0)
    assert cap.tolist() == pytest.approx([1000.0, 2000.0, 0.0])


def test_errors_name_the_argument():
    with pytest.raises(PhysicsError, match="air-only"):
        cooling_power_kw(CAT, "air", "chiller_air_cooled", 10.0, 0.0, 20.0, 15.0)
    with pytest.raises(PhysicsError, match="chiller rejecting"):
        cooling_power_kw(CAT, "dlc", ["dry_cooler", "cooling_tower"], 10.0, 0.0, 20.0, 15.0)
    with pytest.raises(Exception, match="unknown heat rejection"):
        cooling_power_kw(CAT, "dlc", "drycooler", 10.0, 0.0, 20.0, 15.0)
