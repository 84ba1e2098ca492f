"""Each stage of the upload check on its own (spatial.ingest.columns, field_rules,
geometry_rules, district_rules, id_rules), on small hand-built tables: what a rule family
reports and which rows it blocks, without reading a file or resolving a CRS."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from spatial.ingest.columns import ProjectTable, map_project_columns
from spatial.ingest.district_rules import district_rules, site_share_in
from spatial.ingest.field_rules import (
    area_rules,
    check_fields,
    date_rules,
    number_rules,
    status_rules,
    text_rules,
)
from spatial.ingest.findings import RowFindings, ValidationReport
from spatial.ingest.geometry_rules import project_geometry, site_plausibility
from spatial.ingest.id_rules import id_key, id_keys, id_rules, last_of_each, repeated

FUTIAN = Point(114.055, 22.54)
BAOAN = Point(113.88, 22.58)


def table_of(geometry=None, **columns) -> ProjectTable:
    """A table as the CRS stage hands it on: lon-lat, the readers' bookkeeping columns."""
    n = len(next(iter(columns.values())))
    frame = gpd.GeoDataFrame(
        {"_feature": range(1, n + 1), "_id": [None] * n, "_broken": [False] * n, **columns},
        geometry=geometry or [FUTIAN] * n,
        crs="EPSG:4326",
    )
    return map_project_columns(frame, ValidationReport(filename="hand-built"))


def codes_by_row(table: ProjectTable, ignore=("missing_value",)) -> dict[int, set[str]]:
    """Each row's finding codes (a table built for one rule family lacks the other fields:
    their "is empty" findings are left out)."""
    out: dict[int, set[str]] = {}
    for f in table.rows.report.findings:
        if f.feature is not None and f.code not in ignore:
            out.setdefault(f.feature, set()).add(f.code)
    return out


def test_columns_named_in_either_language_and_missing_ones_reported():
    table = table_of(项目编号=["A"], 名称=["甲"], 奇怪的列=["x"])
    assert {"project_id", "name_zh"} <= set(table.attrs.columns)
    codes = table.rows.report.codes()
    assert "unknown_columns" in codes
    missing = {f.field for f in table.rows.report.errors if f.code == "missing_column"}
    assert missing == {"status", "floor_area_m2"}


@pytest.mark.parametrize(
    "written, parsed, code",
    [
        ("12万", 120_000.0, None),
        ("120000㎡", 120_000.0, None),
        ("十二万", None, "not_a_number"),
        ("-5", -5.0, "negative_value"),
        ("1e15", 1e15, "implausible_value"),
    ],
)
def test_number_rules(written, parsed, code):
    table = table_of(project_id=["A"], floor_area_m2=[written])
    numbers = number_rules(table)
    value = numbers["floor_area_m2"][0]
    assert (pd.isna(value) and parsed is None) or value == parsed
    assert codes_by_row(table).get(1, set()) == ({code} if code else set())
    assert bool(table.rows.bad[0]) is (code is not None)


def test_area_rules_factory_above_total_and_plot_ratio_disagreeing():
    table = table_of(
        project_id=["A", "B", "C"],
        floor_area_m2=["100000", "100000", "100000"],
        factory_floor_area_m2=["120000", "80000", "80000"],
        land_area_m2=["20000", "20000", "20000"],
        plot_ratio=["5", "3", "5.2"],  # 100000 / 20000 = 5
    )
    area_rules(table, number_rules(table))
    assert codes_by_row(table) == {1: {"factory_exceeds_total"}, 2: {"plot_ratio_inconsistent"}}


def test_text_status_and_date_rules_on_their_own():
    table = table_of(
        project_id=["A", "B", "C"],
        name_zh=["甲\x00", "乙", "丙"],
        status=["在建", "建设中?", "交付"],
        start_date=["2024-03-01", "2024/3/5", "2025年1月"],
        completion_date=["2023-12-31", None, None],
    )
    values = text_rules(table)
    status = status_rules(table)
    dates = date_rules(table, status)
    assert values["name_zh"][1] == "乙"
    assert status[0] == "under_construction" and pd.isna(status[1])
    assert dates["start_date"].tolist() == ["2024-03-01", "2024-03-05", "2025-01-31"]
    assert codes_by_row(table) == {
        1: {"control_character", "completion_before_start"},
        2: {"unknown_status"},
        3: {"delivered_without_date"},
    }
    assert "partial_dates" in table.rows.report.codes()


