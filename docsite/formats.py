"""Format reference pages generated from the loaders' own field tables, so the reference cannot drift from them.

Field names come from the code (`twin.blueprint` key tables, the parametric builders' signatures,
`models.placement_data` field sets, `solvers.sweep.KEYS`); only the one-line meanings are written here, and a
field without one is reported as a build warning (which fails the strict build).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent

BLUEPRINT = {
    "top level": {
        "format": "`twin-blueprint/1` (optional)",
        "name": "facility name (default `facility`)",
        "description": "free text, shown by `twin blueprints`",
        "gpu_nodes": "`false` builds a lean graph: racks keep their system and node count (the rack table's `gpus`) "
                     "but get no node per GPU, which only per-GPU detail reads (default `true`; "
                     "`blueprints.load(..., gpu_nodes=False)` overrides the file)",
        "site": "site attributes (a mapping; see below)",
        "catalog": "your own catalog files, paths relative to the blueprint (`twin/data` format)",
        "equipment": "the power chain and cooling plant, one entry per device",
        "halls": "the halls, each with its rows of rack positions",
        "builder": "a parametric blueprint instead of `equipment`/`halls`: `{name: <builder>, <parameter>: value}`",
    },
    "equipment entry": {
        "id": "unique node id",
        "kind": "device kind (see the list below)",
        "rating_kw": "nameplate capacity, kW (> 0)",
        "fed_by": "devices this one takes power from",
        "rejects_to": "devices this one sends its heat to (cooling units to plant)",
        "group": "redundancy group: members share the load",
        "redundancy": "the group's scheme: `N`, `N+k` or `2N`",
        "model": "catalog equipment id (losses, efficiency curve, price)",
    },
    "hall": {
        "id": "unique hall id",
        "x_m": "floor rectangle origin, m (default 0)",
        "y_m": "floor rectangle origin, m (default 0)",
        "width_m": "floor width, m (required, > 0)",
        "depth_m": "floor depth, m (required, > 0)",
        "cooling": "catalog cooling technology of the hall's racks (`twin catalog cooling`)",
        "rows": "a row template (mapping) or an explicit list of rows",
    },
    "row template": {
        "count": "number of rows, named row-01, row-02, ...",
        "racks": "rack positions per row, named rack-01, rack-02, ...",
        "first_x_m": "centre of the first rack along the row, m (default 1.2 m aisle in from the hall edge)",
        "first_y_m": "centre of the first row, m (default 1.2 m aisle in from the hall edge)",
        "pitch_m": "rack to rack along a row, m (default: the rack width)",
        "spacing_m": "row to row, m (default: two rack depths + 1.2 m aisle)",
        "rack": "what stands in every position (leave out for empty positions; see rack specification)",
        "fed_by": "devices feeding every rack",
        "cooled_by": "cooling units taking every rack's heat",
        "busways": "devices created per row as `<row>/<name>` (see busway)",
        "busway_redundancy": "the row's busways form one redundancy group with this scheme",
        "rack_units": "one cooling unit per rack, created as `<rack>/<name>` (see rack unit)",
    },
    "rack specification": {
        "system": "catalog GPU system (`twin catalog systems`)",
        "nodes": "nodes per rack (one of the system's allowed densities; default its first)",
        "power_cap_w": "GPU power cap, W (default: none, the TDP)",
        "width_m": "rack width, m (default 0.6)",
        "depth_m": "rack depth, m (default 1.2)",
        "height_m": "rack height, m (default 2.3)",
    },
    "busway": {
        "name": "id within the row (the device is `<row>/<name>`)",
        "kind": "device kind (default `busway`)",
        "rating_kw": "nameplate capacity, kW",
        "fed_by": "devices feeding the busway",
    },
    "rack unit": {
        "name": "id within the rack (the device is `<rack>/<name>`)",
        "kind": "cooling unit kind (default `rdhx`)",
        "rating_kw": "nameplate capacity, kW",
        "rejects_to": "plant devices the unit sends its heat to",
    },
    "explicit row": {
        "id": "row id within the hall (the node is `<hall>/<id>`)",
        "racks": "the row's racks, each listed (see explicit rack)",
    },
    "explicit rack": {
        "id": "rack id within the row (the node is `<hall>/<row>/<id>`)",
        "x_m": "rack centre, m (required)",
        "y_m": "rack centre, m (required)",
        "system": "catalog GPU system (leave out for an empty position)",
        "nodes": "nodes in the rack",
        "power_cap_w": "GPU power cap, W",
        "fed_by": "devices feeding this rack",
        "cooled_by": "cooling units taking this rack's heat",
    },
}
"""Sections of the blueprint format -> field -> meaning. Which loader table each section's names come from: SOURCES."""

