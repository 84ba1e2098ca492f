"""Frames read in parts, joined into the frame one read of all the rows would have given.

A large read — a register parsed a slice of features at a time, the store's rows fetched a
batch at a time — keeps one part's Python objects alive, not every row's. But pandas infers a
column's type from all of its values (``DataFrame.from_records``, ``read_sql``): whole numbers
with a missing value become floats, text beside numbers stays objects. So a part's column is
joined with the others only where putting them end to end gives what inferring it at once
would: the same type in every part; text (or floats, or whole numbers becoming floats) beside
parts where the column is only missing; booleans beside objects. Any other column is left to
the caller, which reads it again whole (:func:`join_parts` names them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_NUMBERS = {"int64", "float64"}
_PAST_INT64 = 2.0**63  # whole numbers this large were uint64 or objects when read at once


def join_parts(parts: list[pd.DataFrame]) -> tuple[dict[str, pd.Series], list[str]]:
    """Each column of ``parts`` (frames of consecutive rows, as read) joined where that is
    exact, in first-seen order; and the names of the columns that are not (read them again
    at once). A part without a column holds it missing (NaN), as ``from_records`` gives."""
    names = list(dict.fromkeys(c for part in parts for c in part.columns))
    joined, left = {}, []
    for name in names:
        column = _joined(parts, name)
        if column is None:
            left.append(name)
        else:
            joined[name] = column
    return joined, left


def _joined(parts: list[pd.DataFrame], name: str) -> pd.Series | None:
    """``name`` joined over ``parts``; None where that might differ from reading it at once."""
    pieces = [part[name] if name in part.columns else None for part in parts]
    # a NULL in every row (inferred as objects), or no such column: asked once per piece
    nothing = [p is None or _only_none(p) for p in pieces]
    present = [p for p in pieces if p is not None]
    absent = len(present) < len(pieces)
    empty = [e for p, e in zip(pieces, nothing, strict=True) if p is not None]
    typed = [p for p, e in zip(present, empty, strict=True) if not e]
    kinds = {str(p.dtype) for p in typed}
    if any((p.abs() >= _PAST_INT64).any() for p in typed if p.dtype == np.float64):
        return None  # whole numbers past int64 may have been here: read at once, objects
    if len(kinds) == 1 and not absent and not any(empty):
        target = typed[0].dtype  # the same type in every part
    elif kinds == {"str"} or (len(kinds) == 1 and next(iter(kinds)).startswith("datetime64")):
        target = typed[0].dtype  # text or instants beside missing ones
    elif kinds and kinds <= _NUMBERS:
        target = np.dtype("float64")  # whole numbers beside missing ones or fractions
    elif kinds <= {"bool", "object"} and (not absent or "bool" in kinds):
        target = np.dtype(object)  # booleans beside None; objects beside objects
    else:
        return None
    objects = target == np.dtype(object)
    out = [
        piece.astype(target)
        if piece is not None and (objects or not none)
        else _missing(len(part), target)
        for part, piece, none in zip(parts, pieces, nothing, strict=True)
    ]
    return pd.concat(out, ignore_index=True) if len(out) > 1 else out[0].reset_index(drop=True)


def _only_none(column: pd.Series) -> bool:
    """Whether an object column holds None in every row (stops at the first other value)."""
    return column.dtype == object and all(v is None for v in column.to_numpy())


def _missing(rows: int, dtype) -> pd.Series:
    """A part without the column (or with only None in it): missing values of ``dtype``."""
    missing = pd.Series(np.full(rows, np.nan, dtype=object), dtype=object)
    return missing if dtype == np.dtype(object) else missing.astype(dtype)
