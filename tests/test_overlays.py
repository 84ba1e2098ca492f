from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from spatial.crs import WGS84
from spatial.figures.overlays import enrich_projects, site_area_m2
from spatial.store.overlays import cluster_codes


@pytest.fixture
def layers():
    districts = gpd.GeoDataFrame(
        {"district_id": ["west", "east"]},
        geometry=[box(113.8, 22.5, 114.0, 22.8), box(114.0, 22.5, 114.2, 22.8)],
        crs=WGS84,
    )
    parks = gpd.GeoDataFrame(
        {"park_id": ["P1", "P2"]},
        geometry=[box(113.85, 22.6, 113.9, 22.65), Point(114.1, 22.7)],
        crs=WGS84,
    )
    lines = gpd.GeoDataFrame(
        {
            "line_id": ["L1", "L2"],
            "level": ["level1", "level2"],
            "quality": ["illustrative", "illustrative"],
        },
        geometry=[box(113.85, 22.6, 113.87, 22.62), box(113.84, 22.59, 113.95, 22.66)],
        crs=WGS84,
    )
    return districts, parks, lines


def test_overlays(layers):
    districts, parks, lines = layers
    projects = gpd.GeoDataFrame(
        {
            "project_id": ["in-l1", "in-l2", "outside", "nowhere", "declared"],
            "declared_park_id": [None, "P2", None, None, "P2"],
        },
        geometry=[
            Point(113.86, 22.61),
            Point(113.93, 22.64),
            Point(114.1, 22.55),
            None,
            Point(114.15, 22.75),
        ],
        crs=WGS84,
    )
    out = enrich_projects(projects, districts, parks, lines).set_index("project_id")
    assert out.loc["in-l1", "control_level"] == "level1"  # inside both: level 1 wins
    assert out.loc["in-l2", "control_level"] == "level2"
    assert out.loc["outside", "control_level"] == "none"
    assert (
        out.loc["outside", "inside_control_line"] is False
        or not out.loc["outside", "inside_control_line"]
    )
    assert out.loc["nowhere", "inside_control_line"] is None
    assert out.loc["in-l1", ["park_id", "park_basis"]].tolist() == ["P1", "spatial"]
    # P2 has only a point: the source's statement is used, and said so
    assert out.loc["in-l2", ["park_id", "park_basis"]].tolist() == ["P2", "declared"]
    assert out.loc["outside", "park_basis"] == "none"
    assert out.loc["outside", "located_district_id"] == "east"
    assert pd.isna(out.loc["nowhere", "located_district_id"])
    assert (out["control_lines_quality"] == "illustrative").all()


def test_cluster_codes(reference):
    text = pd.Series(["半导体与集成电路(IC载板)", "智能装备;物联网", "", None, "眼镜;时尚消费品"])
    codes = cluster_codes(text, reference.cluster_aliases, reference.clusters).tolist()
    assert codes == ["C01", "C13", "", "", "C17"]


def test_cluster_codes_repeated_texts_each_get_their_codes(reference):
    """Each distinct text is matched once; every row, in any order and index, gets its own."""
    texts = ["半导体与集成电路(IC载板)", "智能装备;物联网", "", None, "眼镜;时尚消费品", "无关"]
    rng = np.random.default_rng(5)
    picked = [texts[i] for i in rng.integers(0, len(texts), 500)]
    rows = pd.Series(picked, index=rng.permutation(500) + 1000, dtype=object)
    got = cluster_codes(rows, reference.cluster_aliases, reference.clusters)
    one_by_one = {t: cluster_codes(pd.Series([t]), reference.cluster_aliases,
                                   reference.clusters).iloc[0] for t in texts}  # fmt: skip
    assert got.index.equals(rows.index)
    assert got.tolist() == [one_by_one[t] for t in picked]
    assert cluster_codes(pd.Series([], dtype=object), reference.cluster_aliases,
                         reference.clusters).empty  # fmt: skip


def test_site_area_is_metric(reference):
    sites = gpd.GeoDataFrame(
        geometry=[box(114.0, 22.5, 114.01, 22.51), Point(114, 22.5)], crs=WGS84
    )
    area = site_area_m2(sites)
    assert 1.1e6 < area.iloc[0] < 1.2e6 and pd.isna(area.iloc[1])


@pytest.mark.parametrize("batch", [1, 3, 34, 1000])
def test_a_commits_overlays_in_batches_are_those_of_one_join(reference, monkeypatch, batch):
    """``overlays_by_id`` computes a commit's overlays a batch of rows at a time: the same, row
    by row and in the rows' order, as one join of them all, however the rows are cut."""
    from spatial.store import overlays as kept

    ref = kept.OverlayReference(reference.districts, reference.parks, reference.control_lines,
                                reference.cluster_aliases, reference.clusters)  # fmt: skip
    projects = reference.projects.iloc[::-1]  # not in id order
    whole = ref.overlays(projects)
    monkeypatch.setattr(kept, "OVERLAY_BATCH", batch)
    found = kept.overlays_by_id(ref, projects)
    assert found.index.tolist() == projects["project_id"].tolist()
    pd.testing.assert_frame_equal(found.reset_index(drop=True), whole.reset_index(drop=True))
    assert whole["control_level"].isin(["level1", "level2"]).any()
    assert whole["cluster_codes"].str.len().gt(0).any()


@pytest.mark.parametrize("placed", ["random", "on_vertices", "shuffled_index"])
def test_a_points_district_by_its_tile_is_the_spatial_joins(reference, placed):
    """Districts are matched tile by tile (each district's box, then ``contains_xy``): the
    same district, for every point, as geopandas' sjoin — points on an outline's vertices
    (on the border two districts share: in neither) and points outside the city included."""
    from spatial.store import overlays as kept

    districts = reference.districts
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = districts.total_bounds
    x = rng.uniform(minx - 0.05, maxx + 0.05, 3000)
    y = rng.uniform(miny - 0.05, maxy + 0.05, 3000)
    inner = shapely.get_coordinates(districts.geometry.representative_point().to_numpy())
    x, y = np.r_[x, inner[:, 0]], np.r_[y, inner[:, 1]]  # one point in each district at least
    if placed == "on_vertices":
        vertices = np.unique(shapely.get_coordinates(districts.geometry.to_numpy()), axis=0)
        pick = vertices[rng.integers(0, len(vertices), 1000)]
        x, y = np.r_[x, pick[:, 0]], np.r_[y, pick[:, 1]]
    index = rng.permutation(len(x)) + 100 if placed == "shuffled_index" else np.arange(len(x))
    points = gpd.GeoDataFrame(geometry=shapely.points(x, y), index=index, crs=WGS84)
    by_tile = kept._tile_match(points, districts, "district_id")
    by_join = kept._first_match(points, districts, "district_id")
    pd.testing.assert_series_equal(
        by_tile.reindex(points.index).astype(object),
        by_join.reindex(points.index).astype(object),
        check_names=False,
    )
    assert by_tile.notna().sum() > 500 and by_tile.nunique() == districts.geometry.notna().sum()


def test_a_tile_match_of_other_shapes_falls_back_to_the_join(layers):
    from spatial.store import overlays as kept

    districts, _, _ = layers
    shapes = gpd.GeoDataFrame(
        geometry=[box(113.9, 22.6, 113.91, 22.61), Point(114.1, 22.7), Point(120, 30)],
        crs=WGS84,
    )
    assert kept._tile_match(shapes, districts, "district_id").to_dict() == {0: "west", 1: "east"}
    assert kept._tile_match(shapes.iloc[:0], districts, "district_id").empty
    assert kept._tile_match(shapes, districts.iloc[:0], "district_id").empty
