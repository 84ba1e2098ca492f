"""Features (RFC 7946 §3.2), feature collections (§3.3) and the root of the file: what one
GeoJSON text may be — a FeatureCollection, a Feature, a bare geometry, or (read as a
collection, with a warning) a bare array of features. Also the ``crs`` member that RFC 7946
removed but older exports still write (honoured, with a warning)."""

from __future__ import annotations

import re

from spatial.ingest.geojson.bulk import read_as_columns
from spatial.ingest.geojson.geometry import geometry
from spatial.ingest.geojson.members import (
    ALL_TYPES,
    common_members,
    duplicate_members,
    object_type,
)
from spatial.ingest.geojson.reading import Reading


def crs_from_member(crs) -> str | None:
    """The CRS named by a legacy GeoJSON ``crs`` member (or JSON-FG ``coordRefSys``)."""
    if isinstance(crs, str):
        name = crs
    elif isinstance(crs, dict):
        props = crs.get("properties") or {}
        name = props.get("name") or props.get("href") or ""
    else:
        return None
    name = str(name).strip("[]")
    if re.search(r"CRS84$|CRS:84", name, re.I):
        return "OGC:CRS84"
    # EPSG:4547, urn:ogc:def:crs:EPSG::4547, or the URI JSON-FG uses:
    # http://www.opengis.net/def/crs/EPSG/0/4547
    m = re.search(r"EPSG(?::[\d.]*)?::?(\d+)|EPSG/[\d.]+/(\d+)", name, re.I)
    if m:
        return f"EPSG:{m.group(1) or m.group(2)}"
    return name or None


def feature(reading: Reading, obj, position: int) -> None:
    """§3.2: a Feature with an ``id`` (string or number) if any, a ``properties`` member
    (an object or null) and a ``geometry`` member (a geometry or null). The feature is kept,
    marked broken, whatever is wrong with it, so its row can be named in the report."""
    reading.at(position)
    if object_type(reading, obj, {"Feature"}, "feature") is None:
        reading.add_feature({}, None, broken=True)
        return
    fid = obj.get("id")
    number = isinstance(fid, int | float) and not isinstance(fid, bool)
    broken = "id" in obj and not (fid is None or isinstance(fid, str) or number)
    if broken:
        reading.err(
            "bad_feature_id",
            f"要素的 “id” 应为字符串或数字，实际是 {type(fid).__name__}",
            f"the feature 'id' must be a string or a number, found {type(fid).__name__}",
            "把 id 改为字符串或数字，或删除。",
            "Make the id a string or a number, or delete it.",
        )
        fid = None
    reading.at(position, None if fid is None else str(fid))
    common_members(reading, obj, "Feature")
    props = feature_properties(reading, obj)
    geom = feature_geometry(reading, obj)
    box = obj.get("bbox")
    reading.add_feature(
        props or {},
        None if geom is ... else geom,
        broken=broken or props is None or geom is ...,
        fid=fid,
        bbox=box if isinstance(box, list) else None,
    )


def feature_properties(reading: Reading, obj: dict) -> dict | None:
    """The feature's ``properties`` as a dict (null is an empty one); None when the member is
    missing or not an object."""
    props = obj.get("properties", ...)
    if props is ...:
        reading.err(
            "missing_properties",
            "要素缺少 “properties” 成员（可为 null，但不能省略）",
            "the feature has no 'properties' member (it may be null, not absent)",
            '加上 "properties": { … } 或 "properties": null。',
            'Add "properties": { … } or "properties": null.',
        )
        return None
    if props is not None and not isinstance(props, dict):
        reading.err(
            "bad_properties",
            f"要素的 “properties” 应为对象或 null，实际是 {type(props).__name__}",
            f"the feature 'properties' must be an object or null, found {type(props).__name__}",
            '把属性写成 {"字段": 值} 的形式。',
            'Write the attributes as {"field": value}.',
        )
        return None
    if props is not None:
        duplicate_members(reading, props, "properties")
    return dict(props or {})


