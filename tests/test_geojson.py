"""spatial.ingest.geojson: one case per rule, by the part of the standards it checks — the
JSON text (RFC 8259 / 8142), the members every object carries (RFC 7946 §1.4, §5, §7.1),
positions (§3.1.1), geometry by type (§3.1.4, §3.1.6, §3.1.8), features and collections
(§3.2, §3.3) — each naming the feature it found the problem in."""

from __future__ import annotations

import json

import pytest

from spatial.ingest.formats import _frame_from_geojson
from spatial.ingest.geojson import parse_geojson
from spatial.ingest.geojson.features import crs_from_member
from spatial.ingest.geojson.text import nesting_depth, structure

POINT = {"type": "Point", "coordinates": [114.05, 22.54]}
SQUARE = [[114.0, 22.5], [114.1, 22.5], [114.1, 22.6], [114.0, 22.6], [114.0, 22.5]]


def feature(geometry=POINT, **extra) -> dict:
    return {"type": "Feature", "properties": {"n": 1}, "geometry": geometry, **extra}


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def encoded(doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


CASES = [
    # JSON text
    ("text", b'\xef\xbb\xbf{"type":"FeatureCollection","features":[]}', "utf8_bom", None),
    ("text", '{"type": "Feature"}'.encode("utf-16"), "not_utf8", None),
    ("text", b'{"type": "FeatureCollection", "features": [', "json_syntax", None),
    ("text", b'{"type": "Point", "coordinates": [NaN, 22.5]}', "json_not_a_number", None),
    ("text", b"[" * 100 + b"]" * 100, "too_deep", None),
    # members of every object
    ("members", encoded({"type": "feature", "properties": {}, "geometry": None}), "unknown_type",
     None),
    ("members", encoded(collection(feature(coordinates=[1, 2]))), "changed_semantics", 1),
    ("members", encoded(collection(feature(bbox=[114.1, 22.6, 114.0, 22.5]))), "bbox_order", 1),
    ("members", b'{"type":"Feature","properties":{"a":1,"a":2},"geometry":null}',
     "duplicate_member", 1),
    # positions
    ("positions", encoded(collection(feature({"type": "Point", "coordinates": [114.05]}))),
     "position_size", 1),
    ("positions", encoded(collection(feature({"type": "Point", "coordinates": ["114", "22"]}))),
     "position_not_numbers", 1),
    ("positions", encoded(collection(feature({"type": "Polygon", "coordinates": [114, 22]}))),
     "coordinates_nesting", 1),
    ("positions", encoded(collection(feature({"type": "LineString",
     "coordinates": [[114.0, 22.5], [114.1, 22.6, 10.0]]}))), "mixed_dimensions", 1),
    # geometry by type
    ("geometry", encoded(collection(feature({"type": "LineString",
     "coordinates": [[114.0, 22.5]]}))), "short_line", 1),
    ("geometry", encoded(collection(feature({"type": "Polygon",
     "coordinates": [SQUARE[:2] + [SQUARE[0]]]}))), "short_ring", 1),
    ("geometry", encoded(collection(feature({"type": "Polygon",
     "coordinates": [SQUARE[:-1]]}))), "ring_not_closed", 1),
    ("geometry", encoded(collection(feature({"type": "Polygon",
     "coordinates": [SQUARE[::-1]]}))), "winding_order", 1),
    ("geometry", encoded(collection(feature({"type": "GeometryCollection", "geometries": [
     {"type": "GeometryCollection", "geometries": [POINT]}]}))), "nested_collection", 1),
    ("geometry", encoded(collection(feature({"type": "GeometryCollection",
     "geometries": [POINT]}))), "single_member_collection", 1),
    # features and collections
    ("features", encoded(collection(feature(), {"type": "Feature", "geometry": None})),
     "missing_properties", 2),
    ("features", encoded(collection(feature(id=True))), "bad_feature_id", 1),
    ("features", encoded(collection(feature(), None)), "null_feature", 2),
    ("features", encoded([feature()]), "bare_feature_array", None),
    ("features", encoded({"type": "FeatureCollection"}), "missing_features", None),
    ("features", encoded({"geometryType": "esriGeometryPoint", "features": []}), "esri_json",
     None),
    ("features", encoded({**collection(feature()), "crs": {"type": "name", "properties":
     {"name": "urn:ogc:def:crs:EPSG::4547"}}}), "legacy_crs_member", None),
]  # fmt: skip


@pytest.mark.parametrize(
    "part, data, code, at", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES]
)  # fmt: skip
def test_each_rule_reports_its_finding_at_its_feature(part, data, code, at):
    parsed = parse_geojson(data)
    found = [f for f in parsed.findings if f.code == code]
    assert found, f"{code} not in {[f.code for f in parsed.findings]}"
    assert found[0].feature == at
    assert found[0].message_zh and found[0].message_en  # both languages


