"""上传 Upload: a district officer sends a file, reads the report, previews, commits, undoes."""

from __future__ import annotations

import json
from functools import partial

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from spatial.auth import Action, PermissionDenied
from spatial.clock import beijing_text, shenzhen_today
from spatial.ingest import submissions as sub
from spatial.ingest.crs_detect import CRS_CHOICES
from spatial.ingest.fields import field_label
from spatial.ingest.findings import Severity
from spatial.ingest.limits import UploadLimits
from spatial.ingest.templates import excel_template, field_table, geojson_template
from spatial.ingest.upload import CheckedUpload, UploadOptions
from spatial.layers import STATUS_LABELS, label
from spatial.outputs.maps import MapView, build_map
from spatial.ui.common import T, grouped_numbers, kept_choice, lang, principal, snapshot, store
from spatial.ui.mapview import prepare_after_commit
from spatial.ui.site_upload import check_and_commit_sites, site_templates

ACCEPTED_TYPES = [
    "geojson",
    "json",
    "geojsonl",
    "ndjson",
    "zip",
    "gpkg",
    "kml",
    "kmz",
    "csv",
    "xlsx",
    "xls",
    "fgb",
]
STAGES = {
    "read": ("读取文件", "reading the file"),
    "crs": ("识别坐标系", "coordinate system"),
    "attributes": ("检查属性", "checking attributes"),
    "geometry": ("检查几何", "checking geometry"),
    "rows": ("整理项目记录", "preparing the project rows"),
    "done": ("完成", "done"),
}
STATUS_TEXT = {
    "received": ("已接收", "received"),
    "validated": ("检查通过，未提交", "checked, not committed"),
    "rejected": ("拒收", "rejected"),
    "committed": ("已提交", "committed"),
    "undone": ("已撤销", "undone"),
}


