"""From an uploaded file to validated, normalised project rows and a report (DESIGN.md §6).

:func:`check_upload` is the project upload check as named stages, each with one input and
one output:

read (:mod:`.formats`) → resolve the CRS (:mod:`.crs_detect`) → name the columns
(:mod:`.columns`) → field rules (:mod:`.field_rules`) → geometry rules
(:mod:`.geometry_rules`) → district rules (:mod:`.district_rules`) → id rules
(:mod:`.id_rules`) → the site's plausibility → normalised rows and the report.

Every rule is vectorised over all features and reports one finding per problem (feature,
field, what is wrong, how to fix it; Chinese and English). Errors block a commit; warnings
do not. Nothing here writes to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from spatial.allocator import hand_back_freed_memory
from spatial.ingest.columns import ProjectTable, map_project_columns
from spatial.ingest.crs_detect import AUTO, resolve_crs
from spatial.ingest.district_rules import district_rules
from spatial.ingest.field_rules import ProjectFields, check_fields
from spatial.ingest.fields import (
    ASPECT_QUALITY_FIELDS,
    DATE_FIELDS,
    NUMERIC_FIELDS,
    as_vocabulary,
)
from spatial.ingest.findings import RowFindings, UploadRejected, ValidationReport, error
from spatial.ingest.formats import RawLayer, read_upload
from spatial.ingest.geometry_rules import (
    VALID,
    ProjectShapes,
    geometry_checks,
    project_geometry,
    site_plausibility,
    to_stored_precision,
)
from spatial.ingest.id_rules import id_rules
from spatial.ingest.limits import UploadLimits
from spatial.layers import PROJECT_EVIDENCE_FIELDS, PROJECT_FIELDS, Quality


@dataclass
class UploadOptions:
    district_id: str | None  # None: check the file alone (``spatial validate`` without --district)
    crs_choice: str = AUTO
    repair_invalid: bool = False
    limits: UploadLimits = field(default_factory=UploadLimits.from_env)


@dataclass
class CheckedUpload:
    report: ValidationReport
    projects: gpd.GeoDataFrame  # normalised rows (PROJECT_FIELDS + geometry, lon-lat)
    row_ok: pd.Series  # rows without errors
    repaired: gpd.GeoSeries | None = None  # repaired shapes offered for invalid geometries
    present_fields: frozenset[str] = frozenset()  # project fields the file has a column for

    @property
    def accepted(self) -> bool:
        return self.report.accepted


def empty_projects() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {f: pd.Series(dtype=object) for f in PROJECT_FIELDS}, geometry=[], crs="EPSG:4326"
    )


def check_upload(
    filename: str,
    data: bytes | Callable[[], bytes],
    options: UploadOptions,
    districts: gpd.GeoDataFrame,
    existing: pd.DataFrame | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> CheckedUpload:
    """Validate an upload of district projects. ``existing`` is the store's current projects
    (``project_id``, ``district_id``) so ids owned by another district are refused.
    ``progress(fraction, stage)`` is called as the stages pass (for a progress bar).
    ``data``: the file's bytes, or a function that reads them — then they are held by the
    reader alone and let go before the checks run (a stored upload of 10⁵ points: 30 MB)."""
    told = progress or (lambda fraction, stage: None)

    def step(fraction: float, stage: str) -> None:
        hand_back_freed_memory()  # what the last stage dropped, not kept resident by malloc
        told(fraction, stage)

    report = ValidationReport(filename=filename)
    step(0.05, "read")
    raw = read_stage(filename, data() if callable(data) else data, options.limits, report)
    step(0.4, "crs")
    frame = crs_stage(raw, options.crs_choice, districts, report) if raw else None
    del raw  # the file's own coordinates, where they were transformed
    if frame is None:
        return CheckedUpload(report, empty_projects(), pd.Series(dtype=bool))
    step(0.55, "attributes")
    table = map_project_columns(frame, report)
    del frame  # held by the table alone
    fields = check_fields(table)
    table = table.without_written_values()
    step(0.75, "geometry")
    shapes = project_geometry(table, options.repair_invalid)
    district_rules(table, shapes, fields, options.district_id, districts)
    id_rules(table, fields, existing, options.district_id, districts)
    site_plausibility(table, shapes, fields)
    step(0.95, "rows")
    checked = checked_upload(filename, options.district_id, table, fields, shapes)
    del table, fields, shapes
    step(1.0, "done")
    return checked


def read_stage(
    filename: str, data: bytes, limits: UploadLimits, report: ValidationReport
) -> RawLayer | None:
    """The file read by its own format's reader within ``limits``; None (the findings say
    why) when it cannot be read or holds no features."""
    try:
        raw = read_upload(filename, data, limits)
    except UploadRejected as exc:
        report.extend(exc.findings)
        return None
    report.format = raw.format
    report.features = len(raw.frame)
    report.extend(raw.findings)
    if raw.frame.empty:
        report.add(
            error(
                "no_features",
                "文件中没有任何要素",
                "the file holds no features",
                "检查导出范围。",
                "Check what was exported.",
            )
        )
        return None
    return raw


def crs_stage(
    raw: RawLayer, crs_choice: str, districts: gpd.GeoDataFrame, report: ValidationReport
) -> gpd.GeoDataFrame | None:
    """The features in lon-lat, whatever the file's coordinate system (declared, chosen or
    detected); None when it cannot be told."""
    resolved = resolve_crs(raw.frame, raw.declared_crs, crs_choice, raw.format, districts)
    report.extend(resolved.findings)
    report.crs = resolved.crs_label
    if resolved.fatal:
        return None
    return resolved.frame.reset_index(drop=True)


def checked_upload(
    filename: str,
    district_id: str | None,
    table: ProjectTable,
    fields: ProjectFields,
    shapes: ProjectShapes,
) -> CheckedUpload:
    """The rows as the store keeps them (PROJECT_FIELDS, lon-lat to 1e-7°), which rows may be
    committed, and which fields the file gave (an update leaves the others as they were)."""
    values = fields.values
    n = len(table.index)
    projects = gpd.GeoDataFrame(
        {
            "project_id": values["project_id"],
            "name_zh": values["name_zh"],
            "name_en": values["name_en"],
            "district_id": as_vocabulary(district_id, n),
            "street": values["street"],
            "declared_park_id": values["park"],
            **{c: fields.numbers[c] for c in NUMERIC_FIELDS},
            "status": as_vocabulary(fields.status, n),
            "status_note": as_vocabulary(None, n),
            **{c: fields.dates[c] for c in DATE_FIELDS},
            "developer": values["developer"],
            "clusters": values["clusters"],
            "industries": values["industries"],
            **fields.evidence,
            "quality": as_vocabulary(Quality.OFFICIAL.value, n),
            **fields.aspect_quality,
            "confidence": as_vocabulary(None, n),
            # without a source column: the district's upload (each version names its upload),
            # so the same register sent again under another file name changes nothing
            "source": as_vocabulary(values["source"].fillna(f"{district_id} upload"), n),
        },
        geometry=shapes.geoms.to_numpy(),
        crs="EPSG:4326",
        index=table.index,
        copy=False,  # the parsed fields' columns taken as they are, not a second copy of each
    )
    projects[projects.geometry.name] = to_stored_precision(projects.geometry.to_numpy())
    table.rows.report.features = len(table.frame)
    present = {"project_id", "district_id", "quality", "geometry", "source"}
    present |= {*PROJECT_EVIDENCE_FIELDS, *ASPECT_QUALITY_FIELDS}  # derived here
    present |= {"declared_park_id" if c == "park" else c for c in table.attrs.columns}
    return CheckedUpload(
        table.rows.report,
        projects,
        ~table.rows.bad,
        shapes.repaired,
        frozenset(present),
    )


def check_file(filename: str, data: bytes, limits: UploadLimits | None = None) -> ValidationReport:
    """Is this file valid spatial data at all (format, structure, geometry)? No layer rules,
    no coordinate system checks: what a GeoJSON validator would say."""
    report = ValidationReport(filename=filename)
    try:
        raw = read_upload(filename, data, limits or UploadLimits.from_env())
    except UploadRejected as exc:
        report.extend(exc.findings)
        return report
    report.format, report.features = raw.format, len(raw.frame)
    report.extend(raw.findings)
    frame = raw.frame
    rows = RowFindings(report, frame["_feature"], frame["_id"])
    geoms = frame.geometry
    missing = (geoms.isna() | geoms.is_empty) & ~frame["_broken"].astype(bool)
    rows.warn(
        missing,
        "null_geometry",
        "要素没有几何（位置为空）",
        "the feature has no geometry",
        fld="geometry",
    )
    reasons = geometry_checks(
        frame, rows, geographic=raw.declared_crs in (None, "OGC:CRS84", "EPSG:4326")
    )
    present = ~(geoms.isna() | geoms.is_empty)
    rows.error(
        present & (reasons != VALID),
        "invalid_geometry",
        "几何无效：{reason}",
        "invalid geometry: {reason}",
        "在 GIS 中修正（如自相交），或上传时采用修复后的形状。",
        "Fix it in your GIS (e.g. the self-intersection), or use the repaired shape.",
        fld="geometry",
        fmt=lambda i: {"reason": reasons[i]},
    )
    return report
