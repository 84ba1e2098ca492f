"""Text that a spreadsheet opens must stay text (CSV / formula injection, issue 9).

Excel, WPS and LibreOffice run a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(…)``, DDE ``=cmd|' /C calc'!A0``), and tab or carriage return can hide the lead.
Uploaded names, sources, comments and even a failed sign-in's user name reach our CSV and
Excel files. As OWASP recommends, every such text cell is written with a leading apostrophe
(``'=1+1``), which spreadsheets show as text; fullwidth leads (``＝ ＋ － ＠``), which Chinese
input methods produce and some spreadsheets accept, are treated alike. Numbers stay numbers.

In .xlsx files no cell is ever written as a formula: :func:`text_only_workbook` turns any cell
openpyxl would store as a formula into a string cell.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def neutralise(value):
    """``value`` with a leading apostrophe when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell and column name neutralised (numbers untouched). A text
    column stays a text column (its cells found and changed in Arrow, not one by one as
    Python strings: at 10⁵ projects that held 130 MB more); a column of mixed objects is
    looked at value by value."""
    out = frame.copy(deep=False)  # columns are replaced, never changed in place
    for col in out.columns:
        column = out[col]
        if col == getattr(out, "_geometry_column_name", None):
            continue
        if column.dtype == object:
            out[col] = column.map(neutralise).astype(object)
        elif pd.api.types.is_string_dtype(column):
            runs = column.str.startswith(FORMULA_LEADS).fillna(False).astype(bool)
            if runs.any():
                out[col] = column.where(~runs, "'" + column)
    return out.rename(columns=lambda c: neutralise(c) if isinstance(c, str) else c)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A CSV that Excel opens as UTF-8 (BOM) with every text cell neutralised and quoted (a
    bare carriage return inside an unquoted cell would start a new row)."""
    text = neutralise_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8-sig")


def text_only_workbook(path: Path) -> int:
    """Rewrite an .xlsx so that no cell is a formula: each becomes the text it holds.
    Returns how many cells were changed."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    changed = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.value = str(cell.value)
                    cell.data_type = "s"
                    changed += 1
    if changed:
        book.save(path)
    return changed
