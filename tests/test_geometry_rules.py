"""Shapes to the store's precision (spatial/ingest/geometry_rules.py)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from spatial.ingest.geometry_rules import (
    STORED_PRECISION,
    VALID,
    to_stored_precision,
    validity_reasons,
)

SHAPES = [
    "POINT (114.123456 22.654321)",  # 6 decimals: kept as it is
    "POINT (114.12345678912 22.6543219876)",  # rounded
    "POLYGON ((114 22, 114.01 22, 114.01 22.01, 114 22))",
    "POLYGON ((114.000000049 22, 114.01 22, 114.01 22.01, 114.000000049 22))",
    "MULTIPOLYGON (((114 22, 114.01 22, 114.01 22.01, 114 22)))",
    "POINT EMPTY",
    None,
]


@pytest.mark.parametrize("batch", [1, 2, 10_000])
def test_shapes_are_rounded_as_set_precision_rounds_them(monkeypatch, batch):
    """Each shape as ``set_precision(1e-7, pointwise)`` gives it, however many are rounded at
    a time; where rounding changes no coordinate the very shape is kept (no second copy)."""
    monkeypatch.setattr("spatial.ingest.geometry_rules.PRECISION_BATCH", batch)
    geoms = np.array([None if w is None else shapely.from_wkt(w) for w in SHAPES], dtype=object)
    rounded = to_stored_precision(geoms)
    expected = shapely.set_precision(geoms, STORED_PRECISION, mode="pointwise")
    same = shapely.equals_identical(rounded, expected)
    assert same[:-1].all() and rounded[-1] is None
    kept = [r is g for r, g in zip(rounded, geoms, strict=True)]
    assert kept[0] and kept[2] and kept[4] and not kept[1] and not kept[3]
    assert geoms[1].x == pytest.approx(114.12345678912)  # the input is left as it was


@pytest.mark.parametrize("batch", [1, 2, 3, 1_000])
def test_repeated_vertices_are_counted_per_shape_however_many_are_read_at_a_time(
    monkeypatch, batch
):
    """A vertex that repeats the one before it in the same shape counts, one that only
    repeats the last vertex of the shape before does not, however the shapes are batched."""
    from spatial.ingest.geometry_rules import repeated_vertices

    monkeypatch.setattr("spatial.ingest.geometry_rules.VERTEX_BATCH", batch)
    shapes = ["LINESTRING (0 0, 0 0, 1 1)", "LINESTRING (1 1, 2 2)", "POINT (2 2)",
              "POLYGON ((0 0, 1 0, 1 0, 1 1, 1 1, 0 0))", None, "POINT EMPTY",
              "MULTIPOINT ((3 3), (3 3))"]  # fmt: skip
    geoms = np.array([None if w is None else shapely.from_wkt(w) for w in shapes], dtype=object)
    assert repeated_vertices(geoms).tolist() == [1, 0, 0, 2, 0, 0, 1]


VALIDITY_CASES = [
    "POINT (114 22)", "POINT EMPTY", None, "POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))",
    "LINESTRING (0 0, 0 0)", "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0), (1 1, 3 1, 3 3, 1 3, 1 1))",
    "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((0 0, 1 0, 1 1, 0 0)))",
    "POLYGON ((114 22, 114.01 22, 114.01 22.01, 114 22))", "POINT (NaN NaN)",
]  # fmt: skip


def test_validity_reasons_are_geos_reasons_asked_only_of_the_invalid():
    """The reason of each shape is GEOS's own (None for a missing shape); every valid shape
    shares the one ``VALID`` string."""
    geoms = np.array([None if w is None else shapely.from_wkt(w) for w in VALIDITY_CASES],
                     dtype=object)  # fmt: skip
    reasons = validity_reasons(geoms)
    assert reasons.tolist() == shapely.is_valid_reason(geoms).tolist()
    assert all(r is VALID for r in reasons if r == VALID)
    assert sum(r != VALID and r is not None for r in reasons) >= 3