SITE = {
    "grid_limit_mw": "the grid connection, MW",
    "climate": "climate name (`twin.weather.names()`) or a weather file",
    "aux_power_kw": "auxiliary power (lighting, controls), kW (default 10 W per m² of hall floor)",
    "billing": "what the site sells: `tokens` (token tiers, the default) or `gpu_hours` (compute-hour rental)",
    "framing": "`ai-factory` or `ai-datacenter`, the framing `twin compare` reports (default from `billing`)",
    "systems": "GPU systems the optimizer may choose from (default: these plus the systems already in racks; the whole catalog if neither)",
    "evidence": "`measured` (default: only measured and vendor-spec throughput) or `claims` (derived curves and vendor claims too)",
    "cap_curve": "catalog power-cap curve the optimizer uses (`twin catalog power_caps`)",
    "keep_plant": "`true`: every existing power and cooling device keeps its rating as a limit of the design (brownfield)",
    "cap_levels": "GPU power-cap levels the optimizer may choose from, as fractions of TDP",
    "capex_budget_usd": "capex budget the design must stay within, USD",
    "electricity_usd_per_kwh": "electricity price, USD/kWh",
    "market": "token demand per tier over the day with a price response, GPU-hour occupancy and contract mix (`twin/data/market.yaml`)",
    "finance": "`{wacc, electricity_usd_per_kwh, horizon_years, asset_classes: {gpus, power, cooling, building}}`: capital recovery and O&M",
    "workload": "the served workload, fields of `twin.physics.tokens.Workload` (llm, precision, isl, osl, ...)",
    "design_exceedance_hours": "hours of the design weather year the grid limit may be exceeded at full load: a number "
                               "or ASHRAE `0.4%`, `1%`, `2%` (35, 88, 175 h; default 0)",
    "design_throttle_hours": "hours of the design year racks may throttle at full load (same forms; default 0)",
    "air_heat_rejection": "heat-rejection chain for the residual air heat of liquid-cooled halls",
    "uncertainty": "`{spreads: {input: spread}, widths: {...}}` over the evidence-tag defaults of `solvers.uncertainty`",
    "heat_rejection": "per cooling technology the heat-rejection chain (`heat_rejection_<cooling>: [...]` in files)",
}
"""Site attributes the twin's models read (any other key is kept as a free attribute)."""

ATTRIBUTES = {
    "hall": {"cooling_options": "cooling technologies the optimizer may choose for this hall (default: any)"},
    "rack": {"tier": "the token tier the rack serves (default: every tier in proportion)",
             "workload": "the workload placed on the rack (`twin place`)"},
}
"""Node attributes outside the key tables that the models read."""

SOURCES = {
    "top level": ("TOP_KEYS",), "equipment entry": ("DEVICE_KEYS",), "hall": ("HALL_KEYS",),
    "row template": ("ROW_TEMPLATE_KEYS",), "rack specification": ("RACK_SPEC_KEYS",), "busway": ("BUSWAY_KEYS",),
    "rack unit": ("RACK_UNIT_KEYS",), "explicit rack": ("RACK_EDGE_KEYS",),
}
"""Section -> the `twin.blueprint` tables whose every name the section must list."""

