"""Throughput curves: measured Pareto points (tokens/s/GPU vs tokens/s/user) plus rows derived by multiplier.

pandas is imported inside the functions so `import twin.catalog` stays light.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NamedTuple

from twin.catalog.entries import EVIDENCE_TAGS, System
from twin.errors import CatalogError, did_you_mean

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

KEY = ["system", "llm", "precision", "isl", "osl"]
NUMERIC = ["interactivity_tok_s_user", "tokens_per_s_per_gpu", "output_tokens_per_s_per_gpu", "ttft_s"]
COLUMNS = [*KEY, "stack", *NUMERIC, "source", "evidence"]
TABLE_COLUMNS = [*KEY, "stack", *NUMERIC, "derived", "multiplier", "base_system", "source", "evidence"]

#: InferenceMAX hardware keys -> our system ids (mi325x has no catalog system and is dropped)
INFERENCEMAX_SYSTEMS = {
    "h100": "h100_hgx8", "h200": "h200_hgx8", "b200": "b200_hgx8", "gb200": "gb200_nvl72",
    "mi300x": "mi300x_8gpu", "mi355x": "mi355x_8gpu",
}
INFERENCEMAX_LLMS = {"gptoss": "gpt-oss-120b", "dsr1": "deepseek-r1"}
#: primary source per row: the nightly run (artifact results_bmk/agg_bmk.json; raw files mirrored at
#: https://github.com/gminneci/mantile/tree/1d3c259c926ecce3322c9ceface7e2f00f2de7e6/reconcile/sources/inferencemax/raw)
INFERENCEMAX_RUN = "https://github.com/InferenceMAX/InferenceMAX/actions/runs/{}"


def pareto_front(df: pd.DataFrame) -> pd.DataFrame:
    """Keep, per (system, llm, precision, isl, osl), the points no other point beats on both axes."""
    df = df.sort_values([*KEY, "interactivity_tok_s_user", "tokens_per_s_per_gpu"],
                        ascending=[True] * len(KEY) + [False, False])
    best = df.groupby(KEY, sort=False)["tokens_per_s_per_gpu"].cummax()
    prev = best.groupby([df[k] for k in KEY], sort=False).shift(1)
    keep = prev.isna() | (df["tokens_per_s_per_gpu"] > prev)
    out = df[keep].sort_values([*KEY, "interactivity_tok_s_user"])
    return out.reset_index(drop=True)


def from_inferencemax(path_or_buffer: Any) -> pd.DataFrame:
    """Convert the reference InferenceMAX CSV into the packaged throughput.csv layout (Pareto points only)."""
    import pandas as pd

    raw = pd.read_csv(path_or_buffer)
    raw = raw[raw["system"].isin(INFERENCEMAX_SYSTEMS)]
    stack = raw["framework"].astype(str)
    stack = stack + raw["spec_decoding"].map(lambda s: "" if s == "none" else f"+{s}")
    stack = stack + raw["disagg"].map(lambda d: "+disagg" if str(d) == "True" else "")
    df = pd.DataFrame({
        "system": raw["system"].map(INFERENCEMAX_SYSTEMS),
        "llm": raw["model_key"].map(INFERENCEMAX_LLMS),
        "precision": raw["precision"],
        "isl": raw["isl"].astype(int),
        "osl": raw["osl"].astype(int),
        "stack": stack,
        "interactivity_tok_s_user": raw["interactivity_tok_s_user"].astype(float),
        "tokens_per_s_per_gpu": raw["tput_per_gpu_total"].astype(float),
        "output_tokens_per_s_per_gpu": raw["output_tput_per_gpu"].astype(float),
        "ttft_s": raw["median_ttft_s"].astype(float),
        "source": raw["run_id"].map(INFERENCEMAX_RUN.format),
        "evidence": "measured",
    })
    if df["llm"].isna().any():
        raise CatalogError("InferenceMAX CSV has a model_key not in INFERENCEMAX_LLMS")
    # Disaggregated runs divide output tokens by decode GPUs only; put them on all instance GPUs using
    # the workload's output share of total tokens, as measured on the aggregated runs.
    disagg = raw["disagg"].astype(str) == "True"
    share = (df["output_tokens_per_s_per_gpu"] / df["tokens_per_s_per_gpu"])[~disagg]
    share = share.groupby([df["isl"][~disagg], df["osl"][~disagg]]).median()
    keys = pd.MultiIndex.from_arrays([df["isl"], df["osl"]])
    df.loc[disagg, "output_tokens_per_s_per_gpu"] = (
        df["tokens_per_s_per_gpu"] * share.reindex(keys).to_numpy())[disagg]
    return pareto_front(df)[COLUMNS]


def read_rows(items: Iterable[Mapping[str, Any]] | str, origin: str, systems: Mapping[str, System]) -> pd.DataFrame:
    """Read throughput rows (CSV text or a list of mappings) and validate them against the known systems."""
    import pandas as pd

    df = pd.read_csv(io.StringIO(items)) if isinstance(items, str) else pd.DataFrame(list(items))
    missing = [c for c in COLUMNS if c not in df.columns and c not in ("stack", "ttft_s")]
    if missing:
        raise CatalogError(f"catalog file {origin}, section 'throughput': missing column {missing[0]!r} "
                           f"(columns: {', '.join(COLUMNS)})")
    extra = [c for c in df.columns if c not in COLUMNS]
    if extra:
        raise CatalogError(f"catalog file {origin}, section 'throughput': unknown column {extra[0]!r}; "
                           f"{did_you_mean(extra[0], COLUMNS)}")
    df = df.reindex(columns=COLUMNS)
    df["stack"] = ["unspecified" if pd.isna(v) else str(v) for v in df["stack"]]
    for i, row in enumerate(df.to_dict("records"), start=1):
        _check_row(row, f"catalog file {origin}, section 'throughput', row {i}", systems)
    df = df.astype({"isl": int, "osl": int, **{c: float for c in NUMERIC}})
    return df


def _check_row(row: dict[str, Any], where: str, systems: Mapping[str, System]) -> None:
    if row["system"] not in systems:
        raise CatalogError(f"{where}, field 'system': unknown system {row['system']!r}; "
                           f"{did_you_mean(str(row['system']), systems)}")
    for col in ("llm", "precision", "source"):
        if not isinstance(row[col], str) or not row[col].strip():
            raise CatalogError(f"{where}, field {col!r}: missing {col}")
    if row["evidence"] not in EVIDENCE_TAGS:
        raise CatalogError(f"{where}, field 'evidence': {row['evidence']!r} is not one of "
                           f"{', '.join(sorted(EVIDENCE_TAGS))}")
    for col in ("isl", "osl", *NUMERIC):
        value = row[col]
        if col == "ttft_s" and (value is None or (isinstance(value, float) and math.isnan(value))):
            continue
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value < 0 or (value == 0 and col != "ttft_s"):
            raise CatalogError(f"{where}, field {col!r}: expected a positive number, got {value!r}")
    if row["output_tokens_per_s_per_gpu"] > row["tokens_per_s_per_gpu"] + 1e-9:
        raise CatalogError(f"{where}, field 'output_tokens_per_s_per_gpu': exceeds the total tokens_per_s_per_gpu")


def build_table(frames: list[pd.DataFrame], systems: Mapping[str, System]) -> pd.DataFrame:
    """Measured rows (Pareto only) plus, for systems whose curves come from another, scaled copies."""
    import pandas as pd

    measured = pareto_front(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame(columns=COLUMNS)
    measured = measured.assign(derived=False, multiplier=1.0, base_system=measured["system"])
    parts = [measured]
    have = set(map(tuple, measured[["system", "llm", "precision", "isl", "osl"]].itertuples(index=False)))
    for s in systems.values():
        if s.throughput_system == s.id:
            continue
        base = measured[measured["system"] == s.throughput_system]
        for prec, rows in base.groupby("precision"):
            factor = s.throughput_multiplier.get(prec, s.throughput_multiplier.get("*"))
            if factor is None:
                continue
            rows = rows[[(s.id, *k) not in have for k in rows[["llm", "precision", "isl", "osl"]].itertuples(index=False)]]
            field = f"throughput_multiplier.{prec}"
            if field not in s.provenance:
                field = "throughput_multiplier"
            parts.append(rows.assign(
                system=s.id,
                tokens_per_s_per_gpu=rows["tokens_per_s_per_gpu"] * factor,
                output_tokens_per_s_per_gpu=rows["output_tokens_per_s_per_gpu"] * factor,
                derived=True, multiplier=float(factor), base_system=s.throughput_system,
                source=" ".join(s.source_of(field)) + " " + rows["source"],
                evidence=s.evidence_of(field),
            ))
    table = pd.concat(parts, ignore_index=True)[TABLE_COLUMNS]
    return table.sort_values([*KEY, "interactivity_tok_s_user"]).reset_index(drop=True)


class CurvePoints(NamedTuple):
    """One system's Pareto points for one workload (llm, precision, isl, osl), sorted by interactivity."""

    interactivity_tok_s_user: np.ndarray
    tokens_per_s_per_gpu: np.ndarray
    output_share: np.ndarray             # output tokens / all tokens
    ttft_s: np.ndarray


def workload_rows(table: pd.DataFrame, system: str, llm: str, precision: str, isl: int, osl: int) -> pd.DataFrame:
    """The rows of one system for one workload, sorted by interactivity (empty when it has none)."""
    sel = table[(table["system"] == system) & (table["llm"] == llm) & (table["precision"] == precision)
                & (table["isl"] == isl) & (table["osl"] == osl)]
    return sel.sort_values("interactivity_tok_s_user")


def curve_points(rows: pd.DataFrame) -> CurvePoints:
    """`workload_rows` as read-only float arrays (they are shared by every catalog sharing the table)."""
    y = rows["tokens_per_s_per_gpu"].to_numpy(float, copy=True)
    points = CurvePoints(rows["interactivity_tok_s_user"].to_numpy(float, copy=True), y,
                         rows["output_tokens_per_s_per_gpu"].to_numpy(float) / y, rows["ttft_s"].to_numpy(float, copy=True))
    for a in points:
        a.flags.writeable = False
    return points
