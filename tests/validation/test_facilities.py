"""Whole facilities over a year against their published annual PUE / WUE (table in tests/validation/README.md).

Each case names the facility or fleet, the published figure, its source and evidence, how the twin models
it (as closely as the publication allows; every modelling choice that is not in the publication is listed as
an assumption) and the band the twin's annual figure must fall in, with why. A case outside its band fails.
Print the table with `python tests/validation/test_facilities.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import twin
from blueprints.parametric import ai_datacenter, ai_factory
from twin import Facility

LEGACY_AIR = Path(__file__).parent / "data" / "legacy_air.yaml"


@dataclass(frozen=True)
class Case:
    id: str
    facility: str
    published: str
    value: float
    source: str
    evidence: str
    model: str
    assumptions: tuple[str, ...]
    metric: str                      # "pue", "pue_mechanical" (no power-chain losses) or "wue"
    lo: float
    hi: float
    why: str
    build: Callable[[], list[Facility]] = field(repr=False)


def _annual(f: Facility, metric: str) -> tuple[float, float]:
    """(annual metric, IT energy MWh) over the facility's climate year."""
    ds = twin.simulate(f, hours=8760)
    it = float(ds.it_power_kw.sum())
    if metric == "pue":
        value = float(ds.grid_power_kw.sum()) / it
    elif metric == "pue_mechanical":
        value = float((ds.grid_power_kw - ds.losses_kw).sum()) / it
    else:
        value = float(ds.water_l_per_h.sum()) / it
    return value, it


def _partly_filled(f: Facility, share: float) -> Facility:
    """Keep `share` of the rack positions populated (the plant and power chain stay sized for all)."""
    racks = list(f.table("rack").index)
    f.populate(racks[int(round(len(racks) * share)):], None)
    return f


def _legacy(f: Facility) -> Facility:
    return Facility(graph=f.graph, catalog=f.catalog.extend(LEGACY_AIR))


def esif() -> list[Facility]:
    return [ai_factory(1.2, system="gb300_nvl72", heat_rejection="cooling_tower", air_rejection="tower", ups="none",
                       power="N", facility_water_c=24, air_water_c=20, climate="golden", name="nrel-esif")]


def hyperscale_fleet() -> list[Facility]:
    return [ai_datacenter(5, cooling="air", system="h200_hgx8", nodes=1, power="N+1", ups="none", chilled_water_c=18,
                          climate=c, name=f"hyperscale-{c}") for c in ("portland", "omaha", "ashburn", "dallas")]


def outside_air_fleet() -> list[Facility]:
    return [ai_datacenter(5, cooling="air", system="h200_hgx8", nodes=1, power="N+1", ups="none", air_economizer=True,
                          climate=c, name=f"outside-air-{c}") for c in ("portland", "omaha", "ashburn", "dallas")]


def survey_typical() -> list[Facility]:
    return [_partly_filled(_legacy(ai_datacenter(5, cooling="air", system="h200_hgx8", nodes=1, power="2N",
                                                 chilled_water_c=7, heat_rejection=("chiller_water_cooled",),
                                                 climate=c, name=f"enterprise-{c}")), 0.5)
            for c in ("ashburn", "chicago", "dallas")]


def colocation_fleet() -> list[Facility]:
    return [_partly_filled(_legacy(ai_datacenter(5, cooling="air", system="h200_hgx8", nodes=1, power="2N",
                                                 chilled_water_c=10, climate=c, name=f"colocation-{c}")), 0.6)
            for c in ("ashburn", "chicago", "dallas", "san-jose")]


def warm_water_builder_site() -> list[Facility]:
    return [ai_factory(20, system="gb300_nvl72", ups="eco", air_rejection="adiabatic", air_water_c=20, climate="lulea",
                       name="warm-water-dlc-lulea")]


NREL_PUE = "https://www.nrel.gov/computational-science/measuring-efficiency-pue.html"
NREL_WATER = "https://www.nrel.gov/news/program/2018/data-center-water-savings-win-wins.html"

