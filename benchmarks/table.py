"""One row of the summary table ``make bench`` writes to benchmarks/README.md: each benchmark
prints its own table and, for each step, a tab-separated ``ROW`` line that run_all.py
collects (step, size, this project, baseline, ratio, peak memory, what the baseline is)."""

from __future__ import annotations


def row(step: str, n: int, ours: str, base: str, ratio: float, peak: str, baseline: str) -> None:
    print("\t".join(["ROW", step, f"{n:,}", ours, base, f"{ratio:.2f}×", peak, baseline]))
