"""Upload templates and field documentation for district officers (GeoJSON and Excel, Chinese
or English headers)."""

from __future__ import annotations

import io
import json

import pandas as pd

from spatial.ingest.fields import FIELD_ALIASES, FIELD_LABELS, REQUIRED_FIELDS

EXAMPLE = {
    "project_id": "BA-2026-001",
    "name_zh": "示例智造产业园一期",
    "name_en": "Example Smart Manufacturing Park, phase 1",
    "street": "燕罗街道",
    "park": "燕罗先进制造业园区",
    "land_area_m2": 30000,
    "floor_area_m2": "12万",
    "factory_floor_area_m2": 95000,
    "plot_ratio": 4.0,
    "storeys": 12,
    "height_m": 60,
    "status": "在建",
    "start_date": "2025-03-01",
    "completion_date": "2027-06-30",
    "delivery_date": "",
    "start_evidence": "已证实",
    "completion_evidence": "计划",
    "delivery_evidence": "",
    "figures_quality": "准确",
    "dates_quality": "准确",
    "location_quality": "准确",
    "developer": "深圳市某区属国企",
    "industries": "智能网联汽车;新能源",
    "source": "宝安区工业和信息化局 2026年11月台账",
}
TEMPLATE_FIELDS = tuple(EXAMPLE)  # the template's columns, in the example's order
NOTES: dict[str, tuple[str, str]] = {
    "project_id": ("本区唯一，多次上传保持不变", "unique in the district; keep it across uploads"),
    "floor_area_m2": ("可写 120000、12万、12万㎡", "120000, 12万 or 12万㎡ all work"),
    "status": ("规划 / 在建 / 竣工 / 交付", "planned / under construction / completed / delivered"),
    "start_date": ("2025-03-01、2025/3/1、2025年3月", "2025-03-01, 2025/3/1 or 2025-03"),
    "completion_date": ("未竣工时填预计日期", "expected date until completed"),
    "delivery_date": ("交付给企业使用的日期", "date handed to the tenants"),
    "park": ("所属20大园区名称（可空）", "one of the 20 parks, if any"),
    "plot_ratio": ("= 计容建筑面积 ÷ 用地面积", "= floor area ÷ land area"),
    "start_evidence": (
        "可空。已证实 / 计划 / 推断；只有已证实的日期计入台账。留空：状态已到该阶段且日期"
        "不晚于今天为已证实，否则为计划",
        "optional. confirmed / planned / inferred; only confirmed dates count. Empty: "
        "confirmed where the status has reached the stage and the date is not ahead, else planned",
    ),
    "completion_evidence": ("可空，同开工依据", "optional, as start evidence"),
    "delivery_evidence": ("可空，同开工依据", "optional, as start evidence"),
    "figures_quality": (
        "可空。准确 / 近似（如按新闻约数）；留空为准确",
        "optional. exact / approximate (e.g. a rounded press figure); empty = exact",
    ),
    "dates_quality": (
        "可空。准确 / 近似（如只知月份）；留空为准确",
        "optional. exact / approximate (e.g. month only); empty = exact",
    ),
    "location_quality": (
        "可空。准确 / 近似（如按街道定位）；留空为准确",
        "optional. exact / approximate (e.g. placed by street); empty = exact",
    ),
}


def header(field: str, lang: str) -> str:
    if lang == "zh":
        return FIELD_LABELS[field][0].split("（")[0]
    return field


def field_table(lang: str = "zh") -> pd.DataFrame:
    """The documented fields: header (zh/en), required, accepted header spellings, notes."""
    rows = []
    for f in TEMPLATE_FIELDS:
        zh, en = FIELD_LABELS[f]
        note = NOTES.get(f, ("", ""))
        rows.append(
            {
                ("字段" if lang == "zh" else "field"): zh if lang == "zh" else en,
                ("英文列名" if lang == "zh" else "English header"): f,
                ("中文列名" if lang == "zh" else "Chinese header"): header(f, "zh"),
                ("必填" if lang == "zh" else "required"): ("是" if lang == "zh" else "yes")
                if f in REQUIRED_FIELDS
                else "",
                ("也可写作" if lang == "zh" else "also accepted"): "、".join(FIELD_ALIASES[f][:6]),
                ("说明" if lang == "zh" else "notes"): note[0] if lang == "zh" else note[1],
            }
        )
    return pd.DataFrame(rows)


