"""The garbage collector paused while an upload is read (spatial/ingest/collector.py): off
while any reader reads, back as it was when the last one leaves — also when a read fails."""

from __future__ import annotations

import gc
import threading

import pytest

from spatial.collector import CollectorPause
from spatial.ingest.findings import UploadRejected
from spatial.ingest.formats import read_upload


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_while_reading_and_back_after(collector_on):
    pause = CollectorPause()
    with pause.held():
        assert not gc.isenabled()
        with pause.held():  # a reader inside a reader
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on):
    gc.disable()
    with CollectorPause().held():
        pass
    assert not gc.isenabled()


def test_back_on_when_the_read_raises(collector_on):
    pause = CollectorPause()
    with pytest.raises(RuntimeError), pause.held():
        raise RuntimeError("boom")
    assert gc.isenabled()


@pytest.mark.parametrize(
    "name, data",
    [
        ("bad.geojson", b'{"type": "FeatureCollection", "features": [}'),
        ("empty.geojson", b"   "),
        ("deep.geojson", b"[" * 5000 + b"]" * 5000),
        ("a.shp", b"\x00\x00\x27\x0a"),
    ],
)
def test_a_rejected_upload_leaves_the_collector_on(collector_on, name, data):
    with pytest.raises(UploadRejected):
        read_upload(name, data)
    assert gc.isenabled()


def test_readers_in_threads_share_one_pause(collector_on):
    """The collector stays off until the last of several overlapping readers leaves."""
    pause = CollectorPause()
    inside, leave = threading.Barrier(3), threading.Event()
    seen: list[bool] = []

    def reader() -> None:
        with pause.held():
            inside.wait()
            leave.wait()
            seen.append(gc.isenabled())

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled()
    leave.set()
    for t in threads:
        t.join()
    assert seen == [False, False]  # each still inside its own read when it looked
    assert gc.isenabled()
