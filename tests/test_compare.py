"""`solvers.compare` and `twin compare`: the report's numbers equal a direct computation from the solved
facilities, the catalog and our own simulations; the verdict follows the numbers for several mixes."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import blueprints
import solvers
import twin
from models.billing import RENTAL_3YR_USD
from solvers.compare import INFERENCE, TRAINING, CompareError, Number, parse_mix, with_best_tiers
from solvers.report import fmt
from solvers.sensitivity import with_input
from solvers.verdict import claims, verdict
from twin.economics import default_finance, default_market
from twin.physics import gpu, profiles, tokens

pytestmark = pytest.mark.solver
CLIMATE = "phoenix"
MIX = {"inference": 0.8, "training": 0.2}


@pytest.fixture(scope="module")
def plans():
    dc = solvers.optimize(blueprints.load("ai-datacenter-20mw", climate=CLIMATE), workload=INFERENCE)
    factory = solvers.optimize(blueprints.load("ai-factory-20mw", climate=CLIMATE), workload=INFERENCE)
    return dc, factory


@pytest.fixture(scope="module")
def report(plans, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    result = solvers.compare(*plans, workload_mix="inference=0.8,training=0.2", climate=CLIMATE, views_dir=out)
    return result, result.save(out)


def direct(plan) -> dict[str, float]:
    """The report's headline numbers recomputed here from the solved facility, the catalog, the packaged market
    and finance, and fresh simulations."""
    fac = plan.facility
    cat = fac.catalog
    market, fin = default_market(), default_finance()
    gpu_hours_billing = fac.graph.graph.get("billing") == "gpu_hours"
    served = with_best_tiers(fac, INFERENCE) if gpu_hours_billing else fac
    run = lambda f, util, wl: twin.simulate(f, weather=CLIMATE, hours=8760, utilization=util, workload=wl,  # noqa: E731
                                            per_rack=False, per_device=False)
    inf, train = run(served, "diurnal", INFERENCE), run(fac, "training", TRAINING)
    t = inf["time"].values
    mixed = run(fac, MIX["inference"] * profiles.diurnal(t) + MIX["training"] * profiles.training(t), INFERENCE)
    racks = fac.table("rack").dropna(subset=["system"])
    usd_h = sum(g * RENTAL_3YR_USD[s] * gpu.cap_factor(cat, c, tdp)
                for s, g, c, tdp in zip(racks["system"], racks["gpus"], racks["cap_w"], racks["gpu_tdp_w"]))
    grid_mwh = {k: float(ds["grid_power_kw"].sum()) / 1000 for k, ds in (("inf", inf), ("train", train), ("mix", mixed))}
    mw = plan.kpis["grid_limit_mw"]
    capex = plan.kpis["capex_usd"]
    capital = sum(plan.kpis[f"capex_usd[{k}]"] * (fin.crf(k) + fin.classes[k].om_fraction)
                  for k in ("gpus", "power", "cooling", "building"))
    cost = capital + (MIX["inference"] * grid_mwh["inf"] + MIX["training"] * grid_mwh["train"]) * 1000 * 0.08
    g = market.gpu_hours
    busy_train = float((train["utilization"] * train["throttle"]).mean())
    train_usd = usd_h * 8760 * busy_train * 1.0 * 0.9              # reserved price x Llama-3 goodput
    capacity = {str(tier): float(inf["tokens_per_s"].sel(tier=tier).sum() / inf["utilization"].sum())
                for tier in inf["tier"].values if tier in plan.data.tiers}
    token_inf = sum(market.revenue_usd_per_year(tier, cap, grid_mw=mw,
                                                list_usd_per_mtok=tokens.revenue_usd_per_mtok(cat, tier, 0.5))
                    for tier, cap in capacity.items())
    compute_inf = usd_h * 8760 * (0.7 + 0.3 * 1.6 * 0.65) * float(inf["throttle"].mean())
    assert g.realized_factor == pytest.approx(0.7 + 0.3 * 1.6 * 0.65)
    compute_rev = MIX["inference"] * compute_inf + MIX["training"] * train_usd
    token_rev = MIX["inference"] * token_inf + MIX["training"] * train_usd
    inf_tokens = float(inf["tokens_per_s"].sum()) * 3600
    inf_cost = capital + grid_mwh["inf"] * 1000 * 0.08
    own = compute_rev if gpu_hours_billing else token_rev
    return {
        "pue": float(mixed["grid_power_kw"].sum() / mixed["it_power_kw"].sum()),
        "wue": float(mixed["water_l_per_h"].sum() / mixed["it_power_kw"].sum()),
        "capex_per_mw": capex / mw,
        "tokens_per_joule": inf_tokens / (grid_mwh["inf"] * 3.6e9),
        "tokens_per_year": MIX["inference"] * inf_tokens,
        "gpu_hours_per_year": float(racks["gpus"].sum()) * (MIX["inference"] * float((inf["utilization"] * inf["throttle"]).sum())
                                                            + MIX["training"] * float((train["utilization"] * train["throttle"]).sum())),
        "revenue_per_mw[compute-hour]": compute_rev / mw,
        "revenue_per_mw[token]": token_rev / mw,
        "margin_per_mw[compute-hour]": (compute_rev - cost) / mw,
        "margin_per_mw[token]": (token_rev - cost) / mw,
        "margin_per_mw[own]": (own - cost) / mw,
        "usd_per_mtok": inf_cost / (inf_tokens / 1e6),
        "power_per_rack_kw": float(mixed["it_power_kw"].mean()) / len(racks),
    }


def test_report_numbers_equal_a_direct_computation(report, plans):
    result, paths = report
    md, page = paths["markdown"].read_text(), paths["html"].read_text()
    for site, plan in zip(result.sites, plans):
        assert site.plan is plan
        for key, value in direct(plan).items():
            number = site.metrics[key]
            assert number.value == pytest.approx(value, rel=1e-6), (site.name, key)
            assert fmt(value, number.unit) in md and fmt(value, number.unit) in page, (site.name, key)
            assert number.source, key
    for key in ("money", "monthly", "tornado", "view-A", "view-B"):
        assert paths[key].stat().st_size > 10_000
        assert f"({paths[key].relative_to(paths['markdown'].parent).as_posix()})" in md
    assert page.count("data:image/png;base64,") == 5 and "http" not in page.split("<body>")[0]
    assert "What would flip the verdict" in md and "evidence of tokens and revenue" in md


def test_the_report_traces_catalog_numbers_to_their_sources(report):
    result, paths = report
    md = paths["markdown"].read_text()
    cat = result.sites[0].plan.facility.catalog
    for system in {s for site in result.sites for s in site.plan.facility.table("rack")["system"].dropna()}:
        spec = cat.system(system)
        assert f"system {system}: capex {spec.capex_usd_per_gpu:,.0f} USD/GPU" in md
        assert spec.source_of("capex_usd_per_gpu")[0] in md
    assert "https://github.com/SemiAnalysisAI/InferenceX-app" in md and "Where each number comes from" in md


@pytest.mark.parametrize("mix", ["inference=0.95,training=0.05", "inference=0.05,training=0.95"])
def test_the_verdict_follows_the_numbers(plans, mix):
    result = solvers.compare(*plans, workload_mix=mix, climate=CLIMATE, render=False)
    a, b = result.sites
    winners = set()
    for model, row in result.verdict["per_model"].items():
        margins = [s.metrics[f"margin_per_mw[{model}]"].value for s in result.sites]
        assert row["margins"] == margins
        assert row["winner"] == int(np.argmax(margins))            # no ties between these two designs
        winners.add(row["winner"])
        assert f"{margins[0] / 1e6:,.2f} MUSD vs {b.label} {margins[1] / 1e6:,.2f} MUSD" in result.verdict["text"]
    text = result.verdict["text"]
    if len(winners) == 1:
        w = result.sites[winners.pop()]
        assert result.verdict["overall"] == result.sites.index(w)
        assert f"{w.label} ({w.name}) earns more per MW-year under both billing models" in text
    else:
        assert result.verdict["overall"] is None and "depends on billing" in text.lower()
    for d in result.verdict["drivers"]:
        if d["favours"] is not None:
            assert d["values"] == [s.metrics[d["metric"]].value for s in result.sites]
            better = np.argmin(d["values"]) if d["metric"] in ("pue", "capex_per_mw") else np.argmax(d["values"])
            assert d["favours"] == better
    for c in result.claims:
        if c["claim"].startswith("An AI factory makes more tokens"):
            factory = b if b.billing == "tokens" else a
            other = a if factory is b else b
            assert c["holds"] == (factory.metrics["tokens_per_joule"].value > other.metrics["tokens_per_joule"].value)


def site(label: str, **values: float) -> SimpleNamespace:
    metrics = {k: Number(v, "", "test") for k, v in {"margin_per_mw[own]": values.get("margin_per_mw[token]", 0.0),
                                                     **values}.items()}
    return SimpleNamespace(label=label, name=f"site-{label}", billing="tokens", metrics=metrics)


def test_the_verdict_says_when_billing_decides_and_when_it_is_a_tie():
    common = {"tokens_per_joule": 1.0, "gpu_hour_usd_per_mw": 1.0, "pue": 1.2, "capex_per_mw": 1.0, "utilization": 0.7,
              "fit": 0.9}
    a = site("A", **common, **{"margin_per_mw[compute-hour]": 5e6, "margin_per_mw[token]": 1e6})
    b = site("B", **common, **{"margin_per_mw[compute-hour]": 2e6, "margin_per_mw[token]": 9e6})
    v = verdict([a, b], MIX)
    assert v["overall"] is None and "depends on billing: A (site-A) under compute-hour billing; B (site-B) under token" in v["text"]
    assert "Driven by" not in v["text"]                                 # equal drivers decide nothing
    c = site("C", **{**common, "pue": 1.5}, **{"margin_per_mw[compute-hour]": 5e6 * 1.001, "margin_per_mw[token]": 1e6})
    v = verdict([a, c], MIX)
    assert v["overall"] is None and "neither earns clearly more" in v["text"] and "annual PUE 1.2 vs 1.5 (favours A)" in v["text"]


def test_claims_that_the_numbers_contradict_are_said_to_fail(plans, report):
    result, _ = report
    assert {c["claim"] for c in result.claims} >= {"An AI factory makes more tokens per watt than an AI datacenter",
                                                    "An AI datacenter is the better home for training"}
    flipped = [SimpleNamespace(**{**vars(s), "metrics": dict(s.metrics)}) for s in result.sites]
    dc, factory = flipped
    dc.metrics["tokens_per_joule"] = Number(2 * factory.metrics["tokens_per_joule"].value, "tokens/J", "test")
    said = {c["claim"]: c["holds"] for c in claims(flipped)}
    assert said["An AI factory makes more tokens per watt than an AI datacenter"] is False


def test_gpu_hour_sites_sell_tokens_on_their_best_paying_tier(plans):
    """Without a demand limit every rack takes its best-paying tier; under the packaged market no tier gets
    more capacity than its market can ever buy."""
    from twin.economics import Market

    dc = plans[0].facility
    market = default_market()
    limited = with_best_tiers(dc, INFERENCE, market).table("rack").dropna(subset=["system"])
    mw = dc.grid_limit_mw
    for tier, group in limited.groupby("tier"):
        rate = sum(g * tokens.tier_point(dc.catalog, s, tier, INFERENCE).tokens_per_s_per_gpu * gpu.cap_factor(dc.catalog, c, tdp)
                   for s, g, c, tdp in zip(group["system"], group["gpus"], group["cap_w"], group["gpu_tdp_w"]))
        assert rate <= market.peak_demand(tier, mw) * max(d for _, d in market.tier(tier).price_response) * (1 + 1e-9)
    served = with_best_tiers(dc, INFERENCE, Market(daily_shape=(1.0,) * 24)).table("rack").dropna(subset=["system"])
    cat = dc.catalog
    for (system, g, cap, tdp), group in served.groupby(["system", "gpus", "cap_w", "gpu_tdp_w"]):
        usd = {}
        for t in cat.tiers:
            try:
                p = tokens.tier_point(cat, system, t, INFERENCE)
            except Exception:
                continue
            usd[t] = p.tokens_per_s_per_gpu * tokens.revenue_usd_per_mtok(cat, t, p.output_share)
        assert set(group["tier"]) == {max(usd, key=usd.get)}


@pytest.fixture(scope="module")
def mixes(plans):
    """The two designs compared for a training-heavy and an inference-heavy mix (two weeks simulated)."""
    return {mix: solvers.compare(*plans, workload_mix=mix, climate=CLIMATE, render=False, hours=14 * 24)
            for mix in ("inference=0.1,training=0.9", "inference=0.9,training=0.1")}


def test_mix_changes_the_verdict_or_the_report_says_where_it_flips(mixes):
    winners = {mix: r.verdict["own"]["winner"] for mix, r in mixes.items()}
    flips = {mix: [row for row in r.sensitivity["tornado"] if row["break_even"] is not None] for mix, r in mixes.items()}
    assert len(set(winners.values())) == 2 or all(flips.values())
    for r in mixes.values():
        swings = [row["swing"] for row in r.sensitivity["tornado"]]
        assert swings == sorted(swings, reverse=True) and swings[0] > 0
        assert {row["input"] for row in r.sensitivity["tornado"]} == {
            "token_price", "sell_through", "gpu_hour_price", "occupancy", "capex", "electricity", "utilization"}


@pytest.mark.parametrize("key", ["token_price", "gpu_hour_price"])
def test_rerunning_at_the_break_even_ties_the_verdict(plans, mixes, key):
    """Re-running the whole comparison (simulations included) with the input at its break-even gives equal
    own-billing margins, and 5 % either side gives opposite verdicts."""
    mix = "inference=0.1,training=0.9"
    row = next(r for r in mixes[mix].sensitivity["tornado"] if r["input"] == key)
    assert row["break_even"] is not None, f"{key}: no break-even within the search range for this mix"
    margins = {}
    for f in (row["break_even"] * 0.95, row["break_even"], row["break_even"] * 1.05):
        market, finance, use = with_input(default_market(), default_finance(), key, f)
        r = solvers.compare(*plans, workload_mix=mix, climate=CLIMATE, render=False, hours=14 * 24, market=market,
                            finance=finance, utilization=use)
        margins[f] = [s.metrics["margin_per_mw[own]"].value for s in r.sites]
    low, tie, high = margins.values()
    assert tie[0] == pytest.approx(tie[1], rel=1e-6)
    assert np.sign(low[0] - low[1]) == -np.sign(high[0] - high[1]) != 0


def test_training_sells_only_where_the_nvlink_domain_fits(plans):
    from solvers.compare import gpu_hour_rate

    factory = plans[1].facility
    assert gpu_hour_rate(factory, min_domain=8) == gpu_hour_rate(factory)
    assert gpu_hour_rate(factory, min_domain=10_000) == (0.0, 0.0)


def test_parse_mix():
    assert parse_mix("inference=0.75,training=0.25") == {"inference": 0.75, "training": 0.25}
    assert parse_mix({"fine-tuning": 1}) == {"inference": 0.0, "training": 1.0}
    assert parse_mix("inference=0.333,training=0.667") == pytest.approx({"inference": 0.333, "training": 0.667})
    for bad, message in (("inference=0.8,cloud=0.2", "unknown workload 'cloud'"), ("inference=-1", ">= 0"),
                         ("inference=0", "add up to 0, not 1"), ("inference", "inference=0.8,training=0.2"),
                         # a missing share was silently rescaled: inference=0.8 alone became 100 % inference
                         ("inference=0.8", "add up to 0.8, not 1"), ("inference=3,training=1", "add up to 4, not 1")):
        with pytest.raises(CompareError, match=message):
            parse_mix(bad)


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_cli_compare_writes_the_report(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "twin", "compare", "ai-factory-hall", "retrofit-dlc-hall",
                          "--workload-mix", "inference=0.5,training=0.5", "--hours", "48", "--no-render",
                          "--out", str(tmp_path)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "verdict:" in out.stdout and "margin per MW-year" in out.stdout
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report.html").is_file()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 4 and not [p for p in written if ".tmp" in p.name]  # report, page, figures; no leftovers
    assert {oct(p.stat().st_mode & 0o777) for p in written} == {oct(0o666 & ~umask())}
    bad = subprocess.run([sys.executable, "-m", "twin", "compare", "ai-factory-hall", "ai-factory-20mw",
                          "--workload-mix", "inference=0.5,cloud=0.5"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "unknown workload 'cloud'" in bad.stderr and "Traceback" not in bad.stderr