def geojson_template(lang: str = "zh") -> bytes:
    props = {header(f, lang): EXAMPLE[f] for f in TEMPLATE_FIELDS}
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [113.8705, 22.7551]},
            },
            {
                "type": "Feature",
                "properties": props
                | {
                    header("project_id", lang): "BA-2026-002",
                    header("name_zh", lang): "示例项目（用地红线）",
                },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [113.8690, 22.7530],
                            [113.8720, 22.7530],
                            [113.8720, 22.7550],
                            [113.8690, 22.7550],
                            [113.8690, 22.7530],
                        ]
                    ],
                },
            },
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def excel_template(lang: str = "zh") -> bytes:
    lon, lat = ("经度", "纬度") if lang == "zh" else ("lon", "lat")
    row = {header(f, lang): EXAMPLE[f] for f in TEMPLATE_FIELDS} | {lon: 113.8705, lat: 22.7551}
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        pd.DataFrame([row]).to_excel(writer, sheet_name="projects", index=False)
        field_table(lang).to_excel(writer, sheet_name="fields", index=False)
    return buf.getvalue()


# the sites layer (地块): a district's land bank, one polygon per parcel
SITE_EXAMPLE = {
    "site_id": "BA-DK-001",
    "name": "示例地块（燕罗）",
    "land_use": "M1",
    "land_area_m2": "4.5万",
    "existing_floor_area_m2": 8000,
    "plot_ratio": 4.0,
    "readiness": "整备中",
    "owner_type": "国有",
    "source": "宝安区土地整备台账 2026年11月",
}
SITE_NOTES: dict[str, tuple[str, str]] = {
    "site_id": (
        "本区唯一（如宗地号），多次上传保持不变",
        "unique in the district (the parcel number)",
    ),
    "land_use": ("M1 普通工业 / M0 新型产业", "M1 industrial / M0 new industry"),
    "land_area_m2": ("可空：按轮廓量算", "optional: measured from the outline"),
    "existing_floor_area_m2": ("现状已建面积，可空（按 0）", "what stands now; empty = 0"),
    "plot_ratio": (
        "规划或许可容积率，可空（按容积率表）",
        "permitted; empty = the plot-ratio table",
    ),
    "readiness": ("已出让 / 整备中 / 储备", "transferred / preparing / reserve"),
    "owner_type": ("国有 / 集体 / 企业 等", "state / collective / private …"),
}
SITE_OUTLINE = [
    [[113.8690, 22.7530], [113.8710, 22.7530], [113.8710, 22.7550], [113.8690, 22.7550],
     [113.8690, 22.7530]]
]  # fmt: skip


def site_field_table(lang: str = "zh") -> pd.DataFrame:
    """The sites file's fields: header (zh/en), required, accepted spellings, notes. A
    district's file is its whole land bank: a site left out is removed (said in the
    preview; undo brings it back)."""
    from spatial.ingest.site_rules import SITE_ALIASES, SITE_REQUIRED

    zh = lang == "zh"
    return pd.DataFrame(
        [
            {
                ("字段" if zh else "field"): FIELD_LABELS[f][0 if zh else 1],
                ("英文列名" if zh else "English header"): f,
                ("中文列名" if zh else "Chinese header"): header(f, "zh"),
                ("必填" if zh else "required"): ("是" if zh else "yes")
                if f in SITE_REQUIRED
                else "",
                ("也可写作" if zh else "also accepted"): "、".join(SITE_ALIASES[f][:6]),
                ("说明" if zh else "notes"): SITE_NOTES.get(f, ("", ""))[0 if zh else 1],
            }
            for f in SITE_EXAMPLE
        ]
    )


def site_geojson_template(lang: str = "zh") -> bytes:
    props = {header(f, lang): v for f, v in SITE_EXAMPLE.items()}
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props,
             "geometry": {"type": "Polygon", "coordinates": SITE_OUTLINE}},
        ],
    }  # fmt: skip
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
