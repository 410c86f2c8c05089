"""Energy prices read from a CSV: each step takes the last price at or before it (USD/MWh in, USD/kWh out); a
missing, unreadable or incomplete file is one DispatchInputError naming the file."""

from __future__ import annotations

import numpy as np
import pytest

from solvers.dispatch_inputs import DispatchInputError, read_prices

STEPS = np.arange("2025-01-01T00", "2025-01-01T04", dtype="datetime64[h]").astype("datetime64[ns]")


def test_each_step_takes_the_last_price_at_or_before_it(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("time,price_usd_per_mwh\n2025-01-01T02:00,80\n2025-01-01T00:00,50\n")
    assert np.allclose(read_prices(path, STEPS, 0.1), [0.05, 0.05, 0.08, 0.08])


@pytest.mark.parametrize("text, said", [
    (None, "no such price file"),
    ("", "not a readable CSV"),
    ("time,price\n2025-01-01,50\n", "needs columns time, price_usd_per_mwh"),
    ("time,price_usd_per_mwh\n2025-01-01T01:00,50\n", "add a price at or before the start"),
])
def test_an_unusable_price_file_names_itself(tmp_path, text, said):
    path = tmp_path / "prices.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(DispatchInputError, match=said) as err:
        read_prices(path, STEPS, 0.1)
    assert str(path) in str(err.value)