WORKLOADS = {
    "id": "unique id (`idle` is reserved for racks serving nothing)",
    "kind": "`inference` (a pool serving a tier) or `training` (a job of whole NVLink domains)",
    "tier": "catalog tier: minimum interactivity, time to first token and price (`twin catalog tiers`)",
    "llm": "LLM served or trained (`deepseek-r1`, `gpt-oss-120b`)",
    "precision": "`fp8` or `fp4`",
    "isl": "input tokens per request",
    "osl": "output tokens per request",
    "demand_tokens_per_s": "most tokens/s worth serving",
    "min_tokens_per_s": "committed tokens/s the placement must serve",
    "interactivity_tok_s_user": "interactivity floor stricter than the tier's, tokens/s per user",
    "systems": "only these systems may serve the pool",
    "system": "the job's system (optional when the facility has one)",
    "domains": "whole NVLink domains the job needs, all in one hall",
    "params_b": "active parameters, billions (tokens/s from dense FLOPS x mfu)",
    "mfu": "model FLOPS utilization",
    "hall": "this hall only",
    "required": "the placement must include the job",
    "usd_per_gpu_hour": "value of a GPU-hour at full throughput (needed for objective revenue)",
}


def _table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _described(names: Iterable[str], meanings: dict[str, str], where: str, warn: Callable[[str], None]) -> list[tuple[str, str]]:
    rows = []
    for name in names:
        if name not in meanings:
            warn(f"{where}: field {name!r} has no meaning in docsite/formats.py")
        rows.append((f"`{name}`", meanings.get(name, "")))
    return rows


def _readme_example() -> str:
    """The commented YAML of blueprints/README.md's format section (one example, kept in one place)."""
    text = (ROOT / "blueprints" / "README.md").read_text(encoding="utf-8")
    return re.search(r"## Format.*?(```yaml\n.*?```)", text, re.S).group(1)


def blueprint_reference(warn: Callable[[str], None]) -> str:
    """The blueprint format: every field of every section the loader reads, parametric builders, site attributes."""
    import blueprints
    from blueprints import parametric
    from twin import blueprint
    from twin.graph import DEVICE_KINDS

    out = ["# Blueprint format", "",
           f"A blueprint (`format: {blueprint.FORMAT}`) is a YAML or JSON file that `blueprints.load` reads "
           "(`twin.blueprint.read`) into a facility graph. Every mistake is reported as "
           "`file:line: field.path: what is wrong; how to fix it`. The tables below list every field the loader "
           "accepts, generated from its key tables; an unknown field in a strict section is an error that "
           "suggests the nearest name.", "", _readme_example(), ""]
    for section, meanings in BLUEPRINT.items():
        names = list(meanings)
        for table in SOURCES.get(section, ()):
            names += [n for n in getattr(blueprint, table) if n not in names]
        out += [f"## {section.capitalize()}", "", _table(_described(names, meanings, section, warn), ("field", "meaning")), ""]
        if section == "equipment entry":
            out += ["Device kinds: " + ", ".join(f"`{k}`" for k in DEVICE_KINDS) + ". Any other key of an equipment "
                    "entry, hall, row or rack is kept as a node attribute (numbers, text, true/false or lists of them).", ""]
    out += ["## Site attributes", "",
            "`site:` takes any attributes (kept on the facility); these are the ones the twin reads:", "",
            _table(_described(SITE, SITE, "site", warn), ("attribute", "meaning")), ""]
    for node, meanings in ATTRIBUTES.items():
        out += [f"## {node.capitalize()} attributes the models read", "",
                _table(_described(meanings, meanings, node, warn), ("attribute", "meaning")), ""]
    out += ["## Parametric builders", "",
            "A file with a `builder:` section (top-level keys "
            + ", ".join(f"`{k}`" for k in blueprints.BUILDER_TOP_KEYS) + ") "
            "builds the site from a few numbers; `blueprints.load(name, **overrides)` passes keyword arguments the "
            "builder takes to it and the rest to the site.", ""]
    for name, builder in parametric.BUILDERS.items():
        rows = []
        for p in inspect.signature(builder).parameters.values():
            default = "" if p.default is inspect.Parameter.empty else repr(p.default)
            rows.append((f"`{p.name}`", f"`{p.annotation}`" if p.annotation is not inspect.Parameter.empty else "",
                         f"`{default}`" if default else "required"))
        doc = inspect.getdoc(builder) or ""
        out += [f"### `{name}`", "", doc.split("\n\n")[0], "", _table(rows, ("parameter", "type", "default")), ""]
    return "\n".join(out)