def test_geometry_rules_types_and_repair():
    bowtie = Polygon([(114.05, 22.53), (114.06, 22.54), (114.06, 22.53), (114.05, 22.54)])
    line = gpd.GeoSeries.from_wkt(["LINESTRING (114.05 22.53, 114.06 22.54)"]).iloc[0]
    for repair in (False, True):
        table = table_of(geometry=[FUTIAN, bowtie, line, None], project_id=list("ABCD"))
        shapes = project_geometry(table, repair_invalid=repair)
        rows = codes_by_row(table)
        assert rows[2] == {"geometry_repaired" if repair else "invalid_geometry"}
        assert rows[3] == {"wrong_geometry_type"} and rows[4] == {"empty_geometry"}
        assert shapes.usable.tolist() == [True, True, False, False]
        assert shapes.repaired is not None and shapes.repaired.is_valid.all()
        assert bool(table.rows.bad[1]) is not repair


def test_site_plausibility_against_the_polygon():
    site = box(114.05, 22.53, 114.051, 22.531)  # about 103 m × 111 m ≈ 11,400 m²
    table = table_of(
        geometry=[site, site],
        project_id=["A", "B"],
        floor_area_m2=["500000", "50000"],  # 44× the site: not a building
        land_area_m2=[None, "40000"],  # 3.5× the polygon
    )
    fields = check_fields(table)
    site_plausibility(table, project_geometry(table, False), fields)
    rows = codes_by_row(table)
    assert "implausible_floor_area" in rows[1]
    assert "land_area_vs_site" in rows[2]


def test_district_rules_point_polygon_share_and_declared_district(reference):
    districts = reference.districts
    half = box(113.99, 22.52, 114.03, 22.56)  # crosses 南山 / 福田
    table = table_of(
        geometry=[FUTIAN, BAOAN, half],
        project_id=["A", "B", "C"],
        district=["福田区", "Futian", "宝安"],
    )
    fields = check_fields(table)
    shapes = project_geometry(table, False)
    district_rules(table, shapes, fields, "futian", districts)
    rows = codes_by_row(table)
    assert 1 not in rows
    assert rows[2] == {"outside_district"}
    assert "other_district" in rows[3]
    futian = districts[districts["district_id"] == "futian"].geometry.iloc[0]
    share = site_share_in(shapes.geoms, shapes.usable, futian)
    assert pd.isna(share[0]) and 0 < share[2] < 1


def test_id_rules_within_the_file_and_against_the_store(reference):
    table = table_of(
        project_id=["FT-1", "FT-1", "ＦＴ-2", "ft-3", "X\u200b1", "NS-9"],
    )
    existing = pd.DataFrame(
        {"project_id": ["FT-2", "FT-3", "NS-9"], "district_id": ["futian", "futian", "nanshan"]}
    )
    id_rules(table, check_fields(table), existing, "futian", reference.districts)
    rows = codes_by_row(table)
    assert rows[1] >= {"duplicate_id"} and rows[2] >= {"duplicate_id"}
    assert "id_lookalike" in rows[3] and "id_lookalike" in rows[4]
    assert "id_invisible_character" in rows[5]
    assert "id_of_other_district" in rows[6]
    assert id_key("ＦＴ-2") == id_key("ft-2")


LOOKALIKE_IDS = ["FT-1", "ft-1", "ＦＴ-2", "Straße", "STRASSE", "ǅ-1", "Ⅻ-3", "ﬁ-4", "x\u200b1",
                 "", None, "BA-2024-001", "İ-5", "ς-6", "Σ-6"]  # fmt: skip