def feature_geometry(reading: Reading, obj: dict):
    """The feature's geometry as given; None for ``"geometry": null`` (a feature without a
    location); ``...`` when the member is missing or the geometry is broken."""
    if "geometry" not in obj:
        reading.err(
            "missing_geometry_member",
            '要素缺少 “geometry” 成员（没有位置时应写 "geometry": null）',
            "the feature has no 'geometry' member (write \"geometry\": null when it has "
            "no location)",
            "检查是否把 geometry 拼写成了别的名字（如 geom）。",
            "Check whether 'geometry' was spelled differently (e.g. 'geom').",
        )
        return ...
    if obj["geometry"] is None:
        return None
    geom = geometry(reading, obj["geometry"])
    return ... if geom is None else geom


def feature_collection(reading: Reading, doc: dict) -> bool:
    """§3.3: a ``features`` array of Features (a null in it is an error of its own)."""
    features = doc.get("features")
    if not isinstance(features, list):
        reading.err(
            "missing_features",
            "FeatureCollection 缺少 “features” 数组",
            "the FeatureCollection has no 'features' array",
            '加上 "features": [ … ]。',
            'Add "features": [ … ].',
        )
        return False
    if read_as_columns(reading, features):
        return True
    for i, item in enumerate(features, start=1):
        if item is None:
            reading.at(i)
            reading.err(
                "null_feature",
                "features 数组中有 null",
                "the 'features' array holds a null",
                "删除该 null。",
                "Delete the null.",
            )
            reading.add_feature({}, None, broken=True)
            continue
        feature(reading, item, i)
    return True


def feature_array(reading: Reading, doc: list) -> str:
    """A bare JSON array of features, as web maps export them: read as a collection."""
    reading.warn(
        "bare_feature_array",
        "文件是要素数组，没有 FeatureCollection 外壳；已按 FeatureCollection 读取",
        "the file is a bare array of features without a FeatureCollection; read as one",
        "建议导出为标准 FeatureCollection。",
        "Export a standard FeatureCollection next time.",
    )
    for i, item in enumerate(doc, start=1):
        feature(reading, item, i)
    return "FeatureArray"


def looks_like_esri_json(doc: dict) -> bool:
    return "type" not in doc and (
        "rings" in str(doc.get("features", ""))[:2000]
        or "geometryType" in doc
        or "spatialReference" in doc
    )


def root(reading: Reading, doc) -> str:
    """The file's top object read by its type; returns what the file was (its ``type``,
    ``FeatureArray``, or ``invalid``)."""
    if isinstance(doc, list):
        return feature_array(reading, doc)
    if not isinstance(doc, dict):
        reading.err(
            "not_geojson",
            f"文件内容不是 GeoJSON 对象，而是 {type(doc).__name__}",
            f"the file is not a GeoJSON object but a JSON {type(doc).__name__}",
            "上传 FeatureCollection 格式的 GeoJSON。",
            "Upload a GeoJSON FeatureCollection.",
        )
        return "invalid"
    if looks_like_esri_json(doc):
        reading.err(
            "esri_json",
            "文件像是 Esri JSON（ArcGIS 格式），不是 GeoJSON",
            "the file looks like Esri JSON (ArcGIS), not GeoJSON",
            "在 ArcGIS/QGIS 中导出为 GeoJSON，或上传压缩的 Shapefile。",
            "Export it as GeoJSON from ArcGIS/QGIS, or upload a zipped Shapefile.",
        )
        return "invalid"
    kind = object_type(reading, doc, ALL_TYPES, "file")
    if kind is None:
        return "invalid"
    common_members(reading, doc, kind)
    if kind == "FeatureCollection":
        return kind if feature_collection(reading, doc) else "invalid"
    if kind == "Feature":
        feature(reading, doc, 1)
        return kind
    reading.at(1)
    geom = geometry(reading, doc, "file")
    reading.add_feature({}, geom, broken=geom is None)
    return kind
