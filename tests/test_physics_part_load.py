"""Part-load physics: fans and pumps on affinity laws with minimum speed and fixed head, chillers on DOE-2
part-load curves, tower water from evaporation, adiabatic spray; and a half-loaded hall costs more per kW."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from blueprints.parametric import ai_datacenter, ai_factory
from twin.catalog import default_catalog
from twin.physics import water
from twin.physics.cooling import (air_economizer_fraction, cooling_power_kw, free_capacity_kw, mover_fraction,
                                  plant_coefficients)
from twin.physics import PhysicsError
from twin.weather import psychro

CAT = default_catalog()


def test_mover_fraction_by_hand():
    # cube law without a setpoint; a fixed head makes it s*(h + (1-h) s^2); minimum speed floors s
    assert mover_fraction(0.5, 0.0, 0.0) == pytest.approx(0.125)
    assert mover_fraction(0.5, 0.0, 0.25) == pytest.approx(0.5 * (0.25 + 0.75 * 0.25))
    assert mover_fraction(0.1, 0.3, 0.0) == pytest.approx(0.027)
    assert mover_fraction(1.0, 0.3, 0.5) == pytest.approx(1.0)


def test_chiller_part_load_follows_the_doe2_curve():
    ch = CAT.heat_rejection("chiller_water_cooled")
    k = ch.eir_part_load
    for plr in (0.25, 0.5, 0.75):
        assert ch.part_load_factor(plr) == pytest.approx((k["a"] + k["b"] * plr + k["c"] * plr**2) / plr)
    # below the minimum PLR the chiller cycles: its kW per kW stays at the minimum's
    assert ch.part_load_factor(0.02) == pytest.approx(ch.part_load_factor(k["min_plr"]))
    amb = ch.cop_rated_condenser_c - ch.approach_c
    half = plant_coefficients(ch, None, ch.cop_rated_supply_c, amb, amb, load_fraction=0.5)
    assert half.compressor == pytest.approx(ch.part_load_factor(0.5) / ch.cop_rated)


def test_half_loaded_plant_pays_its_fixed_pumps():
    """Constant-flow pumps do not fall with load: per kW they cost twice as much at half load."""
    ct = CAT.heat_rejection("cooling_tower")
    full = plant_coefficients(ct, None, 14.0, 30.0, 24.0, load_fraction=1.0)
    half = plant_coefficients(ct, None, 14.0, 30.0, 24.0, load_fraction=0.5)
    pumps = ct.fan_pump_kw_per_kw * (1 - ct.fan_share)  # all constant flow (constant_pump_share 1)
    assert full.aux == pytest.approx(ct.fan_pump_kw_per_kw)
    # fans at full speed (no headroom): cube law on 0.5 speed, pumps constant
    assert half.aux == pytest.approx((ct.fan_pump_kw_per_kw * ct.fan_share * 0.125 + pumps) / 0.5)


def test_cooling_power_at_full_load_is_unchanged_by_the_keyword():
    a = cooling_power_kw(CAT, "air", "chiller_air_cooled", 0.0, 1000.0, 30.0, 20.0)
    b = cooling_power_kw(CAT, "air", "chiller_air_cooled", 0.0, 1000.0, 30.0, 20.0, load_fraction=1.0)
    assert a == b
    half = cooling_power_kw(CAT, "air", "chiller_air_cooled", 0.0, 1000.0, 30.0, 20.0, load_fraction=0.5)
    assert half["chiller_kw"] > a["chiller_kw"]   # positive-displacement compressors unload poorly


def test_evaporation_matches_an_independent_psychrometric_library():
    """The tower's latent share from our vectorized psychrometrics equals psychrolib's (ASHRAE formulas)."""
    psychrolib = pytest.importorskip("psychrolib")
    psychrolib.SetUnitSystem(psychrolib.SI)
    for db, wb, tw in [(35.0, 24.0, 30.7), (10.0, 5.0, 16.8), (43.0, 21.0, 27.7), (25.0, 20.0, 26.7)]:
        w_in = psychrolib.GetHumRatioFromTWetBulb(db, wb, 101325.0)
        w_out = psychrolib.GetSatHumRatio(tw, 101325.0)
        dh = (psychrolib.GetMoistAirEnthalpy(tw, w_out) - psychrolib.GetMoistAirEnthalpy(db, w_in)) / 1000.0
        expected = (2500.0 - 2.42 * tw) * (w_out - w_in) / dh
        assert float(water.latent_share(db, wb, tw)) == pytest.approx(expected, rel=0.02)


def test_tower_makeup_is_evaporation_times_cycles():
    e = water.evaporation_l_per_kwh(35.0, 24.0, 30.0 + 5.56 / 2)
    assert water.tower_litres_per_kwh(35.0, 24.0, 30.0, range_c=5.56, cycles=4.0) == pytest.approx(e * 4 / 3)
    # all-latent rejection evaporates ~1.47-1.50 L/kWh (reference: 3600 kJ / h_fg); hot dry air evaporates more
    assert 1.3 < float(e) < 1.9
    assert water.evaporation_l_per_kwh(43.0, 21.0, 27.7) > water.evaporation_l_per_kwh(10.0, 5.0, 16.8)


def test_adiabatic_dry_cooler_sprays_only_when_the_dry_coil_falls_short():
    dc, ad = CAT.heat_rejection("dry_cooler"), CAT.heat_rejection("dry_cooler_adiabatic")
    db = np.array([10.0, 25.0, 38.0])
    wb = np.array([6.0, 17.0, 20.0])
    c = plant_coefficients(ad, None, 36.0, db, wb)
    assert c.water[0] == 0 and c.water[1] == 0 and c.water[2] > 0
    wet_air = 38.0 - ad.adiabatic_effectiveness * 18.0
    assert c.water[2] == pytest.approx((38.0 - wet_air) / ad.air_range_c * 3600 / (2500 - 2.42 * wet_air))
    assert c.delivered_c[2] == pytest.approx(36.0)   # holds the setpoint the dry coil would miss
    assert plant_coefficients(dc, None, 36.0, db, wb).delivered_c[2] == pytest.approx(38.0 + dc.approach_c)
    # pre-cooled air moves more heat within the coolant limit than the dry coil
    assert free_capacity_kw(ad, 1000.0, 40.0, 38.0, 20.0) > free_capacity_kw(dc, 1000.0, 40.0, 38.0, 20.0)


@pytest.mark.slow
def test_half_loaded_chilled_water_air_hall_has_a_higher_annual_pue():
    """Acceptance: a chilled-water air hall's annual PUE at 50 % load is above its PUE at 100 %."""
    f = ai_datacenter(5, cooling="air", system="h200_hgx8", nodes=1, climate="ashburn")
    full = twin.simulate(f, hours=8760)
    f.populate(list(f.table("rack").index[::2]), None)   # half the racks, same plant and power chain
    half = twin.simulate(f, hours=8760)
    assert float(half.it_power_kw.mean() / full.it_power_kw.mean()) == pytest.approx(0.5, abs=0.01)
    # fixed terms at least: lighting per kW doubles (+0.6 %), UPS and transformer no-load losses per kW double
    # (+~1 %); CRAH fans on the cube law get cheaper per kW, staged plant pumps stay about level
    assert half.twin.pue() > full.twin.pue() + 0.01
    for ds in (full, half):
        gap = ds.grid_power_kw - ds.it_power_kw - ds.losses_kw - ds.cooling_power_kw - ds.aux_power_kw
        assert float(abs(gap).max()) < 1e-6


