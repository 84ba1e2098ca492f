"""The progress report (进度报告) against a hand-computed store, as HTML and PDF, on both
backends; the PDF printed by Debian's Chromium and read back by PDFium (pypdfium2)."""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pypdfium2
import pytest

from spatial.auth import PermissionDenied, Principal, Role
from spatial.cli import main as cli_main
from spatial.crs import WGS84
from spatial.figures.counting import set_allocation, set_coverage_threshold, set_official_stage
from spatial.figures.snapshot import take_snapshot
from spatial.layers import PROJECT_FIELDS, Stage
from spatial.outputs.printing import PrintError, html_to_pdf
from spatial.outputs.report import (
    ReportError,
    ReportRequest,
    build_report,
    progress_report,
    report_as_of,
    report_html,
)
from spatial.store.database import Store
from spatial.store.reference import ReferenceData
from spatial.store.seed import SEED_TABLES

PLANNER = Principal("planner-li", Role.PLANNER)
BAOAN = Principal("ba-officer", Role.DISTRICT, "baoan")
HOSTILE = '<script>window.__xss=1</script>危险<img src=x onerror="window.__xss=2">'
PLEDGE = pd.DataFrame(
    {"year": range(2023, 2028), "target_m2": [20_000_000] * 5, "quality": "official"}
)

# id, status, total, factory, start, completion, delivery, district, declared park
FIXTURE = [
    ("A", "delivered", 150_000, 100_000, "2023-03-01", "2024-05-01", "2024-06-15", "baoan", "P01"),
    ("B", "completed", 200_000, None, "2023-06-01", "2025-02-01", None, "baoan", "P03"),
    ("C", "under_construction", 300_000, None, "2024-01-10", "2025-06-30", None, "longhua", "P08"),
    ("D", "planned", 50_000, None, None, None, None, "longhua", None),
    ("E", "delivered", 80_000, None, "2021-01-01", "2022-06-01", "2022-12-01", "nanshan", None),
    ("F", "delivered", 70_000, None, None, None, None, "nanshan", None),
    ("G", "under_construction", 40_000, None, "2025-03-01", "2029-12-31", None, "luohu", None),
    ("H", "delivered", 120_000, None, "2024-02-01", "2025-04-01", "2025-09-30", "baoan", "P01"),
]
AS_OF = date(2025, 12, 31)


