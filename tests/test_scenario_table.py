"""spatial.outputs.scenario_table: the comparison a planner takes away — Excel with how to read
it, CSV — values as read, typed notes kept as text a spreadsheet never runs; and the same
comparison as the progress report's last section."""

from __future__ import annotations

import html
import io
import json

import openpyxl
import pandas as pd
import pytest
from test_scenarios import ADMIN, PLANNER, store  # noqa: F401 - the fixture
from test_trajectory import AS_OF

from spatial.cli import main as cli_main
from spatial.figures.scenarios import change_scenario, compare_scenarios, create_scenario
from spatial.outputs.report import ReportRequest, progress_report
from spatial.outputs.scenario_table import comparison_csv, comparison_workbook, readable_comparison

NOTES = [
    '=HYPERLINK("http://127.0.0.1:9/x","点此")',
    "<img src=x onerror=alert(1)> 说明",
    "{{ 7*7 }}{% raw %} 说明",
]


LATE = {"kind": "move", "project_id": "P3", "stage": "started", "days": 366}


@pytest.fixture
def compared(store):  # noqa: F811 - the fixture imported above
    create_scenario(store, PLANNER, "late", NOTES[0])
    change_scenario(store, PLANNER, "late", LATE)
    return compare_scenarios(store, PLANNER, ["late"], AS_OF, draws=10)


def test_the_table_reads_as_the_figures_are(compared):
    shown = readable_comparison(compared, {"late": "P3 a year late"}, "zh")
    assert list(shown["方案"]) == ["基准", "late"] and list(shown["说明"]) == ["", "P3 a year late"]
    for i, row in compared.iterrows():
        year = row["year_met"]
        expected = "2030年前无法完成" if year is None or year != year else int(year)
        assert shown.loc[i, "预计完成承诺年份（P50）"] == expected
        assert shown.loc[i, "承诺期末累计 P50（㎡）"] == round(row["cumulative_p50_m2"])
    english = readable_comparison(compared, {}, "en")
    assert "Pledge met (P50)" in english.columns and english.loc[0, "Scenario"] == "baseline"


@pytest.mark.parametrize("note", NOTES)
def test_the_workbook_holds_the_comparison_and_its_method_and_runs_nothing(compared, tmp_path,
                                                                           note):  # fmt: skip
    path = tmp_path / "scenarios.xlsx"
    path.write_bytes(comparison_workbook(compared, {"late": note}, "zh", AS_OF.isoformat()))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["方案比较", "说明"]
    cells = [c for row in book.worksheets[0].iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]  # no formula anywhere
    table = pd.read_excel(path, sheet_name="方案比较")
    shown = table.loc[1, "说明"]
    assert shown in (note, "'" + note)  # kept, a leading '=' made text
    assert list(table["方案"]) == ["基准", "late"]
    method = pd.read_excel(path, sheet_name="说明")["说明"].tolist()
    assert method[0] == f"截至 {AS_OF.isoformat()}" and "不是台账" in method[1]
    csv = comparison_csv(compared, {"late": note}, "en").decode("utf-8-sig")
    assert ("\"'=HYPERLINK" in csv) == note.startswith("=")


def test_the_command_line_writes_the_workbook(store, db_url, tmp_path):  # noqa: F811
    create_scenario(store, PLANNER, "late")
    out = tmp_path / "compare.xlsx"
    code = cli_main(["--database-url", db_url, "scenario", "compare", "late", "--as-of",
                     AS_OF.isoformat(), "--draws", "5", "--lang", "en", "-o", str(out)],
                    out=io.StringIO())  # fmt: skip
    assert code == 0
    assert openpyxl.load_workbook(out).sheetnames == ["Comparison", "Method"]


@pytest.mark.parametrize("note", NOTES[1:])
def test_the_progress_report_compares_the_scenarios_in_a_last_section(store, note):  # noqa: F811
    create_scenario(store, PLANNER, "late", note)
    change_scenario(store, PLANNER, "late", LATE)
    plain = progress_report(store, ADMIN, ReportRequest(2025, AS_OF))
    assert 'id="scenarios-table"' not in plain.content.decode()
    result = progress_report(store, ADMIN, ReportRequest(2025, AS_OF, scenarios=("late",)))
    page = result.content.decode()
    assert 'id="scenarios-table"' in page and "六、方案比较（预测，不计入台账）" in page
    section = page.split('<section id="scenarios">')[1].split("</section>")[0]
    assert "<img" not in page
    assert html.escape(note, quote=False) in section  # shown as written, never run
    assert "49" not in section  # a template in a note is not evaluated
    assert result.report.by_year.equals(plain.report.by_year)  # the ledger is the same
    assert json.dumps(list(result.report.scenarios["scenario"])) == '["baseline", "late"]'
