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