@pytest.mark.parametrize("dtype", [object, "str"])
def test_id_keys_are_id_key_of_each_id(dtype):
    """The keys made in Arrow are the per-id NFKC + case fold of :func:`id_key` ("" for a
    missing id), ASCII or not: full width, ß, ligatures, titlecase digraphs, Roman numerals,
    dotted İ, final sigma."""
    ids = pd.Series(LOOKALIKE_IDS, dtype=dtype, index=range(10, 10 + len(LOOKALIKE_IDS)))
    keys = id_keys(ids)
    assert keys.index.equals(ids.index)
    assert keys.tolist() == [id_key(v) if isinstance(v, str) else "" for v in ids]


def test_a_lookalike_of_a_stored_id_names_the_stored_spelling(reference):
    """An id that differs from a stored one only in case or width is refused, naming the
    stored spelling; the id spelled as stored is an update, not a lookalike."""
    table = table_of(项目编号=["ft-9", "FT-9", "Ｘ-1", "Y-2"], 名称=["甲"] * 4)
    existing = pd.DataFrame({"project_id": ["FT-9", "x-1", "Z-3"],
                             "district_id": ["futian"] * 3})  # fmt: skip
    id_rules(table, check_fields(table), existing, "futian", reference.districts)
    said: dict[int, str] = {}
    for f in table.rows.report.findings:
        if f.code == "id_lookalike":
            said[f.feature] = said.get(f.feature, "") + f.message_en
    assert set(said) == {1, 2, 3}  # 1 and 2 are also lookalikes of each other in the file
    assert "existing id 'FT-9'" in said[1] and "existing id" not in said[2]
    assert "existing id 'x-1'" in said[3]


ID_RUNS = [
    [],
    ["A"],
    ["A", "A"],
    [None, None, "A"],
    ["b", "a", "b", None, "a", "c", "b", ""],
    ["FT-1", "ft-1", "ＦＴ-1", "FT-1", "", "", None],
    [f"BA-{i % 7}" for i in range(50)],
]


@pytest.mark.parametrize("values", ID_RUNS)
@pytest.mark.parametrize("dtype", [object, "str"])
def test_repeated_and_last_of_each_are_what_pandas_says(values, dtype):
    """Told by sorting in Arrow: the same rows as ``duplicated`` (a missing id never
    repeated; each missing id its own for ``last_of_each``), on any index."""
    ids = pd.Series(values, dtype=dtype, index=range(100, 100 + len(values)))
    missing = ids.isna().to_numpy()
    got = repeated(ids)
    assert got.index.equals(ids.index)
    assert got.tolist() == (ids.duplicated(keep=False).to_numpy() & ~missing).tolist()
    assert (
        last_of_each(ids).tolist() == (~ids.duplicated(keep="last").to_numpy() | missing).tolist()
    )


def test_a_store_holding_lookalikes_names_the_last_stored_spelling(reference):
    """Stored ids that are lookalikes of each other (or given twice): the file's lookalike
    names the last of them, as before the ids were sorted in Arrow."""
    table = table_of(项目编号=["Ft-9"], 名称=["甲"])
    existing = pd.DataFrame({"project_id": ["FT-9", "ft-9", "FT-9", "fT-9", "ft-9"],
                             "district_id": ["futian"] * 5})  # fmt: skip
    id_rules(table, check_fields(table), existing, "futian", reference.districts)
    said = [f.message_en for f in table.rows.report.findings if f.code == "id_lookalike"]
    assert len(said) == 1 and "existing id 'fT-9'" in said[0]


@pytest.mark.parametrize(
    "ids, named",
    [
        (pd.Series(["A-1", None], dtype="str"), ["A-1", None]),
        (pd.Series(["A-1", None], dtype=object), ["A-1", None]),
        (pd.Series(["A-1", pd.NA], dtype="string"), ["A-1", None]),
        (pd.Series([7, None], dtype=object), ["7", None]),
        (pd.Series([7.0, float("nan")]), ["7.0", None]),
    ],
)
def test_a_finding_names_its_rows_id_as_text_or_none(ids, named):
    """The row ids are kept as read; a finding's id is their text, a missing one None."""
    rows = RowFindings(ValidationReport(filename="x"), pd.Series([1, 2]), ids)
    rows.error(pd.Series([True, True]), "c", "中", "en")
    assert [f.feature_id for f in rows.report.findings] == named


