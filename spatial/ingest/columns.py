"""An upload's columns named as project fields: the stage after the CRS is resolved.

The file's headers (Chinese or English, as in the template) map to the project fields
(:func:`spatial.ingest.fields.map_columns`); headers that map to nothing are named in a
warning; a required field with no column is an error for the whole file. Each row's findings
are named by its position in the file and its project id from here on."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from spatial.ingest.fields import REQUIRED_FIELDS, as_text, field_label, map_columns
from spatial.ingest.findings import RowFindings, ValidationReport, error, warning

# columns the readers add (position in the file, the feature's own id, a structure error,
# outside Shenzhen, the feature's bbox): bookkeeping, never project fields
INTERNAL = ("_feature", "_id", "_broken", "_outside_shenzhen", "_bbox")


@dataclass
class ProjectTable:
    """The rows of an upload with their columns named. ``frame`` is the file's frame in
    lon-lat (the readers' bookkeeping columns included), ``attrs`` the project fields found
    (canonical names, values as written), ``mapping`` file header → field, ``rows`` the
    findings per row."""

    frame: gpd.GeoDataFrame
    attrs: pd.DataFrame
    mapping: dict[str, str]
    rows: RowFindings

    @property
    def index(self) -> pd.Index:
        return self.frame.index

    def column(self, field: str) -> pd.Series:
        """A field's values as written; all None when the file has no such column."""
        if field in self.attrs:
            return self.attrs[field]
        return pd.Series(None, index=self.index, dtype=object)

    def without_written_values(self) -> ProjectTable:
        """The table once the field rules have parsed every value: the file's attribute
        columns let go (only their names kept, in an ``attrs`` of no rows), the frame holding
        the readers' bookkeeping and the shapes. The geometry, district, id and site rules
        read nothing else; at 10⁵ points the values as written are 11 MB held to the end."""
        kept = [c for c in self.frame.columns if c in INTERNAL or c == self.frame.geometry.name]
        return ProjectTable(self.frame[kept], self.attrs.iloc[:0], self.mapping, self.rows)

    def text(self, field: str) -> pd.Series:
        """A field's values as trimmed text; None for missing and blank values."""
        return blank_as_none(as_text(self.column(field)))


def blank_as_none(text: pd.Series) -> pd.Series:
    """:func:`~spatial.ingest.fields.as_text`'s text, missing (NaN) where blank — kept in
    Arrow (pandas' ``str``), not as a Python string per row: at 10⁵ rows each text column
    held 7 MB of them through the check and the commit."""
    return text.astype("str").where((text != "").to_numpy(bool))


def map_project_columns(frame: gpd.GeoDataFrame, report: ValidationReport) -> ProjectTable:
    """Name ``frame``'s columns as project fields (a GeoJSON feature's own ``id`` stands in
    for a missing project id column); report unknown headers and missing required ones."""
    columns = [c for c in frame.columns if c not in INTERNAL and c != frame.geometry.name]
    mapping, unknown = map_columns(columns)
    attrs = pd.DataFrame(index=frame.index)
    for original, canonical in mapping.items():
        attrs[canonical] = frame[original]
    if "project_id" not in attrs and frame["_id"].notna().any():
        attrs["project_id"] = frame["_id"]
    # the ids as read (a finding names its row's id as text when it is made): no Python
    # string per row held through the checks (6 MB at 10⁵ rows)
    ids = attrs["project_id"] if "project_id" in attrs else frame["_id"]
    rows = RowFindings(report, frame["_feature"], ids)
    rows.bad |= frame["_broken"].astype(bool)
    if unknown:
        names = list(map(str, unknown))
        report.add(
            warning(
                "unknown_columns",
                f"以下列无法识别，未导入：{'、'.join(names)}",
                f"these columns are not recognised and are not imported: {', '.join(names)}",
                "列名参照模板（中文或英文均可）。",
                "Name the columns as in the template (Chinese or English).",
            )
        )
    for req in REQUIRED_FIELDS:
        if req not in attrs:
            label = field_label(req)
            report.add(
                error(
                    "missing_column",
                    f"缺少必填字段“{label.zh}”",
                    f"the required field '{label.en}' is missing",
                    f"加上“{label.zh}”列（英文列名 {req}），可下载模板参考。",
                    f"Add a '{req}' column (Chinese header {label.zh}); see the template.",
                    field=req,
                )
            )
            attrs[req] = None
    return ProjectTable(frame, attrs, mapping, rows)