CASES = [
    Case("nrel-esif-pue", "NREL ESIF HPC data center, Golden CO (warm-water DLC, chiller-less, towers)",
         "annualized PUE 1.036", 1.036, NREL_PUE, "measured",
         "~1 MW of warm-water-cooled racks (GB300 stand-in, 94 % liquid) on CDUs at 24 °C facility water, fan walls "
         "for the residual air at 20 °C water, both on cooling towers; Golden TMY3; PUE on ESIF's meter boundary "
         "(lights, cooling, pumps, HVAC, IT: no power-chain losses)",
         ("facility water 24 °C and fan-wall water 20 °C", "IT 94 % liquid-cooled", "tower and pump figures are the "
          "catalog's ASHRAE 90.1 App. G baseline values, not ESIF's low-head design"),
         "pue_mechanical", 1.02, 1.08,
         "NREL meters give 1.036; generic (code-baseline) pump and tower figures put the twin a few points above it", esif),
    Case("nrel-esif-wue", "NREL ESIF HPC data center, Golden CO (towers, before the 2016 thermosyphon)",
         "~2.5 M gal/yr at an IT load approaching 1 MW on average: 1.08-1.2 L/kWh", 1.14, NREL_WATER, "measured",
         "the same model; annual tower makeup (evaporation of the heat rejected + blowdown) over IT energy",
         ("4 cycles of concentration (ESIF's are not published)", "IT 0.9-1.0 MW taken for the published 'approaching 1 MW'"),
         "wue", 0.76, 1.7,
         "×/÷1.5 around 1.14: the cycles of concentration (makeup 1.33x evaporation at 4 cycles, 1.2x at 6) and the "
         "IT load behind the published volume are not stated", esif),
    Case("hyperscale-fleet-pue", "Google fleet (trailing twelve months)", "PUE 1.10 (Q2 2021)", 1.10,
         "https://www.cnbc.com/2022/04/13/google-data-center-goal-100percent-green-energy-by-2030.html", "secondary",
         "air-cooled halls on 18 °C chilled water from water-cooled chillers with towers and waterside economizers, "
         "variable-speed CRAH fans, N+1 power without a central UPS (batteries at the servers), full load; mean over "
         "four US sites of large campuses (Portland OR, Omaha NE, Ashburn VA, Dallas TX typical years)",
         ("18 °C chilled water", "no central UPS", "the four sites stand for the fleet"),
         "pue", 1.06, 1.16,
         "fleet-wide figure over many climates and designs; ±0.05 covers site mix and design details not published", hyperscale_fleet),
    Case("outside-air-fleet-2021", "Meta data center buildings completed in 2021 (outside-air cooled)", "PUE 1.09",
         1.09, "https://sustainability.fb.com/data-centers/", "measured",
         "air halls whose CRAHs take outside air (airside economizer, 24 °C supply, 12 K rise, 15 °C dew-point "
         "limit) with water-cooled trim chillers, towers and waterside economizer behind them, N+1 power and no "
         "central UPS (batteries next to the servers), full load; mean over Portland OR (for Prineville), Omaha NE "
         "(Sarpy), Ashburn VA (for Henrico) and Dallas-Fort Worth typical years",
         ("trim chillers on towers (the sites' direct evaporative coolers are not modelled)",
          "the ASHRAE recommended dew-point limit (the operator's humidity envelope is not published)",
          "nearest packaged typical years stand for Prineville and Henrico"),
         "pue", 1.04, 1.14,
         "a figure for new buildings, not per site; ±0.05 covers the unmodelled evaporative cooling and humidity "
         "envelope", outside_air_fleet),
    Case("uptime-survey-2023", "Uptime Institute Global Data Center Survey (industry average over respondents' sites)",
         "industry average PUE 1.58 in 2023 (1.55-1.59 since 2020)", 1.58,
         "https://intelligence.uptimeinstitute.com/resource/large-data-centers-are-mostly-more-efficient-analysis-confirms",
         "survey",
         "survey-typical enterprise hall: CRAHs with constant-speed fans on a raised floor, 7 °C chilled water, "
         "water-cooled chillers on their towers without a waterside economizer, 2N double-conversion UPS, half the "
         "positions filled; mean over Ashburn, Chicago, Dallas typical years",
         ("legacy CRAH fans: 500 Pa, 60 % efficiency, constant speed (tests/validation/data/legacy_air.yaml)",
          "no waterside economizer (legacy plants predating the ASHRAE 90.1 economizer requirement)",
          "7 °C legacy chilled water (reference: legacy set points 6-7 °C)",
          "50 % load ('UPSs in a data center typically operate at or below 50 percent', CEC)"),
         "pue", 1.38, 1.78,
         "±0.2 around a survey mean over ages, sizes and climates; the twin's legacy hall sits in its lower half "
         "(the survey also holds DX-cooled and lightly loaded sites)", survey_typical),
    Case("colocation-fleet-2023", "Equinix fleet 2023 (colocation, worldwide)",
         "average annual PUE 1.42 (down from 1.46 in 2022; Statista's summary of Equinix's report)", 1.42,
         "https://datasetsearch.research.google.com/search?query=average+data+center+pue", "secondary",
         "colocation hall: constant-speed CRAHs on 10 °C chilled water, water-cooled chillers with towers and "
         "economizer, 2N double-conversion UPS, 60 % of positions filled; mean over Ashburn, Chicago, Dallas, San Jose",
         ("legacy CRAH fans as above", "10 °C chilled water (optimized plants: 10 °C or higher, reference)",
          "60 % load"),
         "pue", 1.30, 1.55, "fleet average with sites of many ages; ±0.12 around the published value", colocation_fleet),
    Case("warm-water-dlc-peers", "chiller-less warm-water DLC site built by `ai_factory` (GB300, Luleå, eco-mode UPS)",
         "peers: NREL ESIF annualized 1.036 and its 1.06 requirement, met every year; 'efficiency-focused' <= 1.2",
         1.06, NREL_PUE, "measured",
         "`ai_factory(20, system='gb300_nvl72', ups='eco', air_rejection='adiabatic', air_water_c=20, climate='lulea')`: "
         "CDUs on dry coolers, residual air on adiabatic dry coolers, 2N eco-mode UPS, whole grid-meter boundary",
         ("builder defaults for everything not given",),
         "pue", 1.03, 1.10,
         "published warm-water DLC research sites sit at 1.04-1.06; the twin adds a 2N power chain they do not meter", warm_water_builder_site),
]


