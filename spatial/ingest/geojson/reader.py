""":func:`parse_geojson`: the JSON text, then the root object and its features, then the
feature-count limit — composed from the rule modules of this package."""

from __future__ import annotations

from dataclasses import dataclass, field

from spatial.ingest.findings import Finding, error
from spatial.ingest.geojson.features import crs_from_member, feature, root
from spatial.ingest.geojson.reading import Reading
from spatial.ingest.geojson.text import read_json_text


@dataclass
class ParsedGeoJSON:
    """Features as plain dicts (``geometry`` may be None), plus what the file declared."""

    features: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    declared_crs: str | None = None
    kind: str = "FeatureCollection"


def parse_geojson(
    data: bytes, max_features: int | None = None, max_depth: int = 64
) -> ParsedGeoJSON:
    """Parse and structurally check GeoJSON bytes. Never raises on bad content.

    Arrays and objects nested deeper than ``max_depth`` are refused before parsing; a file
    with more than ``max_features`` features is refused before they are walked."""
    text = read_json_text(data, max_depth)
    reading = Reading(findings=list(text.findings))
    result = ParsedGeoJSON(findings=reading.findings)
    if text.failed:
        result.kind = "invalid"
        return result
    doc = text.document
    items = text.sequence if text.sequence is not None else _features_of(doc)
    if max_features is not None and items is not None and len(items) > max_features:
        reading.findings.append(_too_many(len(items), max_features))
        result.kind = "invalid"
        return result
    if text.sequence is not None:
        for i, item in enumerate(text.sequence, start=1):
            feature(reading, item, i)
        result.kind = "GeoJSONSeq"
    else:
        result.declared_crs = _declared_crs(reading, doc)
        result.kind = root(reading, doc)
    result.features = reading.features
    return result


def _features_of(doc) -> list | None:
    if isinstance(doc, dict) and isinstance(doc.get("features"), list):
        return doc["features"]
    return None


def _declared_crs(reading: Reading, doc) -> str | None:
    """The legacy ``crs`` (or JSON-FG ``coordRefSys``) member: honoured, with a warning."""
    declared = doc.get("crs", doc.get("coordRefSys")) if isinstance(doc, dict) else None
    if declared is None:
        return None
    crs = crs_from_member(declared)
    reading.warn(
        "legacy_crs_member",
        f"文件声明了坐标系 {crs}（RFC 7946 已取消 crs 成员）；按声明处理",
        f"the file declares CRS {crs} (RFC 7946 removed the 'crs' member); it is honoured",
        "如声明有误，请在上传时选择正确的坐标系。",
        "If the declaration is wrong, choose the right CRS when uploading.",
    )
    return crs


def _too_many(count: int, limit: int) -> Finding:
    return error(
        "too_many_features",
        f"文件有 {count} 个要素，超过上限 {limit}",
        f"the file has {count} features, over the limit of {limit}",
        "分成几个文件上传，或请管理员调整上限。",
        "Split the file, or ask the administrator to raise the limit.",
    )
