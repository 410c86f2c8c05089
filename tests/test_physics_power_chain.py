"""Power-chain stages: P_in from the catalog curves, no extra fixed loss, members sharing load."""

from __future__ import annotations

import numpy as np
import pytest

from twin.catalog import default_catalog
from twin.physics import PhysicsError
from twin.physics.power_chain import Stage, chain_losses, equipment_for, stage_input_kw


@pytest.fixture(scope="module")
def cat():
    return default_catalog()


def test_stage_uses_the_catalog_curve_without_adding_a_fixed_loss(cat):
    ups = cat.equipment("ups_double_conversion")
    p = np.array([100.0, 500.0, 1000.0])
    assert np.allclose(stage_input_kw(ups, p, 1000.0), ups.input_power(p, 1000.0))
    assert stage_input_kw(ups, 500.0, 1000.0) == pytest.approx(500.0 / ups.efficiency(0.5))
    assert stage_input_kw(None, p, 1000.0).tolist() == p.tolist()


def test_chain_walks_from_load_to_grid_and_members_share(cat):
    stages = [Stage("pdu", 600), Stage("ups_double_conversion", 1000, members=2), Stage("transformer_mv", 2500)]
    r = chain_losses(cat, stages, 500.0)
    pdu = cat.equipment("pdu").input_power(500.0, 600)
    ups = 2 * cat.equipment("ups_double_conversion").input_power(pdu / 2, 1000)
    tx = cat.equipment("transformer_mv").input_power(ups, 2500)
    assert r["stage_input_kw"][0] == pytest.approx(pdu)
    assert r["input_kw"] == pytest.approx(tx)
    assert r["losses_kw"] == pytest.approx(tx - 500.0)
    # a 2N pair at half load each loses more per kW than one unit at full load (part-load efficiency)
    one = chain_losses(cat, [Stage("ups_double_conversion", 1000)], 800.0)["losses_kw"]
    pair = chain_losses(cat, [Stage("ups_double_conversion", 1000, 2)], 800.0)["losses_kw"]
    assert pair > one


def test_no_load_loss_is_the_floor(cat):
    ups = cat.equipment("ups_double_conversion")
    r = chain_losses(cat, [Stage("ups_double_conversion", 1000)], 0.0)
    assert r["losses_kw"] == pytest.approx(ups.fixed_loss_fraction * 1000)


def test_default_models_and_errors(cat):
    assert equipment_for(cat, "grid") is None and equipment_for(cat, "battery") is None
    assert equipment_for(cat, "ups").id == "ups_double_conversion"
    assert equipment_for(cat, "ups", "ups_eco").id == "ups_eco"
    with pytest.raises(PhysicsError, match="heat-rejection"):
        equipment_for(cat, "ups", "dry_cooler")
    with pytest.raises(PhysicsError, match=">= 0"):
        chain_losses(cat, [Stage("pdu", 100)], -1.0)
    with pytest.raises(PhysicsError, match="members"):
        chain_losses(cat, [Stage("pdu", 100, 0)], 1.0)


def test_transformer_is_no_load_plus_square_law(cat):
    """P0 + Pk x^2 (DOE 2016 minimum 99.28 % at 35 % load): the loss at any load from its two terms."""
    tx = cat.equipment("transformer_mv")
    p0, pk = tx.fixed_loss_fraction, tx.load_loss_fraction
    x = np.array([0.0, 0.2, 0.35, 0.7, 1.0])
    losses = tx.input_power(x * 2000.0, 2000.0) - x * 2000.0
    assert np.allclose(losses, 2000.0 * (p0 + pk * x**2))
    assert tx.efficiency(0.35) == pytest.approx(0.9928, abs=5e-5)
    # part load costs more per kW: half a transformer's load loses a larger share than at 35-100 %
    assert tx.efficiency(0.1) < tx.efficiency(0.35) > tx.efficiency(1.0)


def test_loss_form_is_terms_or_curve_not_both(tmp_path):
    from twin.errors import CatalogError

    path = tmp_path / "both.yaml"
    path.write_text("""power_equipment:
  - id: my_ups
    name: both forms
    source: https://example.org/datasheet
    evidence: vendor_spec
    kind: ups
    efficiency_curve: [[0.1, 0.9], [1.0, 0.96]]
    fixed_loss_fraction: 0.01
    load_loss_fraction: 0.01
    capex_usd_per_kw: 400
""")
    with pytest.raises(CatalogError, match="not both"):
        default_catalog().extend(path)
