"""The verdict of a comparison and common claims checked against its numbers.

The verdict ranks the two facilities by margin per MW-year (revenue minus capital recovery, O&M and
electricity, per MW of grid connection: the scarce resource), first each under its own billing (the
datacenter selling GPU-hours, the factory tokens), then under each billing model for both, and names the
numbers that drive the difference. Claims often made about the two framings are tested
on the same numbers; the report says plainly when one does not hold here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from solvers.comparison import BILLING_MODELS, LIQUID

if TYPE_CHECKING:
    from solvers.comparison import SiteResult

TIE = 0.005
"""Margins within 0.5 % of the larger one count as a tie."""
DRIVERS = (
    ("tokens_per_joule", "tokens per joule (inference)", True),
    ("gpu_hour_usd_per_mw", "GPU-hour revenue per MW at full use, USD/MW/h", True),
    ("pue", "annual PUE", False),
    ("capex_per_mw", "capex per MW of grid, USD", False),
    ("utilization", "mean utilization", True),
    ("fit", "fit to the mix (revenue vs best single workload)", True),
)
"""(metric, label, higher is better): the numbers that move margin per MW."""


def winner(values: list[float]) -> int | None:
    """Index of the larger of two values, None for a tie (within TIE of the larger magnitude)."""
    a, b = values
    if abs(a - b) <= TIE * max(abs(a), abs(b), 1e-12):
        return None
    return 0 if a > b else 1


def verdict(sites: list[SiteResult], mix: dict[str, float]) -> dict[str, Any]:
    """Who earns more per MW-year under each billing model, the overall call, and its drivers."""
    per_model = {}
    for model in BILLING_MODELS:
        values = [s.metrics[f"margin_per_mw[{model}]"].value for s in sites]
        per_model[model] = {"margins": values, "winner": winner(values)}
    winners = {v["winner"] for v in per_model.values()}
    overall = winners.pop() if len(winners) == 1 else None
    own_values = [s.metrics["margin_per_mw[own]"].value for s in sites]
    own = {"margins": own_values, "winner": winner(own_values)}
    mix_text = ", ".join(f"{w} {share:.0%}" for w, share in mix.items())
    if overall is not None:
        head = f"{_name(sites, overall)} earns more per MW-year under both billing models."
    elif all(v["winner"] is None for v in per_model.values()):
        head = f"neither earns clearly more per MW-year: margins are within {TIE:.1%} under both billing models."
    else:
        head = "which earns more per MW-year depends on billing: " + "; ".join(
            f"{_name(sites, v['winner'])} under {m} billing" for m, v in per_model.items()) + "."
    drivers = []
    for key, label, higher in DRIVERS:
        values = [s.metrics[key].value for s in sites]
        better = winner(values if higher else [-v for v in values])
        drivers.append({"metric": key, "label": label, "values": values, "favours": better})
    a, b = own_values
    own_text = (f"each under its own billing ({sites[0].label} {_billing(sites[0])}, {sites[1].label} {_billing(sites[1])}), "
                + ("neither earns clearly more" if own["winner"] is None else f"{_name(sites, own['winner'])} earns more")
                + f" per MW-year: {sites[0].label} {_musd(a)} vs {sites[1].label} {_musd(b)}.")
    lines = [f"For {mix_text}: {own_text} Under one billing model for both: {head}"]
    for model, v in per_model.items():
        a, b = v["margins"]
        lines.append(f"Margin per MW-year under {model} billing: {sites[0].label} {_musd(a)} vs {sites[1].label} "
                     f"{_musd(b)} ({'tie' if v['winner'] is None else sites[v['winner']].label + ' ahead'}).")
    decisive = [d for d in drivers if d["favours"] is not None]
    if decisive:
        lines.append("Driven by: " + "; ".join(
            f"{d['label']} {_num(d['values'][0])} vs {_num(d['values'][1])} (favours {sites[d['favours']].label})"
            for d in decisive) + ".")
    return {"own": own, "overall": overall, "per_model": per_model, "drivers": drivers, "text": " ".join(lines)}


def claims(sites: list[SiteResult]) -> list[dict[str, Any]]:
    """Common claims about the two framings, each marked holds / does not hold with its numbers."""
    out = []
    liquid = [_is_liquid(s) for s in sites]
    if liquid[0] != liquid[1]:
        li, ai = (0, 1) if liquid[0] else (1, 0)
        L, A = sites[li], sites[ai]
        out.append(_claim("Liquid cooling lowers annual PUE", L.metrics["pue"].value < A.metrics["pue"].value,
                          f"annual PUE {L.label} (liquid) {L.metrics['pue'].value:.3f} vs {A.label} {A.metrics['pue'].value:.3f}"))
        ahead = [L.metrics[f"margin_per_mw[{m}]"].value > A.metrics[f"margin_per_mw[{m}]"].value for m in BILLING_MODELS]
        out.append(_claim("Liquid cooling always wins (more margin per MW under every billing model)", all(ahead),
                          "; ".join(f"{m}: {L.label} {_musd(L.metrics[f'margin_per_mw[{m}]'].value)} vs {A.label} "
                                    f"{_musd(A.metrics[f'margin_per_mw[{m}]'].value)}" for m in BILLING_MODELS)))
    framings = [s.billing for s in sites]
    if framings[0] != framings[1]:
        fi, di = (0, 1) if framings[0] == "tokens" else (1, 0)
        F, D = sites[fi], sites[di]
        out.append(_claim("An AI factory makes more tokens per watt than an AI datacenter",
                          F.metrics["tokens_per_joule"].value > D.metrics["tokens_per_joule"].value,
                          f"tokens/J {F.label} {F.metrics['tokens_per_joule'].value:.3g} vs {D.label} "
                          f"{D.metrics['tokens_per_joule'].value:.3g}"))
        key = "margin_per_mw[compute-hour|training]"
        out.append(_claim("An AI datacenter is the better home for training",
                          D.metrics[key].value > F.metrics[key].value,
                          f"training-only margin per MW-year at GPU-hour prices: {D.label} {_musd(D.metrics[key].value)} "
                          f"vs {F.label} {_musd(F.metrics[key].value)}"))
    return out


def _claim(text: str, holds: bool, numbers: str) -> dict[str, Any]:
    return {"claim": text, "holds": bool(holds), "numbers": numbers}


def _is_liquid(site: SiteResult) -> bool:
    """Liquid-cooled if most of the populated racks' IT power is on a liquid technology."""
    racks = site.plan.facility.table("rack")
    used = racks[racks["system"].notna()]
    if used.empty:
        return False
    liquid = used["nameplate_kw"][used["cooling"].isin(LIQUID)].sum()
    return bool(liquid > 0.5 * used["nameplate_kw"].sum())


def _billing(site: SiteResult) -> str:
    return "compute-hour" if site.billing == "gpu_hours" else "token"


def _name(sites: list[SiteResult], i: int | None) -> str:
    return "neither" if i is None else f"{sites[i].label} ({sites[i].name})"


def _musd(value: float) -> str:
    return f"{value / 1e6:,.2f} MUSD"


def _num(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


__all__ = ["verdict", "claims", "winner", "DRIVERS", "TIE"]
