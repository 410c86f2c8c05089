"""Rendering a `Comparison` as Markdown (figures as PNG files beside it) and as one standalone HTML page
(figures embedded), from one list of blocks so both say the same thing. Figures use matplotlib's
object-oriented API (no pyplot, no display needed).
"""

from __future__ import annotations

import base64
import datetime
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from solvers.comparison import BILLING_MODELS, INFERENCE, TRAINING, TRAINING_DOMAIN_GPUS, TRAINING_GOODPUT, Number

if TYPE_CHECKING:
    from solvers.comparison import ComparisonData as Comparison
    from solvers.comparison import SiteResult

ROWS = (
    ("Design", ("primary_output", "systems", "racks", "positions", "gpus", "rack_kw_mean", "rack_kw_max",
                "power_per_rack_kw", "cooling", "power_chain", "nvlink_domain_gpus", "binds")),
    ("Output for the mix", ("gpu_hours_per_year", "tokens_per_year", "tiers", "training_tokens_per_year",
                            "utilization", "fit")),
    ("Efficiency (simulated year)", ("tokens_per_joule", "training_tokens_per_joule", "pue", "wue",
                                     "grid_mwh_per_year")),
    ("Economics", ("capex_usd", "capex_per_mw", "annual_cost_usd", "usd_per_mtok", "gpu_hour_prices",
                   "gpu_hour_usd_per_mw", "revenue_per_gpu_hour", "margin_per_mw[own]", "evidence",
                   *(f"{k}[{m}]" for m in BILLING_MODELS
                                             for k in ("revenue", "revenue_per_mw", "margin_per_mw")))),
)
LABELS = {
    "primary_output": "primary output (what it sells)", "systems": "racks built", "racks": "racks",
    "positions": "rack positions", "gpus": "GPUs", "rack_kw_mean": "rack density, mean", "rack_kw_max": "rack density, max",
    "power_per_rack_kw": "power per rack (mean IT, mix)", "cooling": "cooling approach -> heat rejection",
    "power_chain": "power chain", "nvlink_domain_gpus": "largest NVLink domain", "binds": "what binds",
    "gpu_hours_per_year": "GPU-hours per year (busy)", "tokens_per_year": "tokens sold per year (inference)",
    "training_tokens_per_year": "tokens trained on per year", "tiers": "token tiers served (share of GPUs)", "utilization": "mean utilization",
    "fit": "fit to the mix (vs best single workload)", "tokens_per_joule": "tokens per joule (inference)",
    "training_tokens_per_joule": "training tokens per joule", "pue": "annual PUE", "wue": "annual WUE",
    "grid_mwh_per_year": "grid energy per year", "capex_usd": "capex", "capex_per_mw": "capex per MW of grid",
    "annual_cost_usd": "annual cost (capex/life + electricity)", "usd_per_mtok": "cost per million tokens (inference)",
    "gpu_hour_prices": "GPU-hour price", "gpu_hour_usd_per_mw": "GPU-hour revenue per MW at full use",
    "revenue_per_gpu_hour": "revenue per installed GPU-hour (own billing)",
    "margin_per_mw[own]": "margin per MW-year, own billing", "evidence": "evidence of tokens and revenue",
}
for _m in BILLING_MODELS:
    LABELS.update({f"revenue[{_m}]": f"revenue, {_m} billing", f"revenue_per_mw[{_m}]": f"revenue per MW-year, {_m} billing",
                   f"margin_per_mw[{_m}]": f"margin per MW-year, {_m} billing"})
SHORT_UNITS = {"USD": "MUSD", "USD/year": "MUSD/yr", "USD/MW": "MUSD/MW", "USD/MW/year": "MUSD/MW/yr"}


