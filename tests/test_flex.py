"""The flexibility report: curtailable MW by notice and duration with their cost, checked against dispatches of
the same events, monotone in depth; and the feeder's hosting curve computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solvers.dispatch_inputs import DispatchInputError
from solvers.flex import flexibility, hosting
from tests.conftest import small_facility


def test_hosting_curve_by_hand():
    """Headroom 5, 3, 0, 2, 5, 5 MW over six hours (scaled to a year by 8760 / 6): 1 MW more is cut in the one hour
    with no headroom; 4 MW more in three consecutive hours by 1 + 4 + 2 MW."""
    out = hosting([5, 3, 0, 2, 5, 5], [0, 1, 4])
    year = 8760 / 6
    assert out.loc[0.0, "curtailed_h_per_year"] == 0
    assert out.loc[1.0, "curtailed_h_per_year"] == pytest.approx(1 * year)
    assert out.loc[4.0, "curtailed_h_per_year"] == pytest.approx(3 * year)
    assert out.loc[4.0, "curtailed_mwh_per_year"] == pytest.approx(7 * year)
    assert out.loc[4.0, "share_of_energy"] == pytest.approx(7 / 24)
    assert list(out["longest_h"]) == [0, 1, 3] and list(out["deepest_mw"]) == [0, 1, 4]


def test_hosting_says_which_extra_mw_the_site_offer_covers(tmp_path):
    offer = pd.DataFrame({"notice_h": [0.0, 0.0], "duration_h": [1.0, 3.0], "cut_mw": [5.0, 2.0]}
                         ).set_index(["notice_h", "duration_h"])
    path = tmp_path / "feeder.csv"
    pd.DataFrame({"time": pd.date_range("2025-01-01", periods=6, freq="1h"), "headroom_mw": [5, 3, 0, 2, 5, 5]}).to_csv(path)
    out = hosting(path, [1, 2, 4], offer=offer)
    assert list(out["site_covers"]) == [True, True, False]      # 4 MW needs 4 MW for 3 h; the 3 h offer is 2 MW
    with pytest.raises(DispatchInputError, match="no such headroom file"):
        hosting(tmp_path / "nope.csv", [1])
    (tmp_path / "bad.csv").write_text("time,load_mw\n2025-01-01,3\n")
    with pytest.raises(DispatchInputError, match="needs a column headroom_mw"):
        hosting(tmp_path / "bad.csv", [1])


@pytest.mark.solver
def test_flexibility_rows_equal_their_dispatches_and_deeper_cuts_cost_more():
    """Three depths of a 2 h event at 1 h notice on a site that trains on half its racks: each row's cost is the
    dispatch of that event against the same baseline; cuts met keep import under the target; cost rises with depth;
    the offer is the deepest met depth, in MW of the baseline import."""
    import solvers

    f = small_facility()
    kw = dict(training={"share": 0.5, "slowdown": 0.25, "deadline_h": 12})
    rep = flexibility(f, hours=30, notices=(1,), durations=(2,), depths=(10, 30, 95), **kw)
    t = rep.table.loc[(1.0, 2.0)]
    assert bool(t.loc[10.0, "met"]) and bool(t.loc[30.0, "met"]) and not bool(t.loc[95.0, "met"])
    assert t.loc[95.0, "short_mwh"] > 0                                   # 5 % of a site cannot carry its cooling
    assert list(t["shadow_cost_usd"]) == sorted(t["shadow_cost_usd"])
    ev = {"start": str(rep.event_start), "duration_h": 2, "reduce_pct": 30, "notice_h": 1}
    run = solvers.dispatch(f, hours=30, events=[ev], **kw)
    assert t.loc[30.0, "cost_usd"] == pytest.approx(run.kpis["curtailment_cost_usd"], rel=1e-6, abs=1e-6)
    assert t.loc[30.0, "curtailed_mwh"] == pytest.approx(run.kpis["curtailed_mwh"], rel=1e-6)
    during = run.dataset.event.values
    base = run.baseline.dataset.grid_import_kw.values[during]
    assert np.all(run.dataset.grid_import_kw.values[during] <= 0.7 * base * (1 + 1e-5))
    assert rep.baseline_mw == pytest.approx(base[0] / 1000, rel=1e-9)          # placed at the highest import
    offer = rep.offer.loc[(1.0, 2.0)]
    assert offer["deepest_pct"] == 30.0
    assert offer["cut_mw"] == pytest.approx(0.3 * base.mean() / 1000, rel=1e-9)
    assert offer["repeat_every_h"] == pytest.approx(2 + t.loc[30.0, "recovery_h"])


def test_a_horizon_too_short_for_the_events_is_refused():
    with pytest.raises(DispatchInputError, match="raise hours to at least"):
        flexibility(small_facility(), hours=12, durations=(6,))