def fixture_projects() -> gpd.GeoDataFrame:
    rows = []
    for pid, status, total, factory, start, done, delivered, district, park in FIXTURE:
        rows.append(
            dict.fromkeys(PROJECT_FIELDS)
            | {
                "project_id": pid,
                "name_zh": HOSTILE if pid == "C" else f"项目{pid}",  # C is overdue: listed
                "name_en": f"Project {pid}",
                "status": status,
                "floor_area_m2": total,
                "factory_floor_area_m2": factory,
                "start_date": start,
                "completion_date": done,
                "delivery_date": delivered,
                "district_id": district,
                "declared_park_id": park,
                "quality": "approximate",
                "location_quality": "missing",
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("floor_area_m2", "factory_floor_area_m2"):
        frame[column] = frame[column].astype(float)
    return gpd.GeoDataFrame(frame, geometry=[None] * len(rows), crs=WGS84)


@pytest.fixture
def report_store(empty_store: Store, reference: ReferenceData) -> Store:
    """The shipped layers and seed tables, the pledge above and the hand-computed projects."""
    store = empty_store
    with store.transaction() as conn:
        for name in ("districts", "parks", "control_lines"):
            store.replace_reference_layer(name, getattr(reference, name), conn=conn)
        for name in SEED_TABLES:
            store.replace_table(name, getattr(reference, name), conn)
        store.replace_table("pledge", PLEDGE.astype(str), conn)
        store.write_project_versions(
            conn,
            fixture_projects(),
            at=datetime(2023, 1, 1),
            changed_by="test",
            change_kind="create",
            submission_id=None,
        )
    return store


# -- which date a report is as of ---------------------------------------------------------------


@pytest.mark.parametrize(
    "year,as_of,today,expected",
    [
        (2025, None, date(2026, 3, 1), date(2025, 12, 31)),  # a past year: its last day
        (2026, None, date(2026, 3, 1), date(2026, 3, 1)),  # this year: today
        (2024, date(2025, 1, 15), date(2026, 3, 1), date(2025, 1, 15)),  # late data for 2024
        (2023, date(2023, 1, 1), date(2026, 3, 1), date(2023, 1, 1)),
    ],
)
def test_report_as_of(year, as_of, today, expected):
    assert report_as_of(year, as_of, PLEDGE, today) == expected


@pytest.mark.parametrize(
    "year,as_of,today,zh,en",
    [
        (2028, None, date(2026, 3, 1), "不在承诺期", "outside the pledge period (2023–2027)"),
        (2022, None, date(2026, 3, 1), "不在承诺期", "outside the pledge period"),
        (2027, None, date(2026, 3, 1), "尚未开始", "has not begun"),
        (2025, date(2024, 12, 31), date(2026, 3, 1), "早于 2025 年", "choose 2025-01-01"),
    ],
)
def test_report_as_of_refusals_say_why(year, as_of, today, zh, en):
    with pytest.raises(ReportError) as caught:
        report_as_of(year, as_of, PLEDGE, today)
    assert zh in caught.value.zh and en in caught.value.en


# -- the figures, hand-computed from FIXTURE ----------------------------------------------------


def test_year_status_after_the_year_closed(report_store):
    report = build_report(take_snapshot(report_store, AS_OF), 2025, Stage.DELIVERED)
    s = report.status
    assert not s.year_open  # 31 December counts to the end of the day: the year is over
    assert s.year_counted_m2 == 120_000  # H delivered 2025-09-30
    assert s.cumulative_m2 == 220_000  # + A's 100,000 m² factory area delivered in 2024
    assert s.cumulative_target_m2 == 60_000_000
    assert s.expected_m2 == 60_000_000
    assert not s.on_track
    assert s.remaining_m2 == 100_000_000 - 220_000
    assert s.remaining_years == 2  # 2026, 2027
    assert s.required_pace_m2 == pytest.approx((100_000_000 - 220_000) / 2)
    assert (report.before_period_m2, report.undated_projects) == (80_000, 1)  # E; F


def test_year_status_while_the_year_runs(report_store):
    as_of = date(2025, 7, 1)  # H not delivered yet; B completed; C not overdue (due 06-30? yes)
    report = build_report(take_snapshot(report_store, as_of), 2025, Stage.COMPLETED)
    s = report.status
    assert s.year_open and s.remaining_years == 3
    assert s.year_counted_m2 == 200_000 + 120_000  # B 2025-02-01, H 2025-04-01
    assert s.cumulative_m2 == 100_000 + 320_000  # A completed 2024
    day_fraction = as_of.timetuple().tm_yday / 365
    assert s.expected_m2 == pytest.approx(40_000_000 + 20_000_000 * day_fraction)
    assert report.overdue["project_id"].tolist() == ["C"]  # due 2025-06-30, not completed


def test_progress_by_district_and_park(report_store):
    report = build_report(take_snapshot(report_store, AS_OF), 2025, Stage.DELIVERED)
    d = report.by_district.set_index("district_id")
    assert len(d) == 11  # every district, with or without projects
    assert d.loc["baoan", ["started_m2", "completed_m2", "delivered_m2"]].tolist() == [
        0,
        320_000,  # B + H completed in 2025
        120_000,
    ]
    assert d.loc["baoan", "cumulative_m2"] == 220_000
    assert d.loc["baoan", "share"] == 1.0
    assert (d.loc["baoan", "projects"], d.loc["baoan", "overdue"]) == (3, 0)
    assert (d.loc["longhua", "projects"], d.loc["longhua", "overdue"]) == (2, 1)  # C, D
    assert d.loc["luohu", "started_m2"] == 40_000  # G started 2025-03-01
    assert d.loc["futian", "projects"] == 0
    assert report.by_district["district_id"].iloc[0] == "baoan"  # largest first
    p = report.by_park.set_index("park_id")
    assert len(p) == 21  # the 20 parks and '' for projects in none
    assert (p.loc["P01", "delivered_m2"], p.loc["P01", "cumulative_m2"]) == (120_000, 220_000)
    assert p.loc["P03", "completed_m2"] == 200_000
    assert (p.loc["P08", "projects"], p.loc["P08", "overdue"]) == (1, 1)
    assert p.loc["", "projects"] == 4  # D, E, F, G
    assert report.by_park["park_id"].iloc[-1] == ""  # "not in a park" comes last
    late = report.overdue
    assert late["project_id"].tolist() == ["C"]
    assert late["days_overdue"].iloc[0] == (AS_OF - date(2025, 6, 30)).days


# -- the HTML page ------------------------------------------------------------------------------


def _text(page: str) -> str:
    """Visible text of the report (tags stripped, entities decoded), for assertions."""
    body = re.sub(r"<style.*?</style>|<svg.*?</svg>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


class _Table(HTMLParser):
    """The body rows of one <table id=…>, as lists of cell texts (the standard-library parser)."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "td":
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def _row(page: str, table_id: str, first_cell: str) -> list[str]:
    parser = _Table(table_id)
    parser.feed(page)
    hits = [r for r in parser.rows if r and r[0] == first_cell]
    assert len(hits) == 1, (table_id, first_cell, [r[:1] for r in parser.rows])
    return hits[0]


def test_html_report_in_chinese(report_store):
    snap = take_snapshot(report_store, AS_OF)
    page = report_html(build_report(snap, 2025, Stage.DELIVERED), snap, "zh", "planner-li")
    text = _text(page)
    assert "深圳市新增工业厂房空间进度报告（2025年）" in text
    assert "每年建设/推出不少于 2000 万平方米" in text  # the pledge in its own words
    assert "统计截止 2025-12-31" in text and "计入口径：交付（官方口径：开工）" in text
    assert "范围：全市" in text
    assert "2025年已交付工业厂房空间 12.0 万㎡" in text  # 120,000 m²
    assert "累计 22.0 万㎡，判定（按官方口径“开工”）：数据不足" in text  # 8 of 72 projects
    assert _row(page, "district-table", "宝安区")[1:6] == [
        "0",
        "320,000",
        "120,000",
        "220,000",
        "100.0%",
    ]
    assert _row(page, "park-table", "燕罗先进制造业园区")[3:5] == ["120,000", "220,000"]
    assert _row(page, "overdue-table", "C")[1:3] == [HOSTILE, "龙华区"]  # as text
    assert _row(page, "overdue-table", "C")[6] == "184"
    assert "未计入：2023年前交付的面积 8.0 万㎡；状态已达到但缺日期的项目 1 个" in text
    assert "计入面积：来源单独报告厂房面积的取厂房面积" in text  # the counting rule
    assert "内置数据来自公开报道（8 个项目）" in text  # the data-coverage note
    assert "交付" in page.split('<section id="by-year">')[1].split("</svg>")[0]  # chart legend


def test_html_report_is_self_contained_and_escapes_uploaded_text(report_store):
    snap = take_snapshot(report_store, AS_OF)
    page = report_html(build_report(snap, 2025, Stage.DELIVERED), snap, "zh", "planner-li")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;危险&lt;img src=x onerror=" in page
    assert 'onerror="' not in page  # the attribute's quotes are escaped too
    assert "default-src 'none'" in page  # the browser may fetch nothing
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_html_report_in_english(report_store):
    snap = take_snapshot(report_store, AS_OF)
    page = report_html(build_report(snap, 2025, Stage.COMPLETED), snap, "en", "planner-li")
    text = _text(page)
    assert "Shenzhen new factory space: progress report 2025" in text
    assert "counted at: completed" in text
    assert "0.32 million m² of factory space was completed in 2025" in text
    assert _row(page, "district-table", "Bao'an")[2] == "320,000"
    assert "Overdue projects" in text and "Project C" in text
    assert "宝安区" not in text  # the district names are English too


# -- the verdict and the three stages ----------------------------------------------------------

# hand-computed from FIXTURE as of 2025-12-31 (no evidence column: every date confirmed)
# stage: (counted in 2025, counted 2023–2025, dated in 2025 but not counted)
PIPELINE = {
    "开工（官方口径）": (40_000, 760_000, 0),  # G in 2025; A, B, C, H before (E is 2021)
    "竣工": (320_000, 420_000, 300_000),  # B, H in 2025; A 2024; C due 2025-06-30, not done
    "交付": (120_000, 220_000, 0),  # H in 2025; A 2024
}


def test_the_report_leads_with_the_verdict_and_all_three_stages(report_store):
    snap = take_snapshot(report_store, AS_OF)
    report = build_report(snap, 2025)  # the official stage: 开工 by default
    assert report.stage == Stage.STARTED
    page = report_html(report, snap, "zh", "planner-li")
    verdict = _text(page.split('id="verdict"')[1].split("</div>")[0])
    # 8 projects registered against the 72 reported for 2023 Q1: no verdict on pace
    assert "判定（按官方口径“开工”）：数据不足" in verdict
    assert "库内登记少于公开报道的计划总量的 100%" in verdict
    assert "登记项目 8 个，公开报道 72 个（11%，2023-03-31，S21）" in verdict
    assert "登记计划厂房面积 96.0 万㎡，公开报道 2,306.5 万㎡（4%" in verdict
    assert "官方口径为默认值（本工具的解读）" in verdict
    for stage, (year, period, expected) in PIPELINE.items():
        row = _row(page, "pipeline-table", stage)
        assert row[1:] == [
            f"{year:,}",
            "20,000,000",
            f"{20_000_000 - year:,}",
            f"{period:,}",
            "100,000,000",
            f"{100_000_000 - period:,}",
            f"{expected:,}",
        ], stage
    assert "数据不足" in _text(page.split('id="kpi-verdict"')[1].split("</div>\n    </div>")[0])
    summary = _text(page.split('id="summary"')[1].split("</p>")[0])
    assert "落后" not in summary and "判定（按官方口径“开工”）：数据不足" in summary


def test_the_report_follows_the_official_stage_an_admin_sets(report_store):
    admin = Principal("admin", Role.ADMIN)
    set_official_stage(report_store, admin, "delivered", "按交付统计<b>理由</b>", "S25")
    set_coverage_threshold(report_store, admin, 0.04, "试算一下口径")
    result = progress_report(report_store, PLANNER, ReportRequest(2025, AS_OF))
    assert result.report.stage == Stage.DELIVERED
    page = result.content.decode()
    text = _text(page)
    assert "计入口径：交付（官方口径：交付）" in text
    assert "<b>理由</b>" not in page and "&lt;b&gt;理由&lt;/b&gt;" in page  # escaped
    verdict = _text(page.split('id="verdict"')[1].split("</div>")[0])
    assert "判定（按官方口径“交付”）：落后" in verdict  # 11 % and 4.2 % ≥ 4 %: judged, and behind
    assert "按进度截至 2025-12-31 应累计 6,000.0 万㎡，已计入 22.0 万㎡" in verdict
    assert "官方口径由 admin 于" in verdict and "理由：按交付统计<b>理由</b>" in verdict
    assert _row(page, "pipeline-table", "交付（官方口径）")[1] == "120,000"


def test_a_district_without_an_allocation_is_not_measured_against_the_city(report_store):
    result = progress_report(report_store, BAOAN, ReportRequest(2025, AS_OF))
    page = result.content.decode()
    text = _text(page)
    assert "判定（按官方口径“开工”）：不作判定" in text
    assert "本区尚无分解指标" in text
    # Bao'an started A, B and H: 420,000 of the city's 760,000 m²
    assert "占全市的 55.3%" in text
    assert _row(page, "pipeline-table", "开工（官方口径）")[1:] == [
        "0", "—", "—", "420,000", "—", "—", "0",
    ]  # fmt: skip
    by_year = page.split('<section id="by-year">')[1].split("</section>")[0]
    assert "20,000,000" not in by_year and "100,000,000" not in page  # no city target at all


def test_a_district_with_an_allocation_is_measured_against_it(report_store):
    admin = Principal("admin", Role.ADMIN)
    for year in range(2023, 2028):
        set_allocation(report_store, admin, "baoan", year, 200_000, "宝安区分解指标（测试）")
    result = progress_report(report_store, BAOAN, ReportRequest(2025, AS_OF))
    page = result.content.decode()
    verdict = _text(page.split('id="verdict"')[1].split("</div>")[0])
    # no accepted upload from Bao'an in the last quarter: its own register is not current
    assert "数据不足：本区最近一次成功上传早于一个季度" in verdict
    assert "按本区分解指标（来源：宝安区分解指标（测试））" in verdict
    assert _row(page, "pipeline-table", "开工（官方口径）")[1:] == [
        "0", "200,000", "200,000", "420,000", "1,000,000", "580,000", "0",
    ]  # fmt: skip
    assert "20,000,000" not in page


def test_the_report_in_english_names_the_verdict(report_store):
    snap = take_snapshot(report_store, AS_OF)
    page = report_html(build_report(snap, 2025), snap, "en", "planner-li")
    text = _text(page)
    assert "Verdict (official stage: started): insufficient data" in text
    assert "counted at: started (official stage: started)" in text
    assert "build / put on offer at least 20 million m²" in text
    assert _row(page, "pipeline-table", "started (official stage)")[1] == "40,000"


# -- the whole job: permissions, scope, audit, PDF ----------------------------------------------


def test_district_officer_report_covers_only_their_district(report_store):
    result = progress_report(report_store, BAOAN, ReportRequest(2025, AS_OF))
    report = result.report
    assert report.scope == ("baoan",)
    assert report.by_district["district_id"].tolist() == ["baoan"]
    assert report.overdue.empty  # C is in Longhua
    assert report.projects == 3
    text = _text(result.content.decode())
    assert "仅账号可读范围" in text and "危险" not in text
    event = report_store.audit("ba-officer").iloc[-1]
    assert (event["action"], event["target"]) == ("export", "progress_report")


def test_viewer_may_not_take_a_report(report_store):
    with pytest.raises(PermissionDenied) as caught:
        progress_report(report_store, Principal("vw", Role.VIEWER), ReportRequest(2025))
    assert "无权" in caught.value.zh


def test_pdf_report_printed_by_chromium_read_back_by_pdfium(report_store, tmp_path):
    result = progress_report(report_store, PLANNER, ReportRequest(2025, AS_OF, format="pdf"))
    assert result.filename == "progress_report_2025_2025-12-31.pdf"
    assert result.media_type == "application/pdf"
    pdf = pypdfium2.PdfDocument(result.content)
    pages = len(pdf)
    assert pages >= 2
    text = "\n".join(pdf[i].get_textpage().get_text_range() for i in range(pages))
    flat = re.sub(r"\s+", "", text)
    assert "深圳市新增工业厂房空间进度报告（2025年）" in flat  # CJK text, not missing glyphs
    assert "4.0万㎡" in flat  # started in 2025, the official stage
    assert "数据不足" in flat and "760,000" in flat  # the verdict, the pipeline
    assert "320,000" in flat and "184" in flat and "危险" in flat
    assert f"1/{pages}" in flat and f"{pages}/{pages}" in flat  # page numbers from @page
    first = pdf[0].render(scale=1).to_pil()
    assert first.size[0] < first.size[1]  # portrait A4
    darkest, lightest = first.convert("L").getextrema()
    assert darkest < 80 and lightest > 240  # ink on a white page, not a blank sheet
    first.save(tmp_path / "report_page1.png")
    events = report_store.audit("planner-li")
    assert events.iloc[-1]["target"] == "progress_report"


@pytest.mark.parametrize(
    "binary,zh,en",
    [
        ("/nonexistent/chromium", "找不到 Chromium", "Chromium was not found"),
        ("/bin/false", "打印 PDF 失败", "failed to print the PDF"),
    ],
)
def test_pdf_printing_failure_is_explained(monkeypatch, binary, zh, en):
    monkeypatch.setenv("SPATIAL_CHROMIUM", binary)
    with pytest.raises(PrintError) as caught:
        html_to_pdf("<html><body>x</body></html>")
    assert zh in caught.value.zh and en in caught.value.en


# -- the command line ---------------------------------------------------------------------------


def _cli(db_url: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli_main(["--database-url", db_url, *args], out=out)
    return code, out.getvalue()


@pytest.mark.parametrize("suffix", [".html", ".pdf"])
def test_cli_report(db_url, report_store, tmp_path: Path, suffix):
    from spatial.store import accounts

    accounts.add_user(report_store, Principal("admin", Role.ADMIN), "planner-li", "planner")
    target = tmp_path / f"report{suffix}"
    code, out = _cli(
        db_url, "report", "--year", "2025", "--as-of", "2025-12-31", "--user", "planner-li",
        "-o", str(target), "--lang", "en",
    )  # fmt: skip
    assert code == 0, out
    assert "2025 started 40,000 m² of 20,000,000" in out  # the official stage by default
    assert "verdict insufficient_data" in out
    data = target.read_bytes()
    if suffix == ".pdf":
        assert data.startswith(b"%PDF")
        first = pypdfium2.PdfDocument(data)[0].get_textpage().get_text_range()
        assert "progress report 2025" in first
    else:
        assert "Shenzhen new factory space: progress report 2025" in data.decode()


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["--year", "2031", "-o", "r.pdf"], 1, "outside the pledge period"),
        (["--year", "2025", "-o", "r.docx"], 2, "FILE.html or FILE.pdf"),
        (["--year", "2025", "--as-of", "2024-01-01", "-o", "r.html"], 1, "before 2025"),
    ],
)
def test_cli_report_refusals(db_url, report_store, tmp_path, capsys, args, code, message):
    from spatial.store import accounts

    accounts.ensure_admin(report_store)  # the command acts as admin by default (spatial init)
    folder = tmp_path / "out"
    folder.mkdir()
    args = [str(folder / a) if a.startswith("r.") else a for a in args]
    assert _cli(db_url, "report", *args)[0] == code
    assert message in capsys.readouterr().err
    assert not any(folder.iterdir())  # nothing written


def test_the_pdf_printer_fetches_nothing(tmp_path):
    """Even a page that asks for remote and local resources gets none of them when printed."""
    import http.server
    import threading

    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    page = (
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/style.css"></head>'
        f'<body>本地页面<img src="http://127.0.0.1:{port}/pixel.png">'
        '<img src="https://tile.openstreetmap.org/1/1/1.png"></body></html>'
    )
    try:
        pdf = html_to_pdf(page)
    finally:
        server.shutdown()
    assert requests == []
    assert "本地页面" in pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
