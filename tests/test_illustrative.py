from __future__ import annotations

import shapely

from spatial.crs import area_m2
from spatial.store.illustrative import illustrative_control_lines


def test_shipped_layer_is_reproducible(reference):
    again = illustrative_control_lines(reference.parks, reference.districts)
    shipped = reference.control_lines
    assert again["line_id"].tolist() == shipped["line_id"].tolist()
    assert again["level"].tolist() == shipped["level"].tolist()
    assert again["district_id"].tolist() == shipped["district_id"].tolist()
    assert again["source"].tolist() == shipped["source"].tolist()  # names the module that made it
    diff = shapely.hausdorff_distance(again.geometry.to_numpy(), shipped.geometry.to_numpy())
    assert diff.max() < 1e-6  # degrees: ~0.1 m


def test_every_feature_says_it_is_illustrative(reference):
    lines = reference.control_lines
    assert set(lines["quality"]) == {"illustrative"}
    assert lines["source"].str.contains("Not the official").all()
    assert set(lines["level"]) == {"level1", "level2"}


def test_rules_hold(reference):
    lines = reference.control_lines
    areas = area_m2(lines.geometry)
    level1 = areas[(lines["level"] == "level1").to_numpy()]
    assert level1.max() <= 4_000_000 * 1.0001  # a 2 km square at most
    assert (abs(lines["area_m2"].to_numpy() - areas) / areas).max() < 1e-4  # 1e-7° rounding
    l1 = shapely.union_all(lines[lines["level"] == "level1"].geometry.to_numpy())
    l2 = shapely.union_all(lines[lines["level"] == "level2"].geometry.to_numpy())
    assert shapely.intersection(l1, l2).area < 1e-9  # the band never overlaps level 1
