"""选址 the site finder (spatial.figures.site_finder) on hand-built sites: which criteria each
meets, required criteria filtering, the ranking order and the reasons in both languages; and
`spatial sites rank` writing the shortlist as CSV, on both backends."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from spatial.auth import SYSTEM
from spatial.cli import main as cli_main
from spatial.figures.site_finder import SiteCriteria, rank_sites
from spatial.store import accounts

PARKS = pd.DataFrame(
    {
        "park_id": ["P1", "P2"],
        "lead_clusters": [
            "半导体与集成电路;智能终端",
            "unknown (district list incl. 半导体与集成电路)",
        ],
    }
)
# site, level, park, readiness, land, capacity
SITES = pd.DataFrame(
    [
        ("A", "level1", "P1", "transferred", 40_000, 100_000),
        ("B", "level1", "P1", "reserve", 40_000, 150_000),
        ("C", "level2", None, "transferred", 60_000, 200_000),
        ("D", "outside", "P2", "transferred", 40_000, 300_000),
        ("E", "level1", "P2", "transferred", 10_000, 20_000),
    ],
    columns=["site_id", "control_level", "park_id", "readiness", "land_area_m2", "capacity_m2"],
)


def test_ranked_by_criteria_met_then_capacity():
    criteria = SiteCriteria(
        levels=("level1",), in_park=True, readiness=("transferred",), min_land_m2=30_000,
        cluster="半导体与集成电路",
    )  # fmt: skip
    ranked = rank_sites(SITES, PARKS, criteria)
    # met of 5: A all 5; B 4 (reserve); E 3 (land, cluster unknown); D 3 (outside, unknown);
    # C 2 (level2, no park, no cluster). Ties: more capacity first (D 300k before E 20k)
    assert ranked["site_id"].tolist() == ["A", "B", "D", "E", "C"]
    assert ranked["met"].tolist() == [5, 4, 3, 3, 2]
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5]
    reasons = ranked.set_index("site_id")
    assert reasons.loc["A", "reason_en"].endswith("misses: —")
    assert "misses: readiness as asked" in reasons.loc["B", "reason_en"]
    assert "（园区产业未公开）" in reasons.loc["E", "reason_zh"]
    assert "the park's clusters are unknown" in reasons.loc["D", "reason_en"]


def test_required_criteria_remove_the_sites_that_miss_them():
    criteria = SiteCriteria(in_park=True, min_capacity_m2=120_000, required=frozenset({"park"}))
    ranked = rank_sites(SITES, PARKS, criteria)
    # C is in no park; B meets level, park and capacity (3); D (outside), A and E (capacity
    # short) meet 2 each and follow by capacity
    assert ranked["site_id"].tolist() == ["B", "D", "A", "E"]
    with pytest.raises(ValueError):
        rank_sites(SITES, PARKS, SiteCriteria(required=frozenset({"cluster"})))  # not asked


def test_cli_sites_rank_writes_the_shortlist(seeded_store, db_url, tmp_path):
    accounts.add_user(seeded_store, SYSTEM, "admin", "admin")
    path = tmp_path / "shortlist.csv"
    out = io.StringIO()
    argv = ["--database-url", db_url, "sites", "rank", "--in-park", "--require", "park",
            "--min-capacity", "100000", "--json", "-o", str(path)]  # fmt: skip
    assert cli_main(argv, out=out) == 0
    payload = json.loads(out.getvalue())
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert [r["site_id"] for r in rows] == [s["site_id"] for s in payload["sites"]]
    assert all(s["park_id"] for s in payload["sites"])
    ranks = [s["rank"] for s in payload["sites"]]
    assert ranks == list(range(1, len(ranks) + 1))
    assert payload["criteria"]["required"] == ["park"]