def findings_table(checked_report: dict, lg: str) -> pd.DataFrame:
    rows = []
    for f in checked_report["findings"]:
        label = field_label(f["field"]) if f.get("field") else None
        rows.append(
            {
                T("级别", "level"): T("错误", "error")
                if f["severity"] == Severity.ERROR
                else T("警告", "warning"),
                T("要素", "feature"): f.get("feature"),
                "ID": f.get("feature_id"),
                T("字段", "field"): (label.zh if lg == "zh" else label.en) if label else "",
                T("行", "line"): f.get("line"),
                T("列", "column"): f.get("column"),
                T("问题", "problem"): f["message_zh"] if lg == "zh" else f["message_en"],
                T("修改方法", "how to fix"): f["fix_zh"] if lg == "zh" else f["fix_en"],
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values([T("要素", "feature"), T("级别", "level")], na_position="first")
        # a finding about the whole file has no feature, id, line or column: shown empty
        where = [T("要素", "feature"), "ID", T("行", "line"), T("列", "column")]
        frame[where] = frame[where].map(lambda v: "" if v is None or v != v else str(int(v))
                                        if isinstance(v, float) else str(v))  # fmt: skip
    return frame


def _templates(lg: str) -> None:
    with st.expander(T("字段说明与模板下载", "Fields and templates"), expanded=False):
        st.dataframe(field_table(lg), hide_index=True, width="stretch")
        c1, c2, c3, c4 = st.columns(4)
        c1.download_button(
            "GeoJSON 模板（中文列名）",
            geojson_template("zh"),
            "template_zh.geojson",
            "application/geo+json",
            on_click="ignore",
        )
        c2.download_button(
            "GeoJSON template (English)",
            geojson_template("en"),
            "template_en.geojson",
            "application/geo+json",
            on_click="ignore",
        )
        xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        c3.download_button(
            "Excel 模板（中文列名）",
            excel_template("zh"),
            "template_zh.xlsx",
            xlsx,
            on_click="ignore",
        )
        c4.download_button(
            "Excel template (English)",
            excel_template("en"),
            "template_en.xlsx",
            xlsx,
            on_click="ignore",
        )
        st.caption(
            T(
                "支持：GeoJSON（含要素数组、GeoJSON Lines）、压缩的 Shapefile"
                "（.zip，含 GBK 编码）、GeoPackage、KML/KMZ、Excel/CSV（经度/纬度或 WKT 列）。"
                "坐标系可自动识别，也可手动选择。",
                "Accepted: GeoJSON (also bare feature arrays, GeoJSON Lines), zipped Shapefile "
                "(GBK too), GeoPackage, KML/KMZ, Excel/CSV with lon/lat or WKT columns. The "
                "coordinate system is detected or chosen.",
            )
        )


COMMITTED = "upload_committed"  # the message of the commit just made (shown once)
UPLOADER = "upload_generation"  # bumped after a commit: a fresh, empty file box


def _check(submission_id: int, options: UploadOptions, lg: str, content: bytes) -> CheckedUpload:
    bar = st.progress(0.0, text=T("检查中…", "checking…"))

    def progress(fraction: float, stage: str) -> None:
        zh, en = STAGES.get(stage, (stage, stage))
        bar.progress(min(max(fraction, 0.0), 1.0), text=zh if lg == "zh" else en)

    # the file's bytes as the page holds them: not read back from the store beside them
    checked = sub.validate(store(), submission_id, options, progress=progress, content=content)
    bar.empty()
    return checked


def _report(checked: CheckedUpload, lg: str) -> None:
    report = checked.report
    summary = T(
        f"{report.format or '未知格式'}，{report.features} 个要素，坐标系 {report.crs or '—'}；"
        f"{len(report.errors)} 个错误，{len(report.warnings)} 个警告",
        f"{report.format or 'unknown format'}, {report.features} features, CRS "
        f"{report.crs or '—'}; {len(report.errors)} errors, {len(report.warnings)} warnings",
    )
    if report.accepted:
        st.success(T("检查通过：", "Accepted: ") + summary)
    else:
        st.error(
            T(
                "拒收（修正错误后重新上传；原文件已保存）：",
                "Rejected (fix the errors and upload again; the file is kept): ",
            )
            + summary
        )
    table = findings_table(report.to_dict(), lg)
    if not table.empty:
        st.dataframe(table, hide_index=True, width="stretch", key="findings")
    st.download_button(
        T("下载检查报告（JSON）", "Download the report (JSON)"),
        json.dumps(report.to_dict(), ensure_ascii=False, indent=1).encode("utf-8"),
        f"report_{report.filename}.json",
        "application/json",
        on_click="ignore",
    )


def _shown_value(field: str, value, lg: str) -> str:
    """A value as the user reads it: a status by its name, nothing for an empty one."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if field == "status" and value in {s.value for s in STATUS_LABELS}:
        return label(STATUS_LABELS, value, lg)
    return str(value)


def _preview(checked: CheckedUpload, district_id: str, lg: str) -> sub.Preview:
    plan = sub.preview(store(), checked, district_id)
    s = plan.summary()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(T("新增", "new"), s["new"])
    c2.metric(T("变更", "changed"), s["changed"])
    c3.metric(T("未变", "unchanged"), s["unchanged"])
    c4.metric(T("本区其他项目（保留）", "not in file (kept)"), s["absent"])
    headers = {
        "project_id": T("项目编号", "project id"),
        "name_zh": T("项目名称", "name"),
        "status": T("状态", "status"),
        "field": T("字段", "field"),
        "before": T("原值", "before"),
        "after": T("新值", "after"),
    }
    if not plan.new.empty:
        st.markdown(T("**新增项目**", "**New projects**"))
        new = plan.new.assign(
            status=plan.new["status"].map(lambda v: label(STATUS_LABELS, v, lg) if v else "")
        )
        headers_new = headers | {
            c: (field_label(c).zh if lg == "zh" else field_label(c).en)
            for c in new.columns
            if c not in headers
        }
        new = new.rename(columns=headers_new)
        st.dataframe(new, hide_index=True, width="stretch", column_config=grouped_numbers(new))
    if not plan.changed.empty:
        st.markdown(T("**变更（逐字段对比）**", "**Changes, field by field**"))
        changed = plan.changed.assign(
            field=plan.changed["field"].map(
                lambda f: field_label(f).zh if lg == "zh" else field_label(f).en
            ),
            before=[
                _shown_value(r.field, r.before, lg) for r in plan.changed.itertuples(index=False)
            ],
            after=[
                _shown_value(r.field, r.after, lg) for r in plan.changed.itertuples(index=False)
            ],
        )
        st.dataframe(changed.rename(columns=headers), hide_index=True, width="stretch")
    if not plan.absent.empty:
        st.markdown(
            T(
                "**本区已有但文件中没有的项目（保留不动）**",
                "**Projects of this district not in the file (kept as they are)**",
            )
        )
        st.dataframe(plan.absent.rename(columns=headers), hide_index=True, width="stretch")
    snap = snapshot(shenzhen_today())
    incoming = checked.projects[checked.row_ok]
    if not incoming.empty:
        enriched = incoming.assign(park_id=None, control_level=None, clusters="")
        west, south, east, north = incoming.total_bounds
        pad = 0.005  # ~500 m around the projects, so a single point is not a pinhole
        view = MapView(west - pad, south - pad, east + pad, north + pad)
        m = build_map(
            districts=snap.districts,
            parks=snap.parks.iloc[0:0],
            control_lines=snap.control_lines.iloc[0:0],
            projects=enriched,
            lang=lg,
            height=420,
            view=view,
        )
        st.caption(
            T(
                f"地图：本次文件中可提交的 {len(incoming)} 个项目（按状态着色）与行政区边界。",
                f"Map: the {len(incoming)} projects of this file that can be committed "
                "(coloured by status) and the district outlines.",
            )
        )
        st_folium(m, height=420, use_container_width=True, returned_objects=[], key="preview_map")
    return plan


def _history(district_id: str, lg: str) -> None:
    st.subheader(T("本区上传记录", "This district's uploads"))
    records = store().submissions(district_id)
    if not records:
        st.caption(T("还没有上传。", "No uploads yet."))
        return
    table = pd.DataFrame(
        [
            {
                "#": r.submission_id,
                T("时间（北京时间）", "time (Beijing)"): beijing_text(r.received_at, seconds=False),
                T("内容", "holds"): T("地块", "sites")
                if r.kind == sub.SITES_KIND
                else T("项目", "projects"),
                T("文件", "file"): r.filename,
                T("上传人", "user"): r.user_name,
                T("大小（字节）", "bytes"): r.size_bytes,
                "SHA-256": r.sha256[:16],
                T("状态", "status"): STATUS_TEXT.get(r.status, (r.status, r.status))[
                    0 if lg == "zh" else 1
                ],
            }
            for r in reversed(records)
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch", key="history")
    chosen = st.selectbox(
        T("查看上传", "Open upload"),
        [r.submission_id for r in reversed(records)],
        format_func=lambda i: f"#{i}",
        key=f"history_pick_{records[-1].submission_id}",  # a new upload opens the newest
    )
    record = store().submission(chosen)
    c1, c2 = st.columns(2)
    c1.download_button(
        T("下载原文件", "Download the original file"),
        store().submission_content(chosen),
        record.filename,
        key=f"original_{chosen}",
        on_click="ignore",
    )
    undo_clicked = record.status == "committed" and c2.button(
        T("撤销此次上传", "Undo this upload"), key=f"undo_{chosen}"
    )
    if undo_clicked:
        what = ("地块", "sites") if record.kind == sub.SITES_KIND else ("项目", "projects")
        try:
            n = sub.undo(store(), chosen, principal())
            if record.kind != sub.SITES_KIND:
                prepare_after_commit(principal())
            st.success(
                T(
                    f"已撤销，{n} 个{what[0]}已恢复或删除。",
                    f"Undone: {n} {what[1]} restored or removed.",
                )
            )
        except (sub.SubmissionError, PermissionDenied) as exc:
            st.error(exc.text(lg))
    report = store().submission_report(chosen)
    findings = findings_table(report, lg) if report else None
    if findings is not None and not findings.empty:
        st.dataframe(findings, hide_index=True, width="stretch", key=f"history_findings_{chosen}")


KINDS = {
    "projects": ("项目（工业上楼）", "projects (工业上楼)"),
    "sites": ("地块（用地潜力）", "sites (land bank)"),
}


def render() -> None:
    lg = lang()
    st.title(T("上传本区项目与地块", "Upload your district's projects and sites"))
    kind = kept_choice(
        partial(st.radio, horizontal=True),
        T("文件内容", "The file holds"),
        list(KINDS),
        lambda k: KINDS[k][0 if lg == "zh" else 1],
        key="upload_kind",
    )
    if kind == "sites":
        site_templates(lg)
    else:
        _templates(lg)
    snap = snapshot(shenzhen_today())
    names = snap.district_names(lg)
    who = principal()
    allowed = [d for d in names if who.can(Action.UPLOAD, d)]
    if not allowed:
        st.warning(T("您的账号不能上传。", "Your account cannot upload."))
        return
    district_id = kept_choice(
        st.selectbox, T("行政区", "District"), allowed, names.get, key="upload_district"
    )
    st.caption(T(f"上传人：{who.user_name}", f"Uploading as {who.user_name}"))
    crs_choice = kept_choice(
        st.selectbox,
        T("坐标系", "Coordinate system"),
        list(CRS_CHOICES),
        lambda k: CRS_CHOICES[k][0 if lg == "zh" else 1],
        key="upload_crs",
    )
    repair = kind == "projects" and st.checkbox(
        T("几何无效时采用修复后的形状", "Use repaired shapes for invalid geometry"),
        key="upload_repair",
    )
    done = st.session_state.pop(COMMITTED, None)
    if done:
        st.success(done[0] if lg == "zh" else done[1])
    upload = _file_box()
    if upload is not None and kind == "sites":
        check_and_commit_sites(upload, district_id, crs_choice, who, lg, _report)
    elif upload is not None:
        _check_and_commit(upload, district_id, crs_choice, repair, who, lg)
    _history(district_id, lg)


def _file_box():
    """The file box, its limit and its button in the page's language."""
    limit_mb = UploadLimits.from_env().max_bytes / 2**20
    # Streamlit's own box states its transport limit (set higher, so that an oversized file
    # is still stored and then refused with a reason) and labels its button in English: the
    # label states the real limit, and the button is named in the page's language
    button = T("选择文件", "Choose a file")  # a constant of ours, never uploaded text
    st.markdown(
        "<style>"
        "[data-testid='stFileUploaderDropzoneInstructions']{display:none}"
        "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p"
        "{display:none}"
        "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer']::after"
        f"{{content:'{button}'}}"
        "</style>",
        unsafe_allow_html=True,
    )
    upload = st.file_uploader(
        T(f"选择文件（不超过 {limit_mb:,.0f} MB）", f"Choose a file (up to {limit_mb:,.0f} MB)"),
        type=ACCEPTED_TYPES,
        key=f"upload_file_{st.session_state.get(UPLOADER, 0)}",  # a new key empties it
    )
    return upload


def _check_and_commit(upload, district_id: str, crs_choice: str, repair: bool, who, lg: str):
    """The raw bytes stored first (once per file), then checked (once per file and options),
    the report, the preview, and the commit."""
    received = st.session_state.setdefault("received", {})
    key = f"{upload.file_id}:{district_id}"
    if key not in received:  # store the raw bytes first, once per uploaded file
        received[key] = sub.receive(
            store(),
            upload.name,
            upload.getvalue(),
            district_id,
            who,
        )
    submission_id = received[key]
    record = store().submission(submission_id)
    st.caption(
        T(
            f"已保存原文件：上传 #{submission_id}，{record.size_bytes:,} 字节，"
            f"SHA-256 {record.sha256[:16]}…",
            f"Original stored: upload #{submission_id}, {record.size_bytes:,} bytes, "
            f"SHA-256 {record.sha256[:16]}…",
        )
    )
    options = UploadOptions(district_id, crs_choice, repair)
    cache = st.session_state.setdefault("checked", {})
    check_key = (submission_id, crs_choice, repair)
    if check_key not in cache:  # check once per file and options, not on every rerun
        cache.clear()
        cache[check_key] = _check(submission_id, options, lg, upload.getvalue())
    checked = cache[check_key]
    _report(checked, lg)
    if record.status == "committed":
        st.info(T("这个文件已经提交。", "This file is committed."))
    elif checked.accepted:
        st.subheader(T("提交前预览", "Preview before committing"))
        _preview(checked, district_id, lg)
        if st.button(T("确认提交", "Commit"), type="primary", key="commit"):
            try:
                result = sub.commit(store(), submission_id, who)
            except (sub.SubmissionError, PermissionDenied) as exc:
                st.error(exc.text(lg))
            else:  # done: the message stays, the file and its preview go
                st.session_state[COMMITTED] = (
                    f"已提交上传 #{submission_id}：新增 {result.created}，更新 "
                    f"{result.updated}，未变 {result.unchanged}。总览已更新。",
                    f"Upload #{submission_id} committed: {result.created} new, "
                    f"{result.updated} changed, {result.unchanged} unchanged. The "
                    "dashboard is updated.",
                )
                st.session_state[UPLOADER] = st.session_state.get(UPLOADER, 0) + 1
                st.session_state.pop("checked", None)
                prepare_after_commit(who)
                st.rerun()
