"""GPU power vs utilization and cap, rack power terms, and the throughput fraction at a cap."""

from __future__ import annotations

import numpy as np
import pytest

from twin.catalog import default_catalog
from twin.physics import PhysicsError, gpu


@pytest.fixture(scope="module")
def cat():
    return default_catalog()


def test_gpu_power_is_idle_plus_share_of_cap():
    u = np.array([0.0, 0.25, 1.0])
    assert gpu.gpu_power_w(100.0, 900.0, u).tolist() == [100.0, 300.0, 900.0]
    assert gpu.gpu_power_w(100.0, np.array([500.0, 900.0]), 0.5).tolist() == [300.0, 500.0]


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan])
def test_utilization_outside_0_1_names_the_value(bad):
    with pytest.raises(PhysicsError, match="utilization"):
        gpu.gpu_power_w(100.0, 900.0, np.array([0.5, bad]))


def test_cap_below_idle_is_refused():
    with pytest.raises(PhysicsError, match="below the idle"):
        gpu.gpu_power_w(200.0, 150.0, 0.5)


def test_cap_factor_is_one_at_tdp_concave_and_bounded(cat):
    tdp = 1200.0
    caps = np.linspace(0.5, 1.0, 11) * tdp
    f = gpu.cap_factor(cat, caps, tdp)
    assert f[-1] == pytest.approx(1.0)
    assert np.all(np.diff(f) > 0)
    assert np.all(np.diff(f, 2) <= 1e-12)  # concave on an even grid
    assert np.all(f >= caps / tdp - 1e-12)  # throughput falls slower than the cap
    vendor = gpu.cap_factor(cat, 0.85 * tdp, tdp, curve="vendor_claim")
    assert vendor == pytest.approx(0.97) and vendor > gpu.cap_factor(cat, 0.85 * tdp, tdp)
    with pytest.raises(Exception, match="outside"):
        gpu.cap_factor(cat, 0.3 * tdp, tdp)


@pytest.mark.parametrize("system", ["gb200_nvl72", "h200_hgx8", "vera_rubin_nvl72", "mi355x_8gpu"])
def test_rack_power_matches_catalog_at_full_load_and_is_linear(cat, system):
    spec = cat.system(system)
    nodes = spec.nodes_per_rack[-1]
    full = gpu.rack_power_kw(spec, nodes, spec.gpu_tdp_w, 1.0)
    assert full == pytest.approx(spec.rack_power_kw(nodes, spec.gpu_tdp_w), rel=1e-12)
    fixed, dyn = gpu.rack_power_terms_kw(spec, nodes, 0.8 * spec.gpu_tdp_w)
    u = np.array([0.0, 0.3, 1.0])
    assert gpu.rack_power_kw(spec, nodes, 0.8 * spec.gpu_tdp_w, u) == pytest.approx(fixed + dyn * u)
    idle = gpu.rack_power_kw(spec, nodes, spec.gpu_tdp_w, 0.0)
    assert 0 < idle < full


def test_lower_cap_lowers_rack_power_less_than_throughput_falls(cat):
    spec = cat.system("gb200_nvl72")
    p_full = gpu.rack_power_kw(spec, 18, 1200.0, 1.0)
    p_cap = gpu.rack_power_kw(spec, 18, 840.0, 1.0)
    f = gpu.cap_factor(cat, 840.0, 1200.0)
    assert p_cap < p_full
    assert f / (p_cap / p_full) > 1.0  # tokens per joule at the rack rise when capped


def test_cap_above_tdp_is_refused(cat):
    spec = cat.system("h200_hgx8")
    with pytest.raises(PhysicsError, match="TDP"):
        gpu.rack_power_terms_kw(spec, 4, 800.0)
