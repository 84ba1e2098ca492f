"""The snapshot keeps each version's overlays in the store (computed once per version and per
reference data) and reads them back instead of joining again; a change of the reference data
makes them be computed again."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import create_engine, func, select, update

from spatial.auth import Principal, Role
from spatial.figures.overlays import with_overlays
from spatial.figures.snapshot import take_snapshot
from spatial.store.database import Store, open_store, project_overlays_table
from spatial.store.overlays import computed_overlays, reference_key
from spatial.store.reference_edits import replace_layer
from spatial.store.seed import seed_store

AS_OF = date(2026, 6, 30)
ADMIN = Principal("admin", Role.ADMIN)
DERIVED = ["located_district_id", "park_id", "park_basis", "control_level",
           "inside_control_line", "control_lines_quality", "clusters"]  # fmt: skip


def kept(store: Store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(select(project_overlays_table), conn)


def computed_now(store: Store) -> pd.DataFrame:
    """The overlays joined afresh, as the snapshot computed them before any were kept."""
    districts, parks = store.layer("districts"), store.layer("parks")
    lines = store.layer("control_lines")
    projects = store.projects()
    aliases, clusters = store.table("cluster_aliases"), store.table("clusters")
    overlays = computed_overlays(projects, districts, parks, lines, aliases, clusters)
    out = with_overlays(projects, overlays, lines)
    out["clusters"] = overlays["cluster_codes"].fillna("")
    return out.set_index("project_id")[DERIVED]


def derived(snapshot) -> pd.DataFrame:
    return snapshot.projects.set_index("project_id")[DERIVED]


def test_the_first_read_keeps_every_versions_overlays(seeded_store):
    revision = seeded_store.revision()
    assert kept(seeded_store).empty
    first = take_snapshot(seeded_store, AS_OF)
    rows = kept(seeded_store)
    assert set(rows["version_id"]) == set(first.projects["version_id"])
    assert rows["reference_key"].nunique() == 1
    assert seeded_store.revision() == revision  # derived data: the app's caches stay valid
    pd.testing.assert_frame_equal(derived(first), computed_now(seeded_store), check_dtype=False)
    assert first.projects["control_level"].isin(["level1", "level2"]).any()
    assert first.projects["located_district_id"].notna().any()
    assert first.projects["clusters"].str.len().gt(0).any()


def test_a_second_read_takes_the_kept_overlays(seeded_store):
    first = take_snapshot(seeded_store, AS_OF)
    one = first.projects[first.projects.geometry.notna()].iloc[0]
    with seeded_store.engine.begin() as conn:  # what was kept is what is read
        conn.execute(
            update(project_overlays_table)
            .where(project_overlays_table.c.version_id == int(one["version_id"]))
            .values(spatial_park_id="kept-here", cluster_codes="C99")
        )
    again = take_snapshot(seeded_store, AS_OF).projects.set_index("project_id")
    assert again.loc[one["project_id"], ["park_id", "park_basis"]].tolist() == [
        "kept-here", "spatial",
    ]  # fmt: skip
    assert again.loc[one["project_id"], "clusters"] == "C99"
    pd.testing.assert_frame_equal(
        derived(first).drop(index=one["project_id"]),
        again[DERIVED].drop(index=one["project_id"]),
        check_dtype=False,
    )


def test_a_changed_reference_layer_makes_them_computed_again(seeded_store):
    take_snapshot(seeded_store, AS_OF)
    old_key = kept(seeded_store)["reference_key"].iloc[0]
    revision = seeded_store.revision()
    projects = seeded_store.projects()
    target = projects[projects.geometry.notna()].iloc[0]
    parks = seeded_store.layer("parks")
    x, y = target.geometry.representative_point().coords[0]
    parks.loc[parks.index[0], "geometry"] = box(x - 0.001, y - 0.001, x + 0.001, y + 0.001)
    replace_layer(seeded_store, ADMIN, "parks", parks)
    assert seeded_store.revision() != revision  # the app reads the new snapshot
    after = take_snapshot(seeded_store, AS_OF).projects.set_index("project_id")
    assert after.loc[target["project_id"], "park_id"] == parks.iloc[0]["park_id"]
    assert after.loc[target["project_id"], "park_basis"] == "spatial"
    rows = kept(seeded_store)
    assert set(rows["reference_key"]) == {rows["reference_key"].iloc[0]} != {old_key}
    pd.testing.assert_frame_equal(after[DERIVED], computed_now(seeded_store), check_dtype=False)


def test_the_reference_key_follows_what_the_overlays_read(reference):
    layers = (reference.districts, reference.parks, reference.control_lines,
              reference.cluster_aliases, reference.clusters)  # fmt: skip
    key = reference_key(*layers)
    assert key == reference_key(*layers)
    assert key == reference_key(
        reference.districts.iloc[::-1], *layers[1:]
    )  # the order of the rows is not content
    moved = reference.control_lines.copy()
    moved["geometry"] = moved.geometry.translate(0.001, 0)
    relabelled = reference.control_lines.assign(level="level1")
    aliases = pd.concat([reference.cluster_aliases, reference.cluster_aliases.iloc[:1]
                         .assign(alias="新别名")])  # fmt: skip
    others = {
        reference_key(reference.districts, reference.parks, moved, *layers[3:]),
        reference_key(reference.districts, reference.parks, relabelled, *layers[3:]),
        reference_key(*layers[:3], aliases, reference.clusters),
    }
    assert key not in others and len(others) == 3


def test_only_versions_not_yet_kept_are_computed(seeded_store):
    take_snapshot(seeded_store, AS_OF)
    before = kept(seeded_store).set_index("version_id")
    one = seeded_store.projects().iloc[[0]]
    with seeded_store.transaction() as conn:
        seeded_store.write_project_versions(
            conn, one.assign(name_zh="改名"), at=pd.Timestamp("2026-03-01").to_pydatetime(),
            changed_by="t", change_kind="update", submission_id=None,
        )  # fmt: skip
    snap = take_snapshot(seeded_store, AS_OF)
    after = kept(seeded_store).set_index("version_id")
    new = set(after.index) - set(before.index)
    assert new == {int(snap.projects.set_index("project_id").loc[one["project_id"].iloc[0],
                                                                  "version_id"])}  # fmt: skip
    pd.testing.assert_frame_equal(after.loc[before.index], before)


def test_a_store_that_cannot_keep_them_still_gives_the_figures(tmp_path, reference, caplog):
    path = tmp_path / "spatial.db"
    store = open_store(f"sqlite:///{path}")
    seed_store(store, reference)
    expected = computed_now(store)
    store.engine.dispose()
    read_only = Store(create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))
    with caplog.at_level(logging.WARNING, logger="spatial.figures.snapshot"):
        snap = take_snapshot(read_only, AS_OF)
    pd.testing.assert_frame_equal(derived(snap), expected, check_dtype=False)
    assert "overlays not kept" in caplog.text
    with read_only.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(project_overlays_table)).scalar() == 0
    read_only.engine.dispose()


@pytest.mark.parametrize("as_of", [date(2024, 1, 1), AS_OF])
def test_an_earlier_date_reads_the_versions_of_that_date(seeded_store, as_of):
    snap = take_snapshot(seeded_store, as_of)
    rows = kept(seeded_store)
    assert set(snap.projects["version_id"]) <= set(rows["version_id"])


def test_a_reader_gives_the_figures_while_a_writer_holds_the_lock(tmp_path, reference, caplog):
    """SQLite: while an upload holds the write lock, a page's read still gives the figures (it
    waits OVERLAY_WAIT_MS to keep the overlays, not the writers' busy timeout), keeps
    nothing, and leaves its pooled connection with the writers' timeout."""
    from spatial.store.database import BUSY_TIMEOUT_MS, PROJECTS_LOCK

    store = open_store(f"sqlite:///{tmp_path / 'spatial.db'}")
    seed_store(store, reference)
    expected = computed_now(store)
    writing = store.transaction(lock=PROJECTS_LOCK)
    with writing, caplog.at_level(logging.WARNING, logger="spatial.figures.snapshot"):
        snap = take_snapshot(store, AS_OF)
    pd.testing.assert_frame_equal(derived(snap), expected, check_dtype=False)
    assert "overlays not kept" in caplog.text
    assert kept(store).empty
    take_snapshot(store, AS_OF)  # the lock released: the next read keeps them
    assert not kept(store).empty
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
    store.engine.dispose()
