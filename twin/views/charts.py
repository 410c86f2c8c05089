"""House style of the 2D charts (matplotlib): axes named in words with their units, month names on time
axes, money on linear axes in plain thousands/millions/billions (no offset, no log unless asked), and
legends placed beside the data, never on it.

>>> label("capex_usd"), label("usd_per_mtok"), label("grid_limit_mw")
('capex, USD', 'cost per million tokens, USD/Mtok', 'grid limit, MW')
>>> scale([2.5e9, 6.2e9])
(1000000000.0, 'billion')
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

KPI_LABELS = {
    "tokens_per_s": ("tokens per second", "tokens/s"), "tokens": ("tokens served", "tokens"),
    "revenue_usd_per_year": ("revenue", "USD/year"), "revenue_usd": ("revenue over the run", "USD"),
    "capex_usd": ("capex", "USD"), "usd_per_mtok": ("cost per million tokens", "USD/Mtok"),
    "energy_usd_per_mtok": ("energy cost per million tokens", "USD/Mtok"), "energy_cost_usd": ("energy cost", "USD"),
    "interactivity_tok_s_user": ("interactivity", "tokens/s per user"), "grid_limit_mw": ("grid limit", "MW"),
    "facility_mw": ("facility power (design)", "MW"), "simulated_grid_mw": ("grid power (simulated)", "MW"),
    "peak_grid_mw": ("peak grid power", "MW"), "it_mw": ("IT power", "MW"), "grid_energy_mwh": ("grid energy", "MWh"),
    "pue": ("PUE", ""), "wue_l_per_kwh": ("WUE", "L/kWh"), "water_m3": ("water", "m³"), "gpus": ("GPUs", ""),
    "racks": ("racks", ""), "tokens_per_joule": ("tokens per joule", "tokens/J"),
    "tokens_per_kwh_grid": ("tokens per kWh of grid energy", "tokens/kWh"), "design_ambient_c": ("design ambient", "°C"),
}
"""What a chart calls each KPI, and its unit (the sweep's KPI names)."""
MONEY = ("USD", "USD/year", "USD/MW/year", "USD/MW")
SCALES = ((1e9, "billion"), (1e6, "million"), (1e3, "thousand"))


def label(name: str, scaled: str = "") -> str:
    """An axis title: the quantity in words, then its unit, with the scale word when values are scaled."""
    words, unit = KPI_LABELS.get(name, (name.replace("_", " "), ""))
    unit = f"{scaled} {unit}".strip() if scaled else unit
    return f"{words}, {unit}" if unit else words


def scale(values: Sequence[float] | np.ndarray) -> tuple[float, str]:
    """The factor and word (thousand, million, billion) that keep tick labels short; (1, '') for small values."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 0.0
    for factor, word in SCALES:
        if top >= factor:
            return factor, word
    return 1.0, ""


def plain_axis(ax: Any, which: str = "y") -> None:
    """Ticks as plain numbers: no offset (`+3.5e1`) and no scientific notation on a linear axis."""
    from matplotlib.ticker import ScalarFormatter

    formatter = ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    (ax.yaxis if which == "y" else ax.xaxis).set_major_formatter(formatter)


def time_axis(ax: Any) -> None:
    """Dates on the x axis as month names over a year (Jan, Feb, ...), days and hours over shorter runs."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=13)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=True))


def month_axis(ax: Any, months: Sequence[int]) -> None:
    """Month numbers 1-12 on the x axis shown by name; a year's twelve names in a smaller type, so they stand apart."""
    import calendar

    ticks = [int(m) for m in months]
    ax.set_xticks(ticks, [calendar.month_abbr[m] for m in ticks])
    if len(ticks) > 6:
        ax.tick_params(axis="x", labelsize=8)


def legend_beside(ax: Any, **options: Any) -> Any:
    """A legend to the right of the axes, outside the data (figures need room: constrained layout makes it)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False, **options)


__all__ = ["KPI_LABELS", "label", "scale", "plain_axis", "time_axis", "month_axis", "legend_beside"]
