"""Tokens per GPU per tier from measured Pareto curves; training throughput; errors that name the range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.catalog import default_catalog
from twin.physics import PhysicsError, ThroughputRangeError, tokens


@pytest.fixture(scope="module")
def cat():
    return default_catalog()


def test_defaults_exist_for_every_system_but_h100(cat):
    w = tokens.Workload()
    for system in cat.systems:
        if system == "h100_hgx8":
            with pytest.raises(ThroughputRangeError, match="gpt-oss-120b"):
                tokens.tier_throughput(cat, system, "standard", w)
            continue
        assert tokens.tier_throughput(cat, system, "free", w) > 0


def test_aliases_and_validation():
    assert tokens.Workload(llm="dsr1").llm == "deepseek-r1"
    with pytest.raises(PhysicsError, match="isl"):
        tokens.Workload(isl=0)
    with pytest.raises(PhysicsError, match="params_b"):
        tokens.Workload(kind="training")
    with pytest.raises(PhysicsError, match="tier_mix"):
        tokens.Workload(tier_mix={"standard": -1})
    w = tokens.Workload(tier_mix={"standard": 3, "premium": 1})
    assert dict(w.tier_mix) == {"standard": 0.75, "premium": 0.25}


def test_interpolation_is_log_linear_between_measured_points(cat):
    w = tokens.Workload()
    pts = tokens.curve(cat, "h200_hgx8", w)
    x = pts["interactivity_tok_s_user"].to_numpy()
    y = pts["tokens_per_s_per_gpu"].to_numpy()
    need = cat.tier("standard").min_interactivity_tok_s_user
    i = np.searchsorted(x, need)
    assert x[i - 1] < need < x[i]
    expected = math.exp(np.interp(need, x[i - 1:i + 1], np.log(y[i - 1:i + 1])))
    assert tokens.tier_throughput(cat, "h200_hgx8", "standard", w) == pytest.approx(expected)
    # more interactivity never buys more throughput
    assert tokens.tier_throughput(cat, "h200_hgx8", "premium", w) < tokens.tier_throughput(cat, "h200_hgx8", "standard", w)


def test_below_the_measured_range_uses_the_lowest_point_not_an_extrapolation(cat):
    w = tokens.Workload()
    pts = tokens.curve(cat, "b200_hgx8", w)
    assert cat.tier("batch").min_interactivity_tok_s_user < pts["interactivity_tok_s_user"].min()
    assert tokens.tier_throughput(cat, "b200_hgx8", "batch", w) == pytest.approx(pts["tokens_per_s_per_gpu"].iloc[0])


def test_out_of_range_tier_names_system_tier_and_range(cat):
    with pytest.raises(ThroughputRangeError) as err:
        tokens.tier_throughput(cat, "mi300x_8gpu", "premium", tokens.Workload())
    msg = str(err.value)
    assert "premium" in msg and "mi300x_8gpu" in msg and "19.88-37.6" in msg


def test_training_throughput_is_flops_times_mfu_over_6n(cat):
    w = tokens.Workload(kind="training", params_b=70, mfu=0.4)
    spec = cat.system("gb200_nvl72")
    expected = spec.fp8_dense_pflops * 1e15 * 0.4 / (6 * 70e9)
    assert tokens.tier_throughput(cat, "gb200_nvl72", tokens.TRAINING_TIER, w) == pytest.approx(expected)
    assert w.tiers(cat) == {tokens.TRAINING_TIER: 1.0}


def test_revenue_blends_input_and_output_prices(cat):
    tier = cat.tier("standard")
    assert tokens.revenue_usd_per_mtok(cat, "standard", 1.0) == tier.price_usd_per_mtok
    assert tokens.revenue_usd_per_mtok(cat, "standard", 0.5) == pytest.approx(
        0.5 * (tier.price_usd_per_mtok + tier.input_price_usd_per_mtok))