@lru_cache(maxsize=None)
def compute(case_id: str) -> float:
    """The twin's annual figure for a case: IT-energy-weighted over its facilities."""
    case = next(c for c in CASES if c.id == case_id)
    pairs = [_annual(f, case.metric) for f in case.build()]
    values, weights = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    return float(np.sum(values * weights) / np.sum(weights))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_facility_lands_in_its_published_band(case: Case):
    value = compute(case.id)
    assert case.lo <= value <= case.hi, (f"{case.id}: twin {value:.3f} outside {case.lo:g}-{case.hi:g} "
                                         f"(published {case.published}; {case.source})")


def test_at_least_six_named_facility_cases_with_sources():
    assert len(CASES) >= 6 and len({c.id for c in CASES}) == len(CASES)
    assert all(c.source.startswith("http") and c.evidence and c.lo < c.value * 1.2 and c.why for c in CASES)


def test_the_warm_water_site_is_chiller_less_and_nearly_dry():
    f = warm_water_builder_site()[0]
    ds = twin.simulate(f, hours=8760)
    assert float(ds.chiller_power_kw.sum()) == 0.0
    assert ds.twin.wue() < 0.2                      # adiabatic spray only on the warmest hours
    assert ds.twin.summary()["throttling_hours"] < 0.01 * 8760


def test_the_published_table_in_the_docs_is_current():
    """tests/validation/README.md carries this file's table with the twin's current values."""
    readme = (Path(__file__).parent / "README.md").read_text(encoding="utf-8")
    stale = [row.split(" | ")[0] for row in table().splitlines() if row not in readme]
    assert not stale, f"rows {stale} differ: paste `python tests/validation/test_facilities.py` into README.md"


def table() -> str:
    rows = ["| id | facility | published | source (evidence) | twin | band | why |", "|---|---|---|---|---|---|---|"]
    for c in CASES:
        unit = " L/kWh" if c.metric == "wue" else ""
        rows.append(f"| {c.id} | {c.facility} | {c.published} | [{c.evidence}]({c.source}) | {compute(c.id):.3f}{unit} "
                    f"| {c.lo:g}-{c.hi:g} | {c.why} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
