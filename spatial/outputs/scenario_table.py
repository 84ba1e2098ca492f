"""方案比较 The scenario comparison as a planner takes it away: a table with headers and values
in Chinese or English, an Excel workbook (the table and how to read it) and a CSV — every
cell text a spreadsheet never runs. The figures are :func:`spatial.figures.scenarios.
compare_scenarios`'; nothing is computed here."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from spatial.outputs.spreadsheet import csv_bytes, neutralise_frame, text_only_workbook

HEADERS: dict[str, tuple[str, str]] = {
    "scenario": ("方案", "Scenario"),
    "note": ("说明", "Note"),
    "year_met": ("预计完成承诺年份（P50）", "Pledge met (P50)"),
    "met_by_pledge_end": ("承诺期末前完成的概率", "Chance of meeting it by the pledge's end"),
    "cumulative_p10_m2": ("承诺期末累计 P10（㎡）", "Cumulative at the pledge's end, P10 (m²)"),
    "cumulative_p50_m2": ("承诺期末累计 P50（㎡）", "Cumulative at the pledge's end, P50 (m²)"),
    "cumulative_p90_m2": ("承诺期末累计 P90（㎡）", "Cumulative at the pledge's end, P90 (m²)"),
    "years_of_supply": ("供给年数", "Years of supply"),
    "capacity_m2": ("用地潜力（㎡）", "Land capacity (m²)"),
    "capacity_used_m2": ("方案占用潜力（㎡）", "Capacity the scenario uses (m²)"),
    "capacity_used_share": ("占用比例", "Share of capacity used"),
    "sites_missing": ("已不在地块图层中（未计入）", "Sites no longer in the layer (left out)"),
}
METHOD: tuple[tuple[str, str], ...] = (
    ("这是预测，不是台账：方案不改变官方项目库和台账。",
     "These are projections, not the ledger: a scenario never changes the official register."),
    ("基准 = 官方项目库；方案 = 基准 + 方案中的改动（日期推移、容积率、地块转为计划项目）。",
     "Baseline = the official register; a scenario = the baseline with its changes (dates "
     "moved, plot ratios, sites turned into planned projects)."),
    ("P10/P50/P90：按已观测的延误重抽样的各次模拟中，10%/50%/90% 分位的累计面积。",
     "P10/P50/P90: the 10th/50th/90th percentile of the cumulative floor area over draws that "
     "resample the observed delays."),
    ("供给年数 = 五年内预计达到官方口径阶段的面积 ÷ 每年需求（含以往欠账分摊），方法见 README"
     "“供给轨迹”。",
     "Years of supply = the floor area expected to reach the official stage in five years ÷ "
     "the yearly requirement (with the shortfall spread), as in the README's trajectory "
     "section."),
)  # fmt: skip


def readable_comparison(
    table: pd.DataFrame, notes: Mapping[str, str | None], lang: str
) -> pd.DataFrame:
    """``compare_scenarios``' table with the scenario's note, values as a reader reads them
    (a year or "not by 2030", a share as a percentage) under ``lang``'s headers."""
    zh = lang == "zh"
    out = pd.DataFrame(index=table.index)
    out["scenario"] = table["scenario"].replace("baseline", "基准" if zh else "baseline")
    out["note"] = table["scenario"].map(lambda n: notes.get(n) or "")
    out["year_met"] = table["year_met"].map(
        lambda y: ("2030年前无法完成" if zh else "not by 2030") if y is None or y != y else int(y)
    )
    for column in ("met_by_pledge_end", "capacity_used_share"):
        out[column] = table[column].map(lambda v: "—" if v is None or v != v else f"{v:.0%}")
    for column in ("cumulative_p10_m2", "cumulative_p50_m2", "cumulative_p90_m2",
                   "capacity_m2", "capacity_used_m2"):  # fmt: skip
        out[column] = table[column].astype(float).round(0)
    out["years_of_supply"] = table["years_of_supply"].astype(float).round(2)
    out["sites_missing"] = table.get("sites_missing", pd.Series("", index=table.index))
    out = out[list(HEADERS)]
    return out.rename(columns={k: v[0 if zh else 1] for k, v in HEADERS.items()})


def comparison_csv(table: pd.DataFrame, notes: Mapping[str, str | None], lang: str) -> bytes:
    return csv_bytes(readable_comparison(table, notes, lang))


def comparison_workbook(
    table: pd.DataFrame, notes: Mapping[str, str | None], lang: str, as_of: str
) -> bytes:
    """The comparison (sheet 方案比较 / Comparison) and how to read it (说明 / Method), with the
    as-of date; no cell is a formula, whatever a scenario's note says."""
    zh = lang == "zh"
    method = pd.DataFrame(
        {("说明" if zh else "Method"): [
            (f"截至 {as_of}" if zh else f"As of {as_of}"), *(m[0 if zh else 1] for m in METHOD)]}
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenarios.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            neutralise_frame(readable_comparison(table, notes, lang)).to_excel(
                writer, sheet_name="方案比较" if zh else "Comparison", index=False
            )
            method.to_excel(writer, sheet_name="说明" if zh else "Method", index=False)
        text_only_workbook(path)
        return path.read_bytes()