@pytest.mark.slow
def test_tower_plant_wue_follows_the_wet_bulb_across_a_year():
    """Acceptance: a tower plant's WUE varies with weather (evaporation of the heat rejected)."""
    ds = twin.simulate(ai_datacenter(5, cooling="air", system="h200_hgx8", nodes=1, climate="ashburn"), hours=8760)
    wue = ds.wue_l_per_kwh.values
    assert wue.max() / wue.min() > 1.5
    assert np.corrcoef(wue, ds.wet_bulb_c.values)[0, 1] > 0.5
    # a chiller-less warm-water site on dry coolers evaporates nothing
    dry = twin.simulate(ai_factory(3, system="gb300_nvl72", air_rejection="dry_cooler", climate="lulea"), hours=168)
    assert float(dry.water_l_per_h.sum()) == 0.0


def test_crah_fan_power_follows_airflow_from_the_supply_return_difference():
    """Fan power per kW = dp / (eta rho cp dT): halving the air dT doubles the air moved and the fan power."""
    air = CAT.cooling_tech("air")
    assert air.fan_kw_per_kw() == pytest.approx(air.unit_power_kw_per_kw, rel=0.02)
    assert air.fan_kw_per_kw(6.0) == pytest.approx(2 * air.fan_kw_per_kw(12.0))
    units = {}
    for dt in (12.0, 6.0):
        f = ai_datacenter(2, cooling="air", system="h200_hgx8", nodes=1, climate="ashburn")
        for n in f.nodes_of("crah"):
            f.graph.nodes[n]["air_dt_c"] = dt
        units[dt] = float(twin.simulate(f, hours=24).units_power_kw.sum())
    assert units[6.0] == pytest.approx(2 * units[12.0], rel=1e-9)


