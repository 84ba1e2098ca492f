"""Land capacity (spatial.figures.capacity) on hand-built parcels with known areas and plot
ratios — including one already built denser than attainable — the joins that place each site,
the plot-ratio table's order and its admin-only, audited changes, the illustrative sites'
rule, and `spatial capacity` on both backends."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from spatial.auth import SYSTEM, PermissionDenied, Principal, Role
from spatial.cli import main as cli_main
from spatial.crs import METRIC, WGS84
from spatial.figures.capacity import (
    DEFAULT_PLOT_RATIOS,
    CapacityError,
    capacity,
    locate_sites,
    plot_ratios_of,
    set_plot_ratio,
    site_capacity,
    summarise_capacity,
)
from spatial.store import accounts
from spatial.store.illustrative import illustrative_sites

ADMIN = Principal("admin", Role.ADMIN)


def in_metres(rows: list[dict], shapes) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(shapes), crs=METRIC).to_crs(WGS84)


# four parcels of 100 m × 100 m = 10,000 m² (land area left to the polygon) in EPSG:4547
X, Y = 500_000.0, 2_500_000.0
PARCELS = [
    {"site_id": "A", "land_use": "M1", "existing_floor_area_m2": 0.0, "plot_ratio": None,
     "readiness": "transferred", "quality": "official"},
    {"site_id": "B", "land_use": "M0", "existing_floor_area_m2": 12_000.0, "plot_ratio": None,
     "readiness": "preparing", "quality": "official"},
    {"site_id": "C", "land_use": "M1", "existing_floor_area_m2": 50_000.0, "plot_ratio": None,
     "readiness": "reserve", "quality": "official"},  # built denser than attainable
    {"site_id": "D", "land_use": "M1", "existing_floor_area_m2": 5_000.0, "plot_ratio": 6.0,
     "readiness": "reserve", "quality": "official"},  # its own permitted plot ratio
]  # fmt: skip
SHAPES = [box(X + 200 * k, Y, X + 200 * k + 100, Y + 100) for k in range(4)]
ZONE = {"district_id": "baoan", "park_id": "P04"}


def test_capacity_by_hand():
    sites = in_metres([p | ZONE for p in PARCELS], SHAPES)
    out = site_capacity(sites, DEFAULT_PLOT_RATIOS).set_index("site_id")
    assert out["land_area_m2"].round(0).tolist() == [10_000] * 4
    # A: 10,000 × 3.0 (city default, S40) − 0; B: × 4.0 (M0) − 12,000;
    # C: × 3.0 − 50,000 < 0 → 0; D: × 6.0 (its own) − 5,000
    assert out["capacity_m2"].round(0).tolist() == [30_000, 28_000, 0, 55_000]
    assert out["ratio_basis"].tolist() == ["city", "land_use", "city", "site"]
    summary = summarise_capacity(out.reset_index(), "district_id", 20_000.0, 226_000.0)
    row = summary.by_group.iloc[0]
    assert row["land_ha_transferred"] == pytest.approx(1.0)
    assert row["land_ha_reserve"] == pytest.approx(2.0)
    assert row["capacity_m2"] == pytest.approx(113_000)
    assert row["pledge_years"] == pytest.approx(113_000 / 20_000)
    assert summary.covers_remaining == pytest.approx(0.5)
    assert not summary.illustrative


def test_the_most_specific_plot_ratio_wins():
    table = pd.concat(
        [
            DEFAULT_PLOT_RATIOS,
            pd.DataFrame(
                [("district", "baoan", 3.5, "区规划"), ("park", "P04", 5.0, "园区规划")],
                columns=DEFAULT_PLOT_RATIOS.columns,
            ),
        ]
    )
    rows = [
        PARCELS[0] | ZONE,
        PARCELS[0] | {"district_id": "baoan", "park_id": None},
        PARCELS[1] | {"district_id": "futian", "park_id": None},
    ]
    sites = in_metres(rows, SHAPES[:3])
    out = site_capacity(sites, table)
    assert out["attainable_plot_ratio"].tolist() == [5.0, 3.5, 4.0]
    assert out["ratio_source"].tolist() == ["园区规划", "区规划", DEFAULT_PLOT_RATIOS["source"][1]]


def test_sites_are_placed_by_spatial_joins(reference):
    """A site in 福田 inside a level-1 line near a park, one in no line far from every park."""
    parks = gpd.GeoDataFrame({"park_id": ["PX"]}, geometry=[Point(114.05, 22.54)], crs=WGS84)
    centre = parks.to_crs(METRIC).geometry.iloc[0]
    lines = gpd.GeoDataFrame(
        {"level": ["level2", "level1"]},
        geometry=[centre.buffer(r, cap_style="square") for r in (1_600, 1_000)],
        crs=METRIC,
    ).to_crs(WGS84)  # fmt: skip
    near = box(centre.x + 100, centre.y + 100, centre.x + 200, centre.y + 200)
    band = box(centre.x + 1_200, centre.y, centre.x + 1_300, centre.y + 100)
    far = box(centre.x + 5_000, centre.y, centre.x + 5_100, centre.y + 100)
    sites = in_metres([{"site_id": s} for s in "NBF"], [near, band, far])
    out = locate_sites(sites, reference.districts, parks, lines).set_index("site_id")
    assert out["control_level"].tolist() == ["level1", "level2", "outside"]
    assert out.loc["N", "park_id"] == "PX" and out.loc["B", "park_id"] == "PX"  # within 1.5 km
    assert pd.isna(out.loc["F", "park_id"])
    assert out.loc["N", "district_id"] == "futian"


def test_illustrative_sites_follow_their_rule(reference):
    sites = illustrative_sites(reference.control_lines)
    assert len(sites) > 100 and (sites["quality"] == "illustrative").all()
    metric = sites.to_crs(METRIC)
    assert metric.area.round(-1).eq(210 * 210).all()  # 250 m cells less 20 m a side
    within = gpd.sjoin(metric, reference.control_lines.to_crs(METRIC), predicate="within")
    assert within.index.nunique() == len(sites)  # wholly inside a control line each
    assert sites["site_id"].is_unique and sites["site_id"].iloc[0] == "S-00001"


def test_plot_ratio_changes_are_admin_only_sourced_and_audited(seeded_store):
    with pytest.raises(PermissionDenied):
        set_plot_ratio(seeded_store, Principal("p", Role.PLANNER), "park", "P04", 5.0, "规划")
    with pytest.raises(CapacityError):
        set_plot_ratio(seeded_store, ADMIN, "park", "P04", 50.0, "园区规划文件")
    with pytest.raises(CapacityError):
        set_plot_ratio(seeded_store, ADMIN, "park", "P04", 5.0, "")
    before, _ = capacity(seeded_store, ADMIN, "park_id")
    set_plot_ratio(seeded_store, ADMIN, "park", "P04", 5.0, "园区规划文件（示例）")
    table = plot_ratios_of(seeded_store)
    assert table[table["key"] == "P04"]["plot_ratio"].tolist() == [5.0]
    assert seeded_store.audit("admin", "set_plot_ratio")["target"].tolist() == ["park/P04"]
    after, sites = capacity(seeded_store, ADMIN, "park_id")
    p04 = sites[sites["park_id"] == "P04"]
    assert (p04["ratio_basis"] == "park").all()
    expected = (p04["land_area_m2"] * 5.0 - p04["existing_floor_area_m2"]).clip(lower=0).sum()
    got = after.by_group.set_index("park_id").loc["P04", "capacity_m2"]
    assert got == pytest.approx(expected)
    assert got > before.by_group.set_index("park_id").loc["P04", "capacity_m2"]
    set_plot_ratio(seeded_store, ADMIN, "park", "P04", None, "撤销示例")
    assert "P04" not in set(plot_ratios_of(seeded_store)["key"])


def test_a_district_officer_sees_only_their_district_never_the_city_target(seeded_store):
    summary, sites = capacity(seeded_store, Principal("ba", Role.DISTRICT, "baoan"))
    assert set(sites["district_id"]) == {"baoan"}
    assert summary.illustrative and not summary.measured
    assert summary.by_group["pledge_years"].isna().all()


def test_cli_capacity_json(seeded_store, db_url):
    accounts.add_user(seeded_store, SYSTEM, "admin", "admin")
    out = io.StringIO()
    assert cli_main(["--database-url", db_url, "capacity", "--by", "park", "--json"], out=out) == 0
    payload = json.loads(out.getvalue())
    summary, _ = capacity(seeded_store, ADMIN, "park_id")
    assert payload["illustrative"] is True
    assert payload["total_capacity_m2"] == pytest.approx(summary.total_capacity_m2)
    assert {r["park_id"] for r in payload["by_group"]} == set(summary.by_group["park_id"])
