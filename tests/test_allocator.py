"""spatial.allocator: Arrow's buffers come from the system allocator once spatial is imported,
unless the environment names a pool (what it saves is measured by benchmarks/bench_ingest.py,
not asserted here)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROGRAM = """
import spatial, pyarrow as pa, pandas as pd
column = pd.Series(["测试项目", " 宝安 "], dtype="str").str.strip()  # buffers from the pool
print(pa.default_memory_pool().backend_name, column.str.len().sum())
"""


def run(pool: str | None) -> tuple[str, int]:
    """The pool a fresh process importing spatial uses, and what its text rule found."""
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if pool:
        env["ARROW_DEFAULT_MEMORY_POOL"] = pool
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], int(out[1])


def test_importing_spatial_makes_the_system_allocator_arrows_pool():
    assert run(None) == ("system", 6)


@pytest.mark.parametrize("pool", ["mimalloc", "jemalloc"])
def test_a_pool_named_in_the_environment_wins(pool):
    assert run(pool) == (pool, 6)


TRIM_PROGRAM = """
import ctypes, ctypes.util
from pathlib import Path
from spatial.allocator import hand_back_freed_memory

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) // 1024
blocks = [libc.malloc(64 * 1024) for _ in range(1000)]  # 64 MB from the heap, not mapped
for b in blocks:
    ctypes.memset(b, 1, 64 * 1024)  # resident
pin = libc.malloc(64 * 1024)  # above them: the heap's top is not free, so not given back
for b in blocks:
    libc.free(b)
before = rss()
print(hand_back_freed_memory(), before - rss())
"""


def test_freed_heap_pages_are_handed_back_to_the_system():
    """64 MB freed in the middle of the heap stay resident until handed back."""
    out = subprocess.run(
        [sys.executable, "-c", TRIM_PROGRAM], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 48  # MB returned
