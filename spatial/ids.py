"""Feature ids (project_id, site_id): membership tests at register size.

pandas' ``isin`` on an Arrow string column builds one Arrow scalar per id asked for, and
numpy's ``isin`` on object arrays compares pairs: at 10⁵ ids both take seconds to minutes. An id
is a hashable string, so one hash lookup answers for every row."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def ids_in(values: Iterable, ids: Iterable) -> np.ndarray:
    """For each of ``values``, whether it is one of ``ids`` (booleans, in the order of
    ``values``); missing values are in only if ``ids`` holds a missing value too."""
    wanted = pd.Index(pd.unique(np.asarray(list(ids), dtype=object)))
    return wanted.get_indexer(np.asarray(list(values), dtype=object)) >= 0
