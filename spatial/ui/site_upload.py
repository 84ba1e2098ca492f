"""上传地块 The sites part of the upload page: a district's land bank file stored, checked,
previewed (new, changed, unchanged and — since the file is the whole land bank — removed),
committed and undone through :mod:`spatial.ingest.site_submissions`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spatial.auth import PermissionDenied, Principal
from spatial.ingest.fields import field_label
from spatial.ingest.site_rules import CheckedSites
from spatial.ingest.site_submissions import commit_sites, preview_sites, validate_sites
from spatial.ingest.submissions import SITES_KIND, SubmissionError, receive
from spatial.ingest.templates import site_field_table, site_geojson_template
from spatial.ingest.upload import UploadOptions
from spatial.layers import READINESS, label
from spatial.ui.common import T, grouped_numbers, store

COMMITTED = "upload_committed"  # shared with the projects' part of the page
UPLOADER = "upload_generation"


def site_templates(lg: str) -> None:
    with st.expander(T("地块字段说明与模板下载", "Site fields and templates"), expanded=False):
        st.dataframe(site_field_table(lg), hide_index=True, width="stretch")
        c1, c2 = st.columns(2)
        c1.download_button("GeoJSON 地块模板（中文列名）", site_geojson_template("zh"),
                           "sites_template_zh.geojson", "application/geo+json",
                           on_click="ignore")  # fmt: skip
        c2.download_button("GeoJSON sites template (English)", site_geojson_template("en"),
                           "sites_template_en.geojson", "application/geo+json",
                           on_click="ignore")  # fmt: skip
        st.caption(
            T(
                "地块须为面（宗地轮廓）。支持 GeoJSON、压缩的 Shapefile、GeoPackage、KML、"
                "Excel/CSV（WKT 列）。一个文件即本区全部地块：文件中没有的已存地块将被移除"
                "（提交前预览列出，撤销可恢复）。",
                "A site is a polygon (the parcel outline). GeoJSON, zipped Shapefile, "
                "GeoPackage, KML and Excel/CSV with a WKT column are accepted. One file is the "
                "district's whole land bank: stored sites absent from it are removed (listed in "
                "the preview; an undo brings them back).",
            )
        )


def check_and_commit_sites(
    upload, district_id: str, crs_choice: str, who: Principal, lg: str, report
) -> None:
    """The raw bytes stored first (once per file), checked, the report, the preview and the
    commit. ``report`` shows a check's findings (the projects' part of the page's)."""
    received = st.session_state.setdefault("received_sites", {})
    key = f"{upload.file_id}:{district_id}"
    if key not in received:
        received[key] = receive(store(), upload.name, upload.getvalue(), district_id, who,
                                kind=SITES_KIND)  # fmt: skip
    submission_id = received[key]
    record = store().submission(submission_id)
    st.caption(
        T(
            f"已保存原文件：上传 #{submission_id}，{record.size_bytes:,} 字节",
            f"Original stored: upload #{submission_id}, {record.size_bytes:,} bytes",
        )
    )
    cache = st.session_state.setdefault("checked_sites", {})
    if (submission_id, crs_choice) not in cache:
        cache.clear()
        with st.spinner(T("检查中…", "checking…")):
            checked = validate_sites(store(), submission_id, UploadOptions(district_id, crs_choice))
        cache[(submission_id, crs_choice)] = checked
    checked = cache[(submission_id, crs_choice)]
    report(checked, lg)
    if record.status == "committed":
        st.info(T("这个文件已经提交。", "This file is committed."))
    elif checked.accepted:
        st.subheader(T("提交前预览", "Preview before committing"))
        _preview(checked, district_id, lg)
        if st.button(T("确认提交地块", "Commit the sites"), type="primary", key="commit_sites"):
            try:
                result = commit_sites(store(), submission_id, who)
            except (SubmissionError, PermissionDenied) as exc:
                st.error(exc.text(lg))
            else:
                st.session_state[COMMITTED] = (
                    f"已提交地块上传 #{submission_id}：新增 {result.created}，更新 "
                    f"{result.updated}，未变 {result.unchanged}，移除 {result.removed}。",
                    f"Sites upload #{submission_id} committed: {result.created} new, "
                    f"{result.updated} changed, {result.unchanged} unchanged, {result.removed} "
                    "removed.",
                )
                st.session_state[UPLOADER] = st.session_state.get(UPLOADER, 0) + 1
                st.session_state.pop("checked_sites", None)
                st.rerun()


def _preview(checked: CheckedSites, district_id: str, lg: str) -> None:
    plan = preview_sites(store(), checked, district_id)
    s = plan.summary()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(T("新增", "new"), s["new"])
    c2.metric(T("变更", "changed"), s["changed"])
    c3.metric(T("未变", "unchanged"), s["unchanged"])
    c4.metric(T("将移除", "to be removed"), s["removed"])
    headers = {c: (field_label(c).zh if lg == "zh" else field_label(c).en)
               for c in ("site_id", "name", "land_use", "land_area_m2", "readiness")}  # fmt: skip

    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.assign(
            readiness=frame["readiness"].map(lambda v: label(READINESS, v, lg) if v else "")
        )
        return out.rename(columns=headers)

    if not plan.new.empty:
        st.markdown(T("**新增地块**", "**New sites**"))
        table = shown(plan.new)
        st.dataframe(table, hide_index=True, width="stretch", column_config=grouped_numbers(table))
    if not plan.changed.empty:
        st.markdown(T("**变更（逐字段对比）**", "**Changes, field by field**"))
        changed = plan.changed.assign(
            field=plan.changed["field"].map(lambda f: headers.get(f) or field_label(f).zh
                                            if lg == "zh" else field_label(f).en),
            before=plan.changed["before"].map(lambda v: "" if v is None else str(v)),
            after=plan.changed["after"].map(lambda v: "" if v is None else str(v)),
        )  # fmt: skip
        st.dataframe(changed.rename(columns={"site_id": headers["site_id"]}), hide_index=True,
                     width="stretch")  # fmt: skip
    if not plan.removed.empty:
        st.warning(
            T(
                f"本区已有、文件中没有的 {len(plan.removed)} 个地块将被移除（可撤销）：",
                f"{len(plan.removed)} stored sites of this district are not in the file and "
                "will be removed (an undo brings them back):",
            )
        )
        st.dataframe(shown(plan.removed), hide_index=True, width="stretch")
