"""One row of the summary table ``make bench`` writes to benchmarks/README.md: each benchmark
prints its own table and, for each step, a tab-separated ``ROW`` line that run_all.py
collects (step, size, this project, baseline, ratio, peak memory, what the baseline is)."""

from __future__ import annotations


def row(step: str, n: int, ours: str, base: str, ratio: float, peak: str, baseline: str) -> None:
    print("\t".join(["ROW", step, f"{n:,}", ours, base, f"{ratio:.2f}×", peak, baseline]))


RUNS = 3  # every timed step is run this many times and its median reported


def median_of(fn, *args, runs: int = RUNS, before=None):
    """(the last run's result, the median of ``runs`` wall-clock timings) of ``fn(*args)``;
    ``before()`` runs untimed ahead of each run (e.g. to make each one a first read)."""
    import statistics
    import time

    seconds, result = [], None
    for _ in range(runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        result = fn(*args)
        seconds.append(time.perf_counter() - t0)
    return result, statistics.median(seconds)
