"""Python's cyclic garbage collector paused while a bulk read builds its rows.

Parsing a register, or reading a city's projects from the store, builds millions of small
objects (a dict and lists per feature; a tuple and values per row) that live until the read
ends. Each allocation burst makes the collector walk every one of them, and walk them again —
a third of ``spatial validate``'s time at 10⁵ features, a seventh of a page's snapshot —
while none of them can be garbage: they are freed by reference counting when the read ends.
So such a read runs with the collector paused, and the pause ends with the last reader
(readers in other threads of the app share one pause; the collector's state before the first
is restored). Reference cycles made meanwhile are collected after it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CollectorPause:
    """Counts the readers inside :meth:`held`; the collector is off while there is one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers = 0
        self._was_enabled = False

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._readers == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._readers += 1
        try:
            yield
        finally:
            with self._lock:
                self._readers -= 1
                if self._readers == 0 and self._was_enabled:
                    gc.enable()


PAUSE = CollectorPause()


def collector_paused():
    """``with collector_paused(): …`` — the collector off until the last reader leaves."""
    return PAUSE.held()
