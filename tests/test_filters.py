"""Project filters (spatial.figures.filters): the projects behind a dashboard figure add up
to it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from spatial.figures.filters import CountedAt, ProjectFilter, search_projects
from spatial.figures.ledger import counted_area
from spatial.figures.snapshot import take_snapshot
from spatial.layers import Stage

AS_OF = date(2026, 11, 23)


@pytest.mark.parametrize("stage", list(Stage))
def test_the_projects_behind_each_figure_add_up_to_it(seeded_store, stage):
    snap = take_snapshot(seeded_store, AS_OF)
    ledger = snap.ledger(stage)
    by_year = ledger.by_year.set_index("year")
    for year in by_year.index:
        shown = ProjectFilter(counted=CountedAt(stage, year, year, AS_OF)).apply(snap.projects)
        assert counted_area(shown).fillna(0).sum() == pytest.approx(
            by_year.loc[year, f"{stage.value}_m2"]
        ), year
    s = ledger.summary
    period = CountedAt(stage, s.period_start, s.year, AS_OF)
    shown = ProjectFilter(counted=period).apply(snap.projects)
    assert counted_area(shown).fillna(0).sum() == pytest.approx(s.cumulative_m2)


def test_a_figure_filter_combines_with_the_others_and_says_what_it_is(seeded_store):
    snap = take_snapshot(seeded_store, AS_OF)
    counted = CountedAt(Stage.STARTED, 2023, 2026, AS_OF)
    every = ProjectFilter(counted=counted).apply(snap.projects)
    assert len(every) > 1  # the shipped data has several projects started in the period
    one = every["district_id"].iloc[0]
    both = ProjectFilter(districts=(one,), counted=counted).apply(snap.projects)
    assert set(both["district_id"]) == {one} and len(both) <= len(every)
    assert ProjectFilter(counted=counted).describe()["counted"] == {
        "stage": "started",
        "first_year": 2023,
        "last_year": 2026,
        "as_of": "2026-11-23",
    }
    # a planned stage is never behind a counted figure
    planned = snap.projects["start_evidence"].eq("planned")
    assert not every["project_id"].isin(snap.projects.loc[planned, "project_id"]).any()


def _register() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": ["A-10", "A-1", "B-1", "X-A-1", "C-2"],
            "name_zh": ["光明一号", "宝安厂房", None, "坪山(园区)", "含 A-1 的名字"],
            "name_en": ["Guangming 1", None, "Longgang plant", "Pingshan [park]", "x"],
        }
    )


@pytest.mark.parametrize(
    "typed, found",
    [
        ("A-1", ["A-1", "A-10", "C-2", "X-A-1"]),  # the exact id, ids starting so, the rest
        ("  a-1 ", ["A-1", "A-10", "C-2", "X-A-1"]),  # case and spaces ignored
        ("宝安", ["A-1"]),
        ("longgang", ["B-1"]),  # the English name
        ("(园区)", ["X-A-1"]),  # brackets matched as text, not as a pattern
        ("[park]", ["X-A-1"]),
        (".*", []),
        ("", []),
    ],
)
def test_search_projects_finds_ids_and_names_literally(typed, found):
    assert search_projects(_register(), typed)["project_id"].tolist() == found


def test_search_projects_stops_at_its_limit():
    assert len(search_projects(_register(), "-", limit=2)) == 2
