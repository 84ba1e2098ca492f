"""Charts of the pledge ledger, one definition for the dashboard and the progress report.

The charts are Vega-Lite specifications built with Altair. The dashboard hands them to the
browser; the report renders them to inline SVG with ``vl-convert`` (no JavaScript, no network),
so the HTML report and its PDF show the same picture.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert

from spatial.i18n import t
from spatial.layers import STAGE_LABELS, Stage, label

STAGE_COLOURS = ["#bdc3c7", "#f39c12", "#2e86de", "#27ae60"]  # target, started, completed, deliv.
# charts speak the headline's unit: 万㎡ in Chinese, million m² in English
AREA_UNIT = {"zh": (1e4, "面积（万㎡）"), "en": (1e6, "area (million m²)")}
BAR_STEP = 28  # px per bar: a chart grows with its rows instead of squeezing their labels


def in_headline_unit(m2: pd.Series, lang: str) -> pd.Series:
    return m2 / AREA_UNIT[lang][0]


FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def year_chart(by_year: pd.DataFrame, lang: str, height: int = 320) -> alt.Chart:
    """Grouped bars per pledge year: target beside started, completed and delivered (m²).
    Without a ``target_m2`` column (a district with no allocation) the stages alone."""
    names = {
        "target_m2": t("target", lang),
        "started_m2": label(STAGE_LABELS, Stage.STARTED, lang),
        "completed_m2": label(STAGE_LABELS, Stage.COMPLETED, lang),
        "delivered_m2": label(STAGE_LABELS, Stage.DELIVERED, lang),
    }
    colours = dict(zip(names, STAGE_COLOURS, strict=True))
    names = {k: v for k, v in names.items() if k in by_year.columns}
    long = by_year.melt(id_vars="year", value_vars=list(names), var_name="series", value_name="m2")
    long["series"] = long["series"].map(names)
    long["year"] = long["year"].astype(int).astype(str)
    long["area"] = in_headline_unit(long["m2"], lang)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("year:N", title=t("year", lang), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("series:N", sort=list(names.values())),
            y=alt.Y("area:Q", title=AREA_UNIT[lang][1]),
            color=alt.Color(
                "series:N",
                sort=list(names.values()),
                scale=alt.Scale(range=[colours[k] for k in names]),
                title=None,
            ),
            tooltip=[
                "year",
                "series",
                alt.Tooltip("area:Q", format=",.1f", title=AREA_UNIT[lang][1]),
                alt.Tooltip("m2:Q", format=",.0f", title="㎡" if lang == "zh" else "m²"),
            ],
        )
        .properties(height=height)
    )


def area_bars(
    frame: pd.DataFrame,
    lang: str,
    value: str = "area_m2",
    label_column: str = "label",
    colour: str = "#27ae60",
) -> alt.Chart:
    """Horizontal bars of an area per group (district, park …), largest first."""
    shown = frame.assign(**{label_column: frame[label_column].replace("", t("unassigned", lang))})
    shown["area"] = in_headline_unit(shown[value], lang)
    return (
        alt.Chart(shown)
        .mark_bar(color=colour)
        .encode(
            x=alt.X("area:Q", title=AREA_UNIT[lang][1]),
            y=alt.Y(f"{label_column}:N", sort="-x", title=None),
            tooltip=[
                label_column,
                alt.Tooltip("area:Q", format=",.1f", title=AREA_UNIT[lang][1]),
                alt.Tooltip(f"{value}:Q", format=",.0f", title="㎡" if lang == "zh" else "m²"),
            ],
        )
        .properties(height=alt.Step(BAR_STEP))
    )


def trajectory_chart(by_year: pd.DataFrame, stage: Stage, lang: str, height: int = 320):
    """The cumulative floor area expected at ``stage``: the P10–P90 band, the P50 line, and
    the pledge's cumulative target as a dashed line (when the viewer is measured against
    one)."""
    frame = by_year.assign(year=by_year["year"].astype(int).astype(str))
    for q in (10, 50, 90):
        frame[f"p{q}"] = in_headline_unit(frame[f"cumulative_p{q}_m2"], lang)
    frame["target"] = in_headline_unit(frame["cumulative_target_m2"], lang)
    unit = AREA_UNIT[lang][1]
    x = alt.X("year:N", title=t("year", lang), axis=alt.Axis(labelAngle=0))
    colour = STAGE_COLOURS[1 + [Stage.STARTED, Stage.COMPLETED, Stage.DELIVERED].index(stage)]
    band = (
        alt.Chart(frame)
        .mark_area(opacity=0.25, color=colour)
        .encode(x=x, y=alt.Y("p10:Q", title=unit), y2="p90:Q")
    )
    median = (
        alt.Chart(frame)
        .mark_line(point=True, color=colour)
        .encode(
            x=x,
            y="p50:Q",
            tooltip=[
                alt.Tooltip("year:N", title=t("year", lang)),
                alt.Tooltip("p10:Q", format=",.1f", title="P10"),
                alt.Tooltip("p50:Q", format=",.1f", title="P50"),
                alt.Tooltip("p90:Q", format=",.1f", title="P90"),
            ],
        )
    )
    layers = [band, median]
    if frame["target"].notna().any():
        layers.append(
            alt.Chart(frame)
            .mark_line(strokeDash=[6, 4], color=STAGE_COLOURS[0])
            .encode(x=x, y="target:Q", tooltip=[alt.Tooltip("target:Q", format=",.1f",
                                                            title=t("target", lang))])
        )  # fmt: skip
    return alt.layer(*layers).properties(height=height)


def chart_svg(chart: alt.Chart, width: int = 640) -> str:
    """The chart as a standalone SVG string (rendered by vl-convert: no browser, no network)."""
    spec = chart.properties(width=width).configure(font=FONT).to_dict()
    return vl_convert.vegalite_to_svg(spec)