def fmt(value: Any, unit: str) -> str:
    """A number as the report prints it (tests use this to find computed values in the text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,} {unit}".strip() if unit not in ("racks", "positions", "GPUs") else f"{value:,}"
    if unit in SHORT_UNITS:
        return f"{value / 1e6:,.2f} {SHORT_UNITS[unit]}"
    if unit in ("tokens/year", "GPU-h/year"):
        return f"{value:.4g} {unit.replace('year', 'yr')}"
    if unit == "MWh/year":
        return f"{value:,.0f} MWh/yr"
    if unit in ("kW", "USD/MW/h"):
        return f"{value:,.1f} {unit}"
    if unit in ("USD/Mtok", "tokens/J", "L/kWh", "USD/GPU-h"):
        return f"{value:.4g} {unit}"
    return f"{value:.3f}"


def blocks(c: Comparison, figures: dict[str, Path]) -> list[tuple]:
    """The report as blocks: ('h1'|'h2'|'p', text), ('table', header, rows), ('ul', items), ('img', caption, key)."""
    a, b = c.sites
    mix = ", ".join(f"{w} {s:.0%}" for w, s in c.mix.items())
    out: list[tuple] = [
        ("h1", f"{a.label}: {a.name} vs {b.label}: {b.name}"),
        ("p", f"Workload mix {mix}; weather {a.climate}" + (f" / {b.climate}" if b.climate != a.climate else "")
         + f"; {c.hours:,} simulated hours per workload year. Inference is {INFERENCE.describe()} with diurnal "
         f"demand; training is {TRAINING.describe()} with the training profile (checkpoint dips)."),
        ("h2", "Verdict"),
        ("p", c.verdict["text"]),
        ("table", ["margin per MW-year", f"{a.label}: {a.name}", f"{b.label}: {b.name}", "ahead"],
         [[f"{m} billing", *(fmt(v, "USD/MW/year") for v in row["margins"]),
           "tie" if row["winner"] is None else c.sites[row["winner"]].label]
          for m, row in c.verdict["per_model"].items()]),
        ("table", ["driver", a.label, b.label, "favours"],
         [[d["label"], *(_driver(v) for v in d["values"]), "-" if d["favours"] is None else c.sites[d["favours"]].label]
          for d in c.verdict["drivers"]]),
    ]
    out += _sensitivity_blocks(c, figures)
    if c.claims:
        out.append(("h2", "Common claims, checked against these numbers"))
        out.append(("ul", [f"{'Holds' if x['holds'] else 'Does not hold here'}: \"{x['claim']}\" ({x['numbers']})."
                           for x in c.claims]))
    out.append(("h2", "Side by side"))
    for title, keys in ROWS:
        out.append(("table", [title, f"{a.label}: {a.name} ({a.framing}, {a.billing} billing)",
                              f"{b.label}: {b.name} ({b.framing}, {b.billing} billing)"],
                    [[LABELS.get(k, k), *(fmt(s.metrics[k].value, s.metrics[k].unit) for s in c.sites)] for k in keys]))
    out.append(("h2", "Figures"))
    for key, caption in (("money", "Revenue and margin per MW-year under each billing model"),
                         ("monthly", "Monthly PUE and WUE of the mixed year"),
                         ("view-A", f"{a.label}: {a.name}, racks coloured by nameplate kW"),
                         ("view-B", f"{b.label}: {b.name}, racks coloured by nameplate kW")):
        if key in figures:
            out.append(("img", caption, key))
    out.append(("h2", "Where each number comes from"))
    out.append(("table", ["number", "source"], _sources(c)))
    out.append(("h2", "Catalog entries and assumptions used"))
    out.append(("ul", _catalog_lines(c)))
    out.append(("p", f"Generated {datetime.date.today().isoformat()} by solvers.compare."))
    return out


def _sensitivity_blocks(c: Comparison, figures: dict[str, Path]) -> list[tuple]:
    """The tornado of the own-billing margin gap (A - B) and the break-even factor of each input."""
    rows = c.sensitivity.get("tornado") or []
    if not rows:
        return []
    a, b = c.sites
    base = rows[0]["base"]
    out: list[tuple] = [
        ("h2", "What would flip the verdict"),
        ("p", f"Gap in margin per MW-year, each under its own billing: {a.label} minus {b.label} = "
              f"{base / 1e6:,.2f} MUSD at the default prices. Each input is scaled alone, the designs fixed "
              "(solvers.sensitivity); a break-even is the factor at which the gap is zero (re-running the "
              "comparison at it gives a tie; re-optimizing at that price may move it a little)."),
        ("table", ["input", "low", "gap at low", "high", "gap at high", "break-even"],
         [[r["label"], f"x{r['low_factor']:g}", f"{r['low'] / 1e6:,.2f} MUSD", f"x{r['high_factor']:g}",
           f"{r['high'] / 1e6:,.2f} MUSD", "none in x0.02-x50" if r["break_even"] is None else f"x{r['break_even']:.3g}"]
          for r in rows]),
    ]
    if "tornado" in figures:
        out.append(("img", "Tornado: the margin gap over each input's range", "tornado"))
    return out


def _driver(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _sources(c: Comparison) -> list[list[str]]:
    rows = []
    for _, keys in ROWS:
        for k in keys:
            srcs = [s.metrics[k].source for s in c.sites]
            text = srcs[0] if srcs[0] == srcs[1] else " | ".join(f"{s.label}: {x}" for s, x in zip(c.sites, srcs))
            rows.append([LABELS.get(k, k), text])
    return rows


def _catalog_lines(c: Comparison) -> list[str]:
    from models.billing import gpu_hour_price
    from twin.physics import tokens

    cat = c.sites[0].plan.facility.catalog
    lines = []
    systems = sorted({s for site in c.sites for s in site.plan.facility.table("rack")["system"].dropna()})
    for s in systems:
        spec = cat.system(s)
        price = gpu_hour_price(cat, s)
        lines.append(f"system {s}: capex {spec.capex_usd_per_gpu:,.0f} USD/GPU ({spec.evidence_of('capex_usd_per_gpu')}, "
                     f"{' '.join(spec.source_of('capex_usd_per_gpu'))}); GPU-hour {price.usd:.2f} USD ({price.evidence}, "
                     f"{price.note}; {price.source})")
    for t in cat.tiers:
        tier = cat.tier(t)
        lines.append(f"tier {t}: {tier.price_usd_per_mtok:g} / {tier.input_price_usd_per_mtok:g} USD per M output/input "
                     f"tokens at >= {tier.min_interactivity_tok_s_user:g} tok/s/user ({tier.evidence_of('price_usd_per_mtok')}, "
                     f"{' '.join(tier.source_of('price_usd_per_mtok'))})")
    f = c.finance
    m = c.market
    lives = ", ".join(f"{k} {v.life_years:g} y (O&M {v.om_fraction:.0%}/y)" for k, v in f.classes.items()) if f else ""
    lines += [
        f"finance: WACC {f.wacc:g}, electricity {f.electricity_usd_per_kwh:g} USD/kWh, asset lives {lives}; building "
        f"{f.classes['building'].capex_usd_per_kw_it:,.0f} USD per kW of IT (twin/data/market.yaml, each value sourced "
        "and tagged there)" if f else "finance: packaged defaults",
        "market (twin/data/market.yaml): token demand per tier per MW at list price with DeepSeek's measured daily shape "
        "and a price response (assumptions calibrated to the public revenue-per-GPU-hour band); GPU-hours "
        f"{m.gpu_hours.reserved_share:.0%} reserved at the 3-year rental price, the rest on demand at "
        f"{m.gpu_hours.on_demand_price_factor:g}x while occupied ({m.gpu_hours.on_demand_occupancy:.0%})" if m else "market: packaged defaults",
        f"training sells only on racks whose NVLink domain has >= {TRAINING_DOMAIN_GPUS} GPUs, at the reserved price x "
        f"goodput {TRAINING_GOODPUT:g} (Llama 3: > 90 % effective training time, https://arxiv.org/abs/2407.21783)",
        f"training: {TRAINING.params_b:g} B active parameters (DeepSeek-V3 report, https://arxiv.org/abs/2412.19437), "
        f"MFU {TRAINING.mfu:g} (assumption, twin.physics.tokens.DEFAULT_MFU)",
        "utilization profiles: twin.physics.profiles DIURNAL and TRAINING (labelled assumptions)",
        "a capped GPU-hour sells at price x cap factor (assumption, models/billing.py)",
        f"token tiers of GPU-hour-billed sites: each rack serves the best-paying tier it reaches ({tokens.__name__} tier points)",
    ]
    return lines


def figures(c: Comparison, folder: Path) -> dict[str, Path]:
    """Write the report's PNG figures into `folder`; 3D views are copied from the comparison if it has them."""
    from matplotlib.figure import Figure

    from twin.atomic import atomic_copy
    from twin.views import charts

    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    fig = Figure(figsize=(9, 3.6), dpi=110, layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, key, title in zip(axes, ("revenue_per_mw", "margin_per_mw"), ("revenue", "margin")):
        width = 0.38
        for i, s in enumerate(c.sites):
            values = [s.metrics[f"{key}[{m}]"].value / 1e6 for m in BILLING_MODELS]
            ax.bar([j + (i - 0.5) * width for j in range(len(BILLING_MODELS))], values, width, label=f"{s.label}: {s.name}")
        ax.set_xticks(range(len(BILLING_MODELS)), [f"{m} billing" for m in BILLING_MODELS])
        ax.set_title(f"{title} per MW-year")
        ax.set_ylabel("million USD per MW-year")
        ax.axhline(0, color="0.3", lw=0.8)
        charts.plain_axis(ax)
    charts.legend_beside(axes[1], fontsize=8)
    out["money"] = _save(fig, folder / "money.png")
    fig = Figure(figsize=(9, 3.2), dpi=110, layout="constrained")
    axes = fig.subplots(1, 2)
    for s in c.sites:
        axes[0].plot(s.monthly["month"], s.monthly["pue"], marker="o", label=f"{s.label}: {s.name}")
        axes[1].plot(s.monthly["month"], s.monthly["wue"], marker="o", label=f"{s.label}: {s.name}")
    for ax, name in zip(axes, ("PUE", "WUE, L/kWh")):
        charts.month_axis(ax, c.sites[0].monthly["month"])
        charts.plain_axis(ax)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    charts.legend_beside(axes[1], fontsize=8)
    out["monthly"] = _save(fig, folder / "monthly.png")
    rows = c.sensitivity.get("tornado") or []
    if rows:
        fig = Figure(figsize=(8, 0.5 * len(rows) + 1.4), dpi=110)
        ax = fig.subplots()
        base = rows[0]["base"] / 1e6
        for i, r in enumerate(reversed(rows)):
            lo, hi = r["low"] / 1e6, r["high"] / 1e6
            ax.barh(i, lo - base, left=base, color="tab:blue", label="low" if i == 0 else None)
            ax.barh(i, hi - base, left=base, color="tab:orange", label="high" if i == 0 else None)
        ax.set_yticks(range(len(rows)), [f"{r['label']} (x{r['low_factor']:g} / x{r['high_factor']:g})" for r in reversed(rows)],
                      fontsize=8)
        ax.axvline(base, color="0.3", lw=1)
        ax.axvline(0.0, color="tab:red", lw=1, ls="--")
        ax.set_xlabel(f"margin gap per MW-year, {c.sites[0].label} - {c.sites[1].label} (MUSD); red: verdict flips")
        ax.legend(fontsize=8)
        fig.tight_layout()
        out["tornado"] = _save(fig, folder / "tornado.png")
    for s in c.sites:
        if s.view is not None and Path(s.view).is_file():
            target = folder / f"view-{s.label}.png"
            if Path(s.view).resolve() != target.resolve():
                atomic_copy(s.view, target)
            out[f"view-{s.label}"] = target
    return out


def _save(fig, path: Path) -> Path:
    from twin.atomic import save_figure

    return save_figure(fig, path)


def markdown(c: Comparison, figures: dict[str, Path], relative_to: Path | None = None) -> str:
    """The report as Markdown; images link to the figure files (relative to `relative_to`)."""
    lines: list[str] = []
    for block in blocks(c, figures):
        kind = block[0]
        if kind == "h1":
            lines += [f"# {block[1]}", ""]
        elif kind == "h2":
            lines += [f"## {block[1]}", ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(_md_cell(x) for x in row) + " |" for row in rows]
            lines.append("")
        elif kind == "img":
            path = figures[block[2]]
            link = path.relative_to(relative_to) if relative_to is not None else path
            lines += [f"![{block[1]}]({link.as_posix()})", ""]
    return "\n".join(lines)


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_html(c: Comparison, figures: dict[str, Path]) -> str:
    """The report as one standalone HTML page (figures embedded as base64 PNG; nothing loaded from outside)."""
    body: list[str] = []
    for block in blocks(c, figures):
        kind = block[0]
        if kind in ("h1", "h2", "p"):
            body.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(str(h))}</th>" for h in block[1])
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in row) + "</tr>" for row in block[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "img":
            data = base64.b64encode(figures[block[2]].read_bytes()).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(block[1])}" src="data:image/png;base64,{data}">'
                        f"<figcaption>{html.escape(block[1])}</figcaption></figure>")
    title = html.escape(f"{c.sites[0].name} vs {c.sites[1].name}")
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;"
             "text-align:left;vertical-align:top;font-size:0.9em}th{background:#f3f3f3}img{max-width:100%}"
             "figure{margin:1em 0}figcaption{color:#555;font-size:0.9em}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(c: Comparison, out_dir: Path, *, stem: str = "report") -> dict[str, Path]:
    """Write `<stem>.md` with its figures in `<stem>-figures/`, and `<stem>.html`; return the paths."""
    from twin.atomic import atomic_write

    out_dir.mkdir(parents=True, exist_ok=True)
    figs = figures(c, out_dir / f"{stem}-figures")
    md = atomic_write(out_dir / f"{stem}.md", lambda fh: fh.write(markdown(c, figs, relative_to=out_dir)))
    page = atomic_write(out_dir / f"{stem}.html", lambda fh: fh.write(to_html(c, figs)))
    return {"markdown": md, "html": page, **figs}


__all__ = ["fmt", "blocks", "markdown", "to_html", "figures", "write_report", "ROWS", "LABELS", "Number"]
