"""spatial.ingest.geojson.slices: a large collection parsed a slice of features at a time gives
exactly what parsing it whole gives — the same findings at the same features, the same kind
and declared CRS, the same frame to the type of every value — for sound files, for broken
ones (which fall back to the whole reading) and for hostile ones; and it never holds the whole
parsed document."""

from __future__ import annotations

import json
import random
import tracemalloc

import pandas as pd
import pytest
from test_geojson import CASES, SAME_AS_WALK, SQUARE, collection, encoded, feature

from spatial.ingest.formats import _frame_from_geojson
from spatial.ingest.geojson import parse_geojson
from spatial.ingest.geojson.text import structure

WHOLE = 10**12  # a slice larger than any file: read whole
SLICES = [1, 97, 600]  # one feature a slice; a few; many


def read_both(data: bytes, slice_bytes: int, **limits):
    return (
        parse_geojson(data, slice_bytes=WHOLE, **limits),
        parse_geojson(data, slice_bytes=slice_bytes, **limits),
    )


def assert_same(whole, sliced) -> None:
    """Findings (where and what), kind, declared CRS, and the frame, value by value."""
    place = [(f.code, f.severity, f.feature, f.feature_id, f.message_en) for f in whole.findings]
    assert [(f.code, f.severity, f.feature, f.feature_id, f.message_en)
            for f in sliced.findings] == place  # fmt: skip
    assert (sliced.kind, sliced.declared_crs) == (whole.kind, whole.declared_crs)
    if whole.kind == "invalid":
        return
    a, b = _frame_from_geojson(whole), _frame_from_geojson(sliced)
    assert list(a.geometry.to_wkb()) == list(b.geometry.to_wkb())
    a, b = a.drop(columns="geometry"), b.drop(columns="geometry")
    pd.testing.assert_frame_equal(a, b)
    for column in a.columns:
        assert _typed(a[column]) == _typed(b[column]), column


def _typed(column: pd.Series) -> list:
    """Each value with its type (NaN as a marker: NaN != NaN)."""
    return [
        (type(v).__name__, "NaN" if isinstance(v, float) and v != v else repr(v))
        for v in column.astype(object).tolist()
    ]


def many(*features, repeat: int = 6) -> dict:
    """A collection long enough to be cut into slices: ``features`` repeated."""
    return collection(*(list(features) * repeat))


SOUND = {
    "points": many(feature(), feature({"type": "Point", "coordinates": [114, 22]})),
    "every type, ids": many(*SAME_AS_WALK["every type"]["features"]),
    "notes first met late": collection(
        *[feature()] * 9,
        feature({"type": "Polygon", "coordinates": [SQUARE[::-1]]}, id="W"),
        feature({"type": "Point", "coordinates": [114.123456789, 22.5]}),
        feature({"type": "LineString", "coordinates": [[114.0, 22.5, 3.0], [114.1, 22.6, 4]]}),
        feature({"type": "Polygon", "coordinates": [SQUARE[::-1]]}, id=12),
    ),
    "a column in later slices only": collection(
        *[feature()] * 8, *[{**feature(), "properties": {"n": 2, "late": "晚"}}] * 4
    ),
    "whole numbers, then text": collection(
        *[{**feature(), "properties": {"面积": 12}}] * 6,
        *[{**feature(), "properties": {"面积": "12万㎡"}}] * 6,
    ),
    "a big whole number late": collection(
        *[{**feature(), "properties": {"n": 1}}] * 8,
        {**feature(), "properties": {"n": 2**62}},
        {**feature(), "properties": {"n": 2**63 + 5}},
    ),
    "nulls, missing, booleans": collection(
        *[{**feature(), "properties": {"a": None, "b": True}}] * 5,
        *[{**feature(), "properties": {"b": None}}] * 5,
        *[{**feature(), "properties": {"a": "x", "b": False}}] * 2,
    ),
    "null properties throughout": many({**feature(), "properties": None}),
    "the root around the features": {
        "features": [feature()] * 10,
        "name": "宝安区",
        "bbox": [113.7, 22.5, 114.0, 22.9],
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}},
        "type": "FeatureCollection",
    },
    "brackets, quotes and backslashes in text": many(
        {**feature(), "properties": {"n": '},{"type":"Feature"', "m": '\\"]}[{\\\\', "k": ","}},
        {**feature(), "properties": {"n": "\\", "名称": '"{"'}},
    ),
}