def test_staged_plant_runs_only_the_units_the_load_needs():
    from twin.physics.cooling import staged_fraction

    # 5 units at 30 % each carry 1.5 units of load: 2 run at 75 %; one unit, or a full group, is unchanged
    assert staged_fraction(0.3, 5) == pytest.approx(0.75)
    assert staged_fraction(0.3, 1) == pytest.approx(0.3)
    assert staged_fraction(1.0, 5) == pytest.approx(1.0)
    ct = CAT.heat_rejection("cooling_tower")
    unstaged = plant_coefficients(ct, None, 14.0, 30.0, 24.0, load_fraction=0.3)
    staged = plant_coefficients(ct, None, 14.0, 30.0, 24.0, load_fraction=0.3, members=5)
    assert staged.aux < unstaged.aux   # the constant-flow pumps of three idle towers are off


def test_airside_economizer_share_by_hand():
    """24 °C supply, 36 °C return, 0.5 K fan heat: all below 23.5 °C, (36 - (t + 0.5)) / 12 between, none above
    36 °C or above a 15 °C dew point (humid air is kept out whatever its temperature)."""
    db = np.array([5.0, 23.5, 29.5, 35.5, 40.0, 22.0])
    wb = np.array([1.0, 14.0, 16.0, 18.0, 20.0, 19.0])   # last: 22 °C dry bulb, dew point ~17.9 °C
    share = air_economizer_fraction(24.0, 36.0, db, wb, 0.5)
    assert share == pytest.approx([1.0, 1.0, 0.5, 0.0, 0.0, 0.0])
    assert psychro.dew_point_from_wet_bulb_c(22.0, 19.0) > 15.0 > psychro.dew_point_from_wet_bulb_c(29.5, 16.0)
    with pytest.raises(PhysicsError, match="air_dt_c"):
        air_economizer_fraction(24.0, 24.0, 10.0, 5.0)


def test_airside_economizer_takes_load_off_the_chillers_and_the_heat_still_balances():
    """Economized CRAHs on air-cooled chillers: hours of full outside air run no compressor, the year uses less
    chiller energy, and IT + unit power + compressor work still leaves as heat, outside air included."""
    runs = {}
    for eco in (False, True):
        f = ai_datacenter(2, cooling="air", system="h200_hgx8", nodes=1, heat_rejection=("chiller_air_cooled",),
                          climate="chicago", air_economizer=eco)
        runs[eco] = twin.simulate(f, hours=8760)
    ds = runs[True]
    full = ds.economizer_fraction.values >= 1.0
    assert full.sum() > 2000 and float(ds.chiller_power_kw.values[full].max()) == 0.0
    assert float(runs[False].economizer_fraction.max()) == 0.0
    assert float(ds.chiller_power_kw.sum()) < 0.6 * float(runs[False].chiller_power_kw.sum())
    assert ds.twin.pue() < runs[False].twin.pue()
    heat_in = ds.it_power_kw + ds.units_power_kw + ds.chiller_power_kw
    assert float(abs(ds.heat_rejected_kw - heat_in).max() / heat_in.min()) < 1e-12
    assert ds.twin.conservation_error() < 1e-12