def test_a_sound_file_has_no_finding_and_keeps_every_feature():
    parsed = parse_geojson(
        encoded(collection(feature(), feature({"type": "Polygon", "coordinates": [SQUARE]})))
    )
    assert parsed.findings == []
    assert parsed.kind == "FeatureCollection"
    assert [f["broken"] for f in parsed.features] == [False, False]


def test_geojson_lines_and_text_sequences():
    lines = b"\n".join(encoded(feature()) for _ in range(3))
    sequence = b"".join(b"\x1e" + encoded(feature()) + b"\n" for _ in range(3))
    for data in (lines, sequence):
        parsed = parse_geojson(data)
        assert parsed.kind == "GeoJSONSeq" and len(parsed.features) == 3


def test_feature_limit_refuses_before_walking():
    parsed = parse_geojson(encoded(collection(*[feature()] * 5)), max_features=4)
    assert parsed.kind == "invalid" and parsed.features == []
    assert [f.code for f in parsed.findings] == ["too_many_features"]


@pytest.mark.parametrize(
    "member, crs",
    [
        ({"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "OGC:CRS84"),
        ({"type": "name", "properties": {"name": "EPSG:4547"}}, "EPSG:4547"),
        ("http://www.opengis.net/def/crs/EPSG/0/4490", "EPSG:4490"),
        (7, None),
    ],
)
def test_legacy_crs_member(member, crs):
    assert crs_from_member(member) == crs


def test_nesting_depth_ignores_brackets_in_strings():
    assert nesting_depth('{"a": "[[[[", "b": [[1]]}') == 3


# -- a sound collection read as columns (geojson.bulk) gives exactly what the walk gives ------
HOLE = [[114.02, 22.52], [114.02, 22.54], [114.04, 22.54], [114.04, 22.52], [114.02, 22.52]]
LINE = [[114.0, 22.5], [114.1, 22.6]]
SAME_AS_WALK = {
    "points": collection(feature(), feature({"type": "Point", "coordinates": [114, 22]})),
    "every type": collection(
        feature(),
        feature({"type": "MultiPoint", "coordinates": LINE}),
        feature({"type": "LineString", "coordinates": LINE}),
        feature({"type": "MultiLineString", "coordinates": [LINE, LINE[::-1]]}),
        feature({"type": "Polygon", "coordinates": [SQUARE, HOLE]}),
        feature({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE, HOLE]]}),
        feature(None),
        feature(id="A-1"),
        feature(id=7.5),
    ),
    "winding, heights, precision": collection(
        feature(),
        feature({"type": "Polygon", "coordinates": [SQUARE[::-1]]}, id="W"),
        feature({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE, HOLE[::-1]]]}),
        feature({"type": "Polygon", "coordinates": [SQUARE, HOLE]}),
        feature({"type": "Point", "coordinates": [114.123456789, 22.5]}),
        feature({"type": "LineString", "coordinates": [[114.0, 22.5, 3.0], [114.1, 22.6, 4]]}),
    ),
    "3D points and polygons": collection(
        feature({"type": "Point", "coordinates": [114.05, 22.54, 9.5]}),
        feature({"type": "Polygon", "coordinates": [[[*p, 1.0] for p in SQUARE]]}),
    ),
    "null properties": collection({"type": "Feature", "properties": None, "geometry": POINT}),
    "a boolean property": collection(feature(), {**feature(), "properties": {"ok": True}}),
    "a boolean position": collection({**feature(), "properties": {"ok": False}},
                                     feature({"type": "Point", "coordinates": [114, True]})),
    "a name twice deep in properties": b'{"type":"FeatureCollection","features":[{"type":'
    b'"Feature","properties":{"a":{"b":1,"b":2}},"geometry":null}]}',
    "a name twice in the crs": b'{"type":"FeatureCollection","crs":{"type":"name","type":"x",'
    b'"properties":{"name":"EPSG:4326"}},"features":[]}',
    "quotes and brackets in strings": collection(
        {**feature(), "properties": {"n": 'say "[[{" \\', "m": '\\\\\\"}]'}}
    ),
    "a foreign member": collection(feature(title={"x": 1})),
    "a bbox": collection(feature(bbox=[114.0, 22.5, 114.1, 22.6])),
    "an open ring": collection(feature({"type": "Polygon", "coordinates": [SQUARE[:-1]]})),
    "a short line": collection(feature({"type": "LineString", "coordinates": LINE[:1]})),
    "mixed sizes": collection(feature(), feature({"type": "Point", "coordinates": [1, 2, 3]})),
    "strings": collection(feature({"type": "Point", "coordinates": ["114", "22"]})),
    "an empty polygon": collection(feature({"type": "Polygon", "coordinates": []})),
    "a collection": collection(feature({"type": "GeometryCollection", "geometries": [POINT]})),
    "a huge number": b'{"type":"FeatureCollection","features":[{"type":"Feature","properties"'
    b':{},"geometry":{"type":"Point","coordinates":[1e400, 22]}}]}',
    "a big integer": b'{"type":"FeatureCollection","features":[{"type":"Feature","properties"'
    b':{},"geometry":{"type":"Point","coordinates":[123456789012345678901234567890, 22]}}]}',
}  # fmt: skip


