""":func:`parse_geojson`: the JSON text, then the root object and its features, then the
feature-count limit — composed from the rule modules of this package."""

from __future__ import annotations

from dataclasses import dataclass, field

from spatial.ingest.findings import Finding, error
from spatial.ingest.geojson.bulk import keep_notes
from spatial.ingest.geojson.features import crs_from_member, feature, root
from spatial.ingest.geojson.members import objects_seen
from spatial.ingest.geojson.reading import FeatureColumns, Reading
from spatial.ingest.geojson.slices import SLICE_BYTES, SlicedCollection, read_in_slices
from spatial.ingest.geojson.text import parse_json_text, scan_json_text, strict_loads

MAX_ELEMENTS = 10**7  # the most features a layout is kept for when no limit is given


@dataclass
class ParsedGeoJSON:
    """The features — walked one by one (``walked``: plain dicts, ``geometry`` as given or
    None) or read as columns (``columns``) — plus what the file declared."""

    walked: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    declared_crs: str | None = None
    kind: str = "FeatureCollection"
    columns: FeatureColumns | None = None

    @property
    def features(self) -> list[dict]:
        """Every feature as a dict, however it was read."""
        return self.columns.as_features() if self.columns is not None else self.walked

    @property
    def feature_count(self) -> int:
        return len(self.columns.ids) if self.columns is not None else len(self.walked)


def parse_geojson(
    data: bytes,
    max_features: int | None = None,
    max_depth: int = 64,
    as_columns: bool = True,
    slice_bytes: int = SLICE_BYTES,
) -> ParsedGeoJSON:
    """Parse and structurally check GeoJSON bytes. Never raises on bad content.

    Arrays and objects nested deeper than ``max_depth`` are refused before parsing; a file
    with more than ``max_features`` features is refused before they are walked. A sound
    collection is checked as columns (:mod:`.bulk`) unless ``as_columns`` is False — then
    every feature is walked, which gives the same result (tests compare the two). A sound
    collection longer than ``slice_bytes`` is parsed that many bytes at a time
    (:mod:`.slices`), so its whole parsed document is never held."""
    sliced = as_columns and len(data) > slice_bytes
    elements = (max_features if max_features is not None else MAX_ELEMENTS) + 1024
    text = scan_json_text(data, max_depth, max_elements=elements if sliced else 0)
    if sliced and not text.failed:
        read = read_in_slices(
            text.data, text.structure.layout, text.structure.booleans, max_features, slice_bytes
        )
        if read is not None:
            return _from_slices(Reading(findings=list(text.findings)), read, max_features)
    if not text.failed:
        text = parse_json_text(text, max_depth)
    reading = Reading(findings=list(text.findings))
    result = ParsedGeoJSON(findings=reading.findings)
    if text.failed:
        result.kind = "invalid"
        return result
    doc = text.document
    if text.sequence is None:
        if objects_seen(doc) == (text.structure.objects, text.structure.members):
            reading.names_unique = as_columns  # so the features may be read as columns
        else:  # some object gives a name twice: read again, marking where
            doc = strict_loads(text.text)
        reading.booleans = text.structure.booleans
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
    result.walked, result.columns = reading.features, reading.columns
    return result


def _from_slices(
    reading: Reading, read: SlicedCollection, max_features: int | None
) -> ParsedGeoJSON:
    """The result of a collection read in slices, its findings in the order the whole
    reading gives them: the root's, then the features' notes."""
    result = ParsedGeoJSON(findings=reading.findings)
    if max_features is not None and read.count > max_features:
        reading.findings.append(_too_many(read.count, max_features))
        result.kind = "invalid"
        return result
    result.declared_crs = _declared_crs(reading, read.root)
    result.kind = root(reading, read.root)  # its features left out: the root's own rules
    keep_notes(reading, read.notes)
    result.columns = FeatureColumns(read.ids, read.properties, read.shapes)
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