@pytest.mark.parametrize("slice_bytes", SLICES)
@pytest.mark.parametrize("name", SOUND)
def test_a_sound_collection_read_in_slices_is_read_as_it_is_whole(name, slice_bytes):
    whole, sliced = read_both(encoded(SOUND[name]), slice_bytes)
    assert isinstance(sliced.columns.properties, pd.DataFrame)  # it was read in slices
    assert_same(whole, sliced)


HOSTILE = {
    "a name twice in a late feature": encoded(many(feature()))[:-2]
    + b',{"type":"Feature","properties":{"a":1,"a":2},"geometry":null}]}',
    "features given twice": b'{"type":"FeatureCollection","features":[],"features":'
    + json.dumps([feature()] * 8).encode()
    + b"}",
    "a name twice in the root's crs": b'{"type":"FeatureCollection","crs":{"type":"name",'
    b'"type":"x"},"features":' + json.dumps([feature()] * 8).encode() + b"}",
    "a trailing comma": encoded(many(feature()))[:-2] + b",]}",
    "two commas": encoded(many(feature())).replace(b"}}, {", b"}},, {", 1),
    "a comma missing": encoded(many(feature())).replace(b"}}, {", b"}} {", 1),
    "text after the root": encoded(many(feature())) + b' {"type": "Feature"}',
    "two roots": encoded(many(feature())) + b"\n" + encoded(many(feature())),
    "NaN late": encoded(many(feature()))[:-2]
    + b',{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[NaN,1]}}]}',
    "a 100-bit integer late": encoded(many(feature()))[:-2]
    + b',{"type":"Feature","properties":{"n":1267650600228229401496703205376},"geometry":null}]}',
    "bytes that are not UTF-8 late": encoded(many(feature()))[:-2]
    + b',{"type":"Feature","properties":{"n":"\xff\xfe"},"geometry":null}]}',
    "a lone surrogate": encoded(many(feature()))[:-2]
    + b',{"type":"Feature","properties":{"n":"\\ud800"},"geometry":null}]}',
    "an object hidden in properties": encoded(
        many(feature(), {**feature(), "properties": {"o": {"p": {"q": 1}}}})
    ),
    "a feature that is not one": encoded(many(feature(), {"type": "feature", "geometry": None})),
    "a null feature": encoded(many(feature(), None)),
    "features an object": b'{"type":"FeatureCollection","features":{"a":' + b"1," * 50 + b'"b":1}}',
    "features null": b'{"type":"FeatureCollection","features":null,"name":"' + b"x" * 500 + b'"}',
    "an empty array with space": b'{"type":"FeatureCollection","features":[' + b" " * 500 + b"]}",
    "a Feature root holding features": encoded({**feature(), "features": [feature()] * 8}),
    "an unclosed array": encoded(many(feature()))[:-2],
    "a stray closing bracket": encoded(many(feature()))[:-1] + b"]}}",
    "a sequence of features": b"\n".join(encoded(feature()) for _ in range(12)),
    "a bare array": encoded([feature()] * 12),
    "a BOM": b"\xef\xbb\xbf" + encoded(many(feature())),
    "Esri JSON": encoded({"geometryType": "esriGeometryPoint", "features": [{"x": 1}] * 20}),
}


