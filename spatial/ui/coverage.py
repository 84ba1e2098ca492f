"""数据说明 Data coverage: per layer, what is official, approximate, illustrative or missing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spatial.clock import shenzhen_today
from spatial.i18n import t
from spatial.layers import LAYERS, QUALITY_LABELS, label
from spatial.snapshot import COVERAGE_ASPECTS, coverage
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
            t("illustrative", lg): table["illustrative"],
            t("missing", lg): table["missing"],
            t("source", lg): table["source"],
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
                "boundary": parks["boundary_quality"].map(lambda v: label(QUALITY_LABELS, v, lg)),
                t("source", lg): parks["source"],
            }
        ),
        hide_index=True,
        width="stretch",
    )

    st.subheader(t("pledge_title", lg))
    st.dataframe(snap.pledge, hide_index=True, width="stretch")
    st.subheader(t("clusters_title", lg))
    st.caption(t("cluster_matching", lg))
    st.dataframe(snap.clusters, hide_index=True, width="stretch")
    st.subheader(t("sources_title", lg))
    st.dataframe(snap.sources, hide_index=True, width="stretch")
