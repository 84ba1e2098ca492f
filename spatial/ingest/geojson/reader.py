""":func:`parse_geojson`: the JSON text, then the root object and its features, then the
feature-count limit — composed from the rule modules of this package."""

from __future__ import annotations

from dataclasses import dataclass, field

from spatial.ingest.findings import Finding, error
from spatial.ingest.geojson.features import crs_from_member, feature, root
from spatial.ingest.geojson.reading import FeatureColumns, Reading
from spatial.ingest.geojson.text import read_json_text, strict_loads


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
    data: bytes, max_features: int | None = None, max_depth: int = 64, as_columns: bool = True
) -> ParsedGeoJSON:
    """Parse and structurally check GeoJSON bytes. Never raises on bad content.

    Arrays and objects nested deeper than ``max_depth`` are refused before parsing; a file
    with more than ``max_features`` features is refused before they are walked. A sound
    collection is checked as columns (:mod:`.bulk`) unless ``as_columns`` is False — then
    every feature is walked, which gives the same result (tests compare the two)."""
    text = read_json_text(data, max_depth)
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


def objects_seen(doc) -> tuple[int, int]:
    """(objects, members) of ``doc`` as a quick look at a feature collection sees them: the
    root and what it holds beside its features, each feature, its properties and its
    geometry. Parsing keeps one value of a name given twice, so the pair equals what the text
    holds (:class:`~.text.Structure`) only when no object hides elsewhere (in a property, a
    foreign member, the coordinates) and no object gives a name twice."""
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        return _all_objects(doc)
    rest = _all_objects([v for k, v in doc.items() if k != "features"])
    dicts = [f for f in features if type(f) is dict]
    props = [p for f in dicts if type(p := f.get("properties")) is dict]
    geoms = [g for f in dicts if type(g := f.get("geometry")) is dict]
    objects = 1 + rest[0] + len(dicts) + len(props) + len(geoms)
    members = len(doc) + rest[1] + sum(map(len, dicts)) + sum(map(len, props))
    return objects, members + sum(map(len, geoms))


def _all_objects(value) -> tuple[int, int]:
    """(objects, members) of every object inside ``value``, searched everywhere."""
    objects, members, stack = 0, 0, [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            objects, members = objects + 1, members + len(item)
            stack.extend(v for v in item.values() if type(v) in (dict, list))
        elif type(item) is list:
            stack.extend(v for v in item if type(v) in (dict, list))
    return objects, members


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