@pytest.mark.parametrize("slice_bytes", SLICES)
@pytest.mark.parametrize("name", HOSTILE)
def test_a_broken_or_hostile_file_gets_what_the_whole_reading_gives_it(name, slice_bytes):
    assert_same(*read_both(HOSTILE[name], slice_bytes))


@pytest.mark.parametrize("name", [c[2] for c in CASES])
def test_every_rule_of_the_reader_finds_the_same_when_reading_in_slices(name):
    data = next(c[1] for c in CASES if c[2] == name)
    assert_same(*read_both(data, 7))


@pytest.mark.parametrize("name", SAME_AS_WALK)
def test_the_walks_cases_find_the_same_in_slices(name):
    doc = SAME_AS_WALK[name]
    assert_same(*read_both(doc if isinstance(doc, bytes) else encoded(doc), 7))


def test_too_many_features_are_refused_before_any_slice_is_parsed():
    data = encoded(many(feature(), repeat=30))
    whole, sliced = read_both(data, 97, max_features=29)
    assert [f.code for f in sliced.findings] == ["too_many_features"]
    assert_same(whole, sliced)


VALUES = [0, 1, -5, 2**62, 2**63 + 1, 1.5, 3.0, 1e300, "a", "中文", "", "12万㎡", None, True,
          False]  # fmt: skip


@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("SEEDS", 40))))
def test_a_columns_type_is_inferred_from_all_its_values_as_reading_whole_does(seed):
    """Random properties (numbers, big numbers, text, booleans, nulls, names left out) cut
    into slices of one to a few features: each column as from_records of them all gives it."""
    rnd = random.Random(seed)
    pool = rnd.sample(VALUES, rnd.randint(1, 4))
    features = [
        {**feature(), "properties": {k: rnd.choice(pool) for k in "abcd" if rnd.random() < 0.7}}
        for _ in range(rnd.randint(2, 30))
    ]
    for slice_bytes in (1, 150, 400):
        assert_same(*read_both(encoded(collection(*features)), slice_bytes))


def test_the_parsed_document_is_never_held_whole():
    """Python's traced peak while reading 20,000 features in 64 kB slices is under half
    of reading them whole (the parsed document takes about seven times the text)."""
    features = [
        {**feature({"type": "Point", "coordinates": [114 + i * 1e-6, 22.5]}),
         "properties": {"编号": f"BA-{i:06d}", "名称": f"项目{i}", "面积": i % 50}}
        for i in range(20_000)
    ]  # fmt: skip
    data = encoded(collection(*features))
    peaks = {}
    for name, slice_bytes in (("whole", WHOLE), ("sliced", 1 << 16)):
        tracemalloc.start()
        parsed = parse_geojson(data, slice_bytes=slice_bytes)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert parsed.feature_count == 20_000
    assert peaks["sliced"] < peaks["whole"] / 2, peaks


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
def test_the_layout_found_in_chunks_is_the_layout_of_the_whole_text(chunk):
    data = encoded(SOUND["brackets, quotes and backslashes in text"])
    found = structure(data, chunk=chunk, layout=True, max_elements=10**4)
    whole = structure(data, chunk=len(data) + 1, layout=True, max_elements=10**4)
    assert found == whole and found.layout.same_as(whole.layout)
    features = json.loads(data)["features"]
    assert len(found.layout.commas) == len(features) - 1
    assert bytes(data[found.layout.opens[0] : found.layout.opens[0] + 1]) == b"["
    # every comma between features sits where the text has one, outside any string
    assert all(data[int(at) : int(at) + 1] == b"," for at in found.layout.commas)


def test_the_layout_is_given_up_past_its_limit_and_for_brackets_that_do_not_pair():
    data = encoded(many(feature(), repeat=20))
    assert structure(data, layout=True, max_elements=19).layout is None
    assert structure(data, layout=True, max_elements=21).layout is not None
    assert structure(b'{"a": [1, {"b": 2}', layout=True, max_elements=10).layout is None