@pytest.mark.parametrize("name", SAME_AS_WALK)
def test_a_collection_read_as_columns_gives_what_the_walk_gives(name):
    doc = SAME_AS_WALK[name]
    data = doc if isinstance(doc, bytes) else encoded(doc)
    fast, walked = parse_geojson(data), parse_geojson(data, as_columns=False)
    where = [(f.code, f.feature, f.feature_id, f.message_en) for f in fast.findings]
    assert where == [(f.code, f.feature, f.feature_id, f.message_en) for f in walked.findings]
    assert fast.kind == walked.kind
    keep = ("index", "id", "properties", "broken", "bbox")
    assert [{k: f[k] for k in keep} for f in fast.features] == [
        {k: f[k] for k in keep} for f in walked.features
    ]
    frame_fast, frame_walked = _frame_from_geojson(fast), _frame_from_geojson(walked)
    assert list(frame_fast.geometry.to_wkt()) == list(frame_walked.geometry.to_wkt())


def test_sound_collections_are_read_as_columns_and_broken_ones_walked():
    assert parse_geojson(encoded(SAME_AS_WALK["every type"])).columns is not None
    assert parse_geojson(encoded(SAME_AS_WALK["an open ring"])).columns is None
    assert parse_geojson(SAME_AS_WALK["a name twice deep in properties"]).columns is None


@pytest.mark.parametrize(
    "text, depth",
    [
        ('{"a": "[[[[", "b": [[1]]}', 3),
        ('{"a": "\\"[[[[", "b": 1}', 1),  # an escaped quote does not end the string
        ('{"a": "\\\\", "b": [[[1]]]}', 4),  # an escaped backslash does not escape the quote
        ('{"a": "\\\\\\"[[[", "b": []}', 2),
        ('["中文[[[", ["{"]]', 2),
    ],
)
def test_structure_counts_outside_strings(text, depth):
    found = structure(text.encode())
    assert found.depth == depth
    assert found.members == text.count('":') - text.count('\\":')


STRUCTURE_TEXTS = [
    '{"a": "[[[[", "b": [[1]]}',
    '{"a": "\\"[[[[", "b": 1}',
    '{"a": "\\\\", "b": [[[1]]]}',
    '{"a": "\\\\\\"[[[", "b": [true]}',
    '["中文[[[", ["{"], {"x": false}]',
    '{"k\\\\\\\\\\\\": "\\\\\\\\\\"{{", "m": [[], [[{}]]], "n": "\\\\"}',
    "[" + ", ".join(['{"a": "\\\\\\"]", "b": [1, [2]]}'] * 40) + "]",
]


@pytest.mark.parametrize("text", STRUCTURE_TEXTS)
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_structure_read_in_chunks_counts_as_in_one(text, chunk):
    """Chunk boundaries inside a string, inside a run of backslashes (odd or even), between
    a backslash and the quote it escapes: the counts are those of the whole text at once."""
    data = text.encode()
    assert structure(data, chunk=chunk) == structure(data, chunk=len(data) + 1)


def test_structure_of_the_whole_text_agrees_with_a_parser():
    import json

    for text in STRUCTURE_TEXTS:
        doc = json.loads(text)
        objects, stack = 0, [doc]
        while stack:
            item = stack.pop()
            objects += isinstance(item, dict)
            stack.extend(item.values() if isinstance(item, dict) else
                         item if isinstance(item, list) else [])  # fmt: skip
        assert structure(text.encode(), chunk=3).objects == objects, text
