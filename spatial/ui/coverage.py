"""数据说明 Data coverage: per layer, what is official, approximate, illustrative or missing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spatial.clock import shenzhen_today
from spatial.figures.snapshot import COVERAGE_ASPECTS, coverage
from spatial.i18n import t
from spatial.layers import LAYERS, QUALITY_LABELS, label
from spatial.store.reference import source_location
from spatial.ui.common import lang, snapshot


def render() -> None:
    lg = lang()
    st.title(t("coverage_title", lg))
    st.write(t("coverage_intro", lg))
    snap = snapshot(shenzhen_today())
    table = coverage(snap)
    layer_names = {k: (v.label_zh if lg == "zh" else v.label_en) for k, v in LAYERS.items()}
    shown = pd.DataFrame(
        {
            t("layer", lg): table["layer"].map(layer_names),
            t("aspect", lg): table["aspect"].map(lambda a: label(COVERAGE_ASPECTS, a, lg)),
            t("features", lg): table["features"],
            t("official", lg): table["official"],
            t("approximate", lg): table["approximate"],
            label(QUALITY_LABELS, "exact", lg): table["exact"],
            t("illustrative", lg): table["illustrative"],
            t("missing", lg): table["missing"],
            t("source", lg): table[f"source_{lg}"],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")

    st.subheader(t("parks_title", lg))
    parks = snap.parks
    districts = snap.district_names(lg)
    st.dataframe(
        pd.DataFrame(
            {
                "ID": parks["park_id"],
                t("name", lg): parks["name_zh"] if lg == "zh" else parks["name_en"],
                t("name_status", lg): parks["name_status"].map(lambda s: t(f"name_{s}", lg)),
                t("district", lg): parks["district_ids"].map(
                    lambda ids: "、".join(districts.get(i, i) for i in str(ids).split(";"))
                ),
                t("industries", lg): parks["lead_clusters"],
                t("location_quality", lg): parks["location_quality"].map(
                    lambda v: label(QUALITY_LABELS, v, lg)
                ),
                ("边界" if lg == "zh" else "Boundary"): parks["boundary_quality"].map(
                    lambda v: label(QUALITY_LABELS, v, lg)
                ),
                t("source", lg): parks["source"],
            }
        ),
        hide_index=True,
        width="stretch",
    )

    st.subheader(t("pledge_title", lg))
    st.dataframe(pledge_table(snap.pledge, lg), hide_index=True, width="stretch")
    st.subheader(t("clusters_title", lg))
    st.caption(t("cluster_matching", lg))
    st.dataframe(cluster_table(snap.clusters, lg), hide_index=True, width="stretch")
    st.subheader(t("sources_title", lg))
    st.dataframe(source_table(snap.sources, lg), hide_index=True, width="stretch")


def pledge_table(pledge: pd.DataFrame, lg: str) -> pd.DataFrame:
    """The pledge year by year, in the sources' words."""
    zh = lg == "zh"
    yes, no = ("是", "否") if zh else ("yes", "no")
    return pd.DataFrame(
        {
            t("year", lg): pledge["year"].astype(str),
            ("目标（㎡）" if zh else "Target (m²)"): pledge["target_m2"],
            ("不少于" if zh else "At least"): pledge["minimum"].map(
                lambda v: yes if str(v).lower() in ("yes", "true", "1") else no
            ),
            ("动词" if zh else "Verb"): pledge["verb_zh" if zh else "verb_en"],
            ("原文" if zh else "Wording"): pledge["wording_zh" if zh else "wording_en"],
            t("quality", lg): pledge["quality"].map(lambda v: label(QUALITY_LABELS, v, lg)),
            ("来源编号" if zh else "Sources"): pledge["source_ids"].str.replace(
                ";", "、" if zh else ", "
            ),
        }
    )


def cluster_table(clusters: pd.DataFrame, lg: str) -> pd.DataFrame:
    """The 20+8 clusters and industries: code, group and name."""
    zh = lg == "zh"
    return pd.DataFrame(
        {
            ("代码" if zh else "Code"): clusters["code"],
            ("类别" if zh else "Group"): clusters["group_zh" if zh else "group_en"],
            t("name", lg): clusters["name_zh" if zh else "name_en"],
            ("来源编号" if zh else "Source"): clusters["source_id"],
        }
    )


def source_table(sources: pd.DataFrame, lg: str) -> pd.DataFrame:
    """The public sources every shipped figure names."""
    zh = lg == "zh"
    return pd.DataFrame(
        {
            ("编号" if zh else "Id"): sources["source_id"],
            ("标题" if zh else "Title"): sources["title"],
            ("链接" if zh else "Link"): sources["url_or_file"].map(
                lambda v: source_location(v, lg)
            ),
            ("日期" if zh else "Date"): sources["date"],
        }
    )