def test_a_table_without_its_written_values_keeps_their_names_and_the_shapes():
    table = table_of(项目编号=["A", "B"], 名称=["甲", "乙"], 状态=["规划", "在建"])
    parsed = table.without_written_values()
    assert list(parsed.attrs.columns) == list(table.attrs.columns) and parsed.attrs.empty
    assert set(parsed.frame.columns) == {"_feature", "_id", "_broken", "geometry"}
    assert parsed.frame.geometry.equals(table.frame.geometry)
    assert parsed.rows is table.rows and parsed.index.equals(table.index)


def test_evidence_and_quality_are_categories_a_byte_per_row():
    """Where a file says nothing of the evidence, each dated stage is confirmed or planned
    (the right one per row) and an undated one has none; evidence and quality are held as
    categories, a byte per row (text took 1.3-2 MB a column at 10⁵ rows, a Python string
    per row 6 MB)."""
    n = 400
    table = table_of(
        项目编号=[f"FT-{i}" for i in range(n)],
        名称=["甲"] * n,
        状态=["竣工", "规划"] * (n // 2),
        总建筑面积=["1万"] * n,
        开工日期=["2023-03-01"] * (n - 2) + ["", "2099-01-01"],
        开工依据=["推断"] + [""] * (n - 1),
    )
    fields = check_fields(table)
    evidence = fields.evidence["start_evidence"]
    assert evidence.tolist()[:4] == ["inferred", "planned", "confirmed", "planned"]
    assert (evidence[2:-2:2] == "confirmed").all() and (evidence[3:-2:2] == "planned").all()
    assert pd.isna(evidence.iloc[-2]) and evidence.iloc[-1] == "planned"  # none; ahead
    assert pd.isna(fields.evidence["completion_evidence"]).all()  # no completion date
    for column in (evidence, *fields.aspect_quality.values()):
        assert isinstance(column.dtype, pd.CategoricalDtype)
        assert column.cat.codes.dtype.itemsize == 1 and column.index.equals(table.index)
    assert set(fields.aspect_quality["location_quality"]) == {"official"}
    dates_quality = fields.aspect_quality["dates_quality"]
    assert set(dates_quality.drop(index=n - 2)) == {"exact"}
    assert dates_quality.iloc[-2] == "missing"  # no date at all


@pytest.mark.parametrize(
    ("values", "n", "expected"),
    [(None, 3, [None, None, None]), ("baoan", 2, ["baoan", "baoan"]),
     (pd.Series(["planned", None, "planned"]), 3, ["planned", None, "planned"])],
)  # fmt: skip
def test_as_vocabulary_holds_a_value_or_none_per_row_as_categories(values, n, expected):
    from spatial.ingest.fields import as_vocabulary

    column = pd.Series(as_vocabulary(values, n))
    assert isinstance(column.dtype, pd.CategoricalDtype)
    assert [None if pd.isna(v) else v for v in column] == expected
    assert column.cat.codes.dtype.itemsize == 1


def test_district_of_is_the_spatial_join_of_each_point(reference):
    """Each point's district is the one a ``within`` spatial join finds (NaN outside every
    outline, for a missing point and for one on no land), in the points' own index."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from spatial.ingest.district_rules import district_of

    districts = reference.districts
    rng = np.random.default_rng(5)
    xy = np.column_stack([rng.uniform(113.7, 114.7, 400), rng.uniform(22.4, 22.9, 400)])
    points = list(shapely.points(xy)) + [None, shapely.Point(120.0, 30.0), shapely.Point()]
    probe = gpd.GeoSeries(points, index=range(1000, 1000 + len(points)), crs="EPSG:4326")
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=probe), districts[["district_id", "geometry"]],
                       how="left", predicate="within")  # fmt: skip
    expected = joined[~joined.index.duplicated()]["district_id"].reindex(probe.index)
    located = district_of(probe, districts)
    assert located.index.equals(probe.index)
    assert located.isna().tolist() == expected.isna().tolist()
    assert (located[expected.notna()] == expected[expected.notna()]).all()
    assert expected.notna().sum() > 100 and located.iloc[-3:].isna().all()
