"""Many users at once, and a process killed mid-commit — on SQLite and on PostGIS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
from sqlalchemy import select

from spatial.auth import Principal, Role
from spatial.ingest import submissions as sub
from spatial.ingest.upload import UploadOptions
from spatial.store.database import open_store, project_versions_table

from conftest import ROOT

OFFICER = Principal("officer", Role.DISTRICT, "baoan")


def upload(n: int) -> bytes:
    """Upload n: its own project BA-N, plus a new floor area for the shared REF-003."""
    features = [
        {
            "type": "Feature",
            "properties": {
                "项目编号": f"BA-{n}",
                "项目名称": f"并发{n}",
                "状态": "在建",
                "总建筑面积": 1000 * (n + 1),
                "开工日期": "2025-01-01",
            },
            "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
        },
        {
            "type": "Feature",
            "properties": {
                "项目编号": "REF-003",
                "项目名称": "燕罗智能网联汽车产业园(一期)",
                "状态": "交付",
                "总建筑面积": 360000 + n,
                "厂房面积": 265000,
                "开工日期": "2023-03-06",
                "竣工日期": "2024-04-30",
                "交付日期": "2024-04-30",
            },
            "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
        },
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features}, ensure_ascii=False
    ).encode()


def versions(store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(select(project_versions_table).order_by("version_id"), conn)


def test_ten_uploads_at_the_same_time(db_url, seeded_store):
    # each thread opens its own store, as separate app sessions or processes would
    results, errors = {}, {}
    barrier = threading.Barrier(10, timeout=60)
    stores = [open_store(db_url) for _ in range(10)]

    def one(n: int) -> None:
        store = stores[n]
        try:
            barrier.wait()
            results[n] = sub.submit(
                store, f"u{n}.geojson", upload(n), UploadOptions("baoan"), OFFICER
            )
        except Exception as exc:  # collected: the test shows them
            errors[n] = repr(exc)
        finally:
            store.engine.dispose()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == {}, errors
    assert all(result[2] is not None for result in results.values())  # all committed whole
    store = seeded_store
    current = store.projects().set_index("project_id")
    assert {f"BA-{n}" for n in range(10)} <= set(current.index)
    history = versions(store)
    ref = history[history["project_id"] == "REF-003"]
    assert len(ref) == 11 and ref["valid_to"].isna().sum() == 1  # a chain, no lost update
    # the final state equals applying the uploads one by one, in commit order
    order = ref.iloc[1:]["submission_id"].tolist()
    last = next(n for n, r in results.items() if r[0] == order[-1])
    assert current.loc["REF-003", "floor_area_m2"] == 360000 + last
    chain = ref.sort_values("version_id")
    assert (chain["valid_to"].iloc[:-1].to_numpy() == chain["valid_from"].iloc[1:].to_numpy()).all()
    statuses = {r.status for r in store.submissions("baoan")}
    assert statuses == {"committed"}


CRASHER = textwrap.dedent(
    """
    import json, os, sys
    from spatial.ingest import submissions as sub
    from spatial.auth import Principal, Role
    from spatial.ingest.upload import UploadOptions
    from spatial.store.database import open_store
    store = open_store(os.environ["DATABASE_URL"])
    officer = Principal("officer", Role.DISTRICT, "baoan")
    sid = sub.receive(store, "crash.geojson", sys.stdin.buffer.read(), "baoan", officer)
    print(sid, flush=True)
    sub.validate(store, sid, UploadOptions("baoan"))
    print("committing", flush=True)
    sub.commit(store, sid, officer)  # SPATIAL_FAULT_PAUSE holds it before COMMIT
    print("committed", flush=True)
    """
)


def test_a_commit_killed_midway_leaves_the_store_as_it_was(db_url, seeded_store):
    before = versions(seeded_store)
    data = upload(1)
    env = os.environ | {"DATABASE_URL": db_url, "SPATIAL_FAULT_PAUSE": "commit:60"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=False,
    )
    proc.stdin.write(data)
    proc.stdin.close()
    sid = int(proc.stdout.readline())
    assert proc.stdout.readline().strip() == b"committing"
    time.sleep(2.0)  # inside the commit transaction, versions written, not committed
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    store = open_store(db_url)  # a fresh connection, as after a restart
    pd.testing.assert_frame_equal(before, versions(store))
    record = store.submission(sid)
    assert record.status == "validated"
    assert store.submission_content(sid) == data
    # and the store still works: the same upload commits now
    sub.validate(store, sid, UploadOptions("baoan"))
    assert sub.commit(store, sid, OFFICER).created == 1
    store.engine.dispose()