def workloads_reference(warn: Callable[[str], None]) -> str:
    """The workloads file of `twin place`: inference pools and training jobs, each field with its default."""
    from models import placement_data

    defaults = {f.name: f.default for f in dataclasses.fields(placement_data.WorkloadSpec)}
    example = re.search(r"```yaml\n.*?```", placement_data.__doc__, re.S).group(0)
    out = ["# Workloads file", "",
           "`twin place BLUEPRINT --workloads w.yaml` (or `solvers.place(facility, workloads)`) places inference "
           "pools and training jobs onto racks. The file (YAML, `format: twin-workloads/1` optional) holds a "
           "`workloads:` list; `models.placement_data.read_workloads` reads it and names the entry and field of "
           "every mistake.", "", example, ""]
    for kind, fields in (("inference", placement_data.INFERENCE_FIELDS), ("training", placement_data.TRAINING_FIELDS)):
        names = [n for n in WORKLOADS if n in fields] + sorted(set(fields) - set(WORKLOADS))
        def default(n: str) -> str:
            if n == "id" or n == "kind" and kind == "training":
                return "required" if n == "id" else "required: `training`"
            return "none" if defaults.get(n) is None else f"`{defaults[n]!r}`"

        rows = [(cell, meaning, default(n))
                for n, (cell, meaning) in zip(names, _described(names, WORKLOADS, f"{kind} workload", warn))]
        out += [f"## {kind.capitalize()} workload", "", _table(rows, ("field", "meaning", "default")), ""]
    return "\n".join(out)


def scenarios_reference(warn: Callable[[str], None]) -> str:
    """Sweep scenarios: the keys a grid or a scenario table may set, which run each applies to."""
    sweep = importlib.import_module("solvers.sweep")    # the module: `solvers.sweep` is also the function
    runs = {k: ", ".join(r for r in sweep.RUNS if k in sweep.ONLY[r]) or "both" for k in sweep.KEYS}
    out = ["# Scenario tables", "",
           "`twin sweep BASE --param key=v1,v2` makes a grid (one dimension per key); `--scenarios FILE` takes a "
           "table instead: a CSV with one row per scenario and one column per key (empty cells are left out), or a "
           "YAML/JSON list of mappings. `--set key=value` fixes a key for every scenario. In Python: "
           "`solvers.sweep(base, {'grid_mw': [50, 100]})` or `solvers.sweep(base, [{'grid_mw': 50}, ...])`.", "",
           "```csv\ngrid_mw,climate,system\n50,phoenix,gb200_nvl72\n100,lulea,gb300_nvl72\n```", "",
           "## Keys", "", _table([(f"`{k}`", v, runs[k]) for k, v in sweep.KEYS.items()], ("key", "meaning", "run")), "",
           "With a parametric base (`twin sweep parametric` or a builder in Python) every parameter of the builder "
           "is a key as well (see the [blueprint format](blueprint.md#parametric-builders)). These names are "
           "results and cannot be keys: " + ", ".join(f"`{k}`" for k in sweep.RESERVED) + ".", ""]
    return "\n".join(out)


__all__ = ["blueprint_reference", "workloads_reference", "scenarios_reference", "BLUEPRINT", "SITE", "ATTRIBUTES"]
