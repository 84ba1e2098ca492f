"""spatial/ids.py: membership of ids, the same answers as Python's ``in`` over a set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spatial.ids import ids_in


@pytest.mark.parametrize(
    "values, ids",
    [
        (["A", "B", "C"], ["B"]),
        (["A", "B", None], {"A", None}),
        (pd.Series(["x", "y"], dtype="string[pyarrow]"), pd.Index(["y", "z"])),
        (pd.Index(["1", "2"]), ["1", 1]),  # "1" and 1 are different ids
        (np.array(["B", None, "C"], dtype=object), pd.Series(["C", "D"], dtype="str")),
        (pd.Series(["A", "B"], dtype="str"), pd.Series(["B"], dtype="string[python]")),
        (["A", 1, "1"], ["1"]),  # not all strings: looked up one by one
        ([], ["A"]),
        (["A"], []),
        ([f"P-{i}" for i in range(5000)], [f"P-{i}" for i in range(0, 10_000, 3)]),
    ],
)
def test_ids_in_answers_as_a_set_does(values, ids):
    wanted = set(ids)
    expected = [v in wanted for v in list(values)]
    assert ids_in(values, ids).tolist() == expected


def test_ids_given_once_through_are_read_once():
    """A generator of ids (not all strings: the lookup falls back) is read only once."""
    assert ids_in((v for v in ["A", 1, "B"]), (i for i in ["B", 1])).tolist() == [False, True, True]
