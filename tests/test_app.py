"""Each page of the app through streamlit.testing.v1.AppTest, on a real seeded SQLite file."""

from __future__ import annotations

import json
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from spatial.auth import Principal, Role
from spatial.clock import shenzhen_today
from spatial.figures.counting import set_allocation
from spatial.figures.snapshot import take_snapshot
from spatial.i18n import t
from spatial.layers import Stage
from spatial.store import accounts
from spatial.store.database import open_store

from conftest import BACKENDS, ROOT, fresh_database

PAGES = "spatial/ui/pages"

# The pages are thin over the library, whose every store test runs on both backends: a page
# runs on SQLite, and the flows that write through a page (uploads, sites, comments, settings,
# users, scenarios) on PostGIS too (BOTH).
BOTH = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)


@pytest.fixture(params=["sqlite"])
def db_url(request, tmp_path):
    yield from fresh_database(request.param, tmp_path)


ADMIN = Principal("admin", Role.ADMIN)
SYSTEM = Principal("system", Role.ADMIN)


def session_for(db_url, who: Principal) -> accounts.Session:
    """A signed-in session of ``who`` (the account is created when missing)."""
    store = open_store(db_url)
    try:
        if store.user(who.user_name) is None:
            accounts.add_user(store, SYSTEM, who.user_name, who.role, who.district_id)
            store.update_user(who.user_name, must_change_password=False)
        return accounts.start_session(store, who)
    finally:
        store.engine.dispose()


def signed_in(db_url, monkeypatch, who: Principal | None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if who is not None:
        at.session_state["session"] = session_for(db_url, who)
    return at.run()


@pytest.fixture
def app(db_url, seeded_store, monkeypatch) -> AppTest:
    return signed_in(db_url, monkeypatch, ADMIN)


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_dashboard_in_chinese(app):
    no_errors(app)
    assert app.title[0].value == "总览"
    labels = [m.label for m in app.metric]
    for stage in ("开工", "竣工", "交付"):  # all three stages side by side, none hidden
        assert any(label.endswith(f"年{stage}") for label in labels), labels
    assert sum("2023—2027" in label for label in labels) == 3
    pipeline = [m for m in app.metric if "年" in m.label and "登记" not in m.label]
    assert all("万㎡" in m.value for m in pipeline)
    assert any("差" in p.proto.text for p in app.get("progress"))  # the gap in 万㎡
    # the shipped register holds 34 of the 72 projects reported: no verdict but 数据不足
    assert any("数据不足" in w.value for w in app.warning)
    assert not any("落后" in e.value for e in app.error)
    assert any("范围：全市" in c.value for c in app.caption)
    assert any("官方口径为默认值" in c.value for c in app.caption)
    assert any("统计口径" in i.value for i in app.info)  # the counting rule beside the figures
    # tables group thousands like the headline (1,030,380), years stay plain
    configs = [json.loads(d.proto.columns) for d in app.dataframe]
    config = next(c for c in configs if "目标（㎡）" in c)
    assert config["目标（㎡）"]["type_config"]["format"] == "localized"
    assert "年份" not in config


def test_a_future_as_of_date_says_it_is_not_a_forecast(app):
    assert not any("不是预测" in c.value for c in app.sidebar.caption)
    app.sidebar.date_input(key="as_of").set_value(date(2027, 12, 31)).run()
    no_errors(app)
    assert any("不是预测" in c.value for c in app.sidebar.caption)


def test_dashboard_stage_and_as_of(app):
    assert app.sidebar.radio(key="stage__zh").value == "started"  # the official stage
    app.sidebar.radio(key="stage__zh").set_value("completed").run()
    no_errors(app)
    from datetime import date

    app.sidebar.date_input(key="as_of").set_value(date(2024, 6, 30)).run()
    no_errors(app)
    assert "2024年" in app.metric[0].label
    assert app.sidebar.radio(key="stage__zh").value == "completed"


def test_the_stage_choice_survives_a_language_switch(app):
    app.sidebar.radio(key="stage__zh").set_value("delivered").run()
    app.sidebar.radio(key="lang").set_value("en").run()
    no_errors(app)
    assert app.sidebar.radio(key="stage__en").value == "delivered"
    app.sidebar.radio(key="lang").set_value("zh").run()
    assert app.sidebar.radio(key="stage__zh").value == "delivered"


def test_english_switch(app):
    app.sidebar.radio(key="lang").set_value("en").run()
    no_errors(app)
    assert app.title[0].value == "Dashboard"
    assert any("million m²" in m.value for m in app.metric)


def _map_args(at: AppTest) -> dict:
    for element in at.main:
        proto = getattr(element, "proto", None)
        if (
            proto is not None
            and hasattr(proto, "json_args")
            and "streamlit_folium" in str(getattr(proto, "component_name", ""))
        ):
            return json.loads(proto.json_args)
    raise AssertionError("no streamlit-folium component on the page")


def test_map_page(app):
    app.switch_page(f"{PAGES}/mapview.py").run()
    no_errors(app)
    args = _map_args(app)
    assert all(
        link.startswith("/app/static/vendor/") for link in args["js_links"] + args["css_links"]
    )
    script = args["script"]
    assert script.count("L.geoJSON(") == 5
    assert "sz-legend" in script


@pytest.mark.parametrize("typed", ["宝安", "Bao'an", "baoan", "BAOAN", "宝安区"])
def test_a_district_typed_as_people_write_it_filters_and_survives_a_language_switch(app, typed):
    app.switch_page(f"{PAGES}/mapview.py").run()
    app.sidebar.multiselect(key="map_district__zh").set_value([typed]).run()
    no_errors(app)
    shown = [w for w in app.sidebar.multiselect if w.label == "行政区"][0]
    assert shown.value == ["宝安区"]
    script = _map_args(app)["script"]
    assert "REF-001" in script and "REF-017" not in script  # 宝安 in, 光明 out
    app.sidebar.radio(key="lang").set_value("en").run()
    no_errors(app)
    shown = [w for w in app.sidebar.multiselect if w.label == "District"][0]
    assert shown.value == ["Bao'an"]


@pytest.mark.parametrize("typed", ["Atlantis", "**Atlantis**", "[Atlantis](javascript:alert(1))"])
def test_a_district_name_that_matches_none_is_said_as_typed(app, typed):
    """The warning repeats what was typed as text: markdown in it is not drawn."""
    app.switch_page(f"{PAGES}/mapview.py").run()
    app.sidebar.multiselect(key="map_district__zh").set_value([typed]).run()
    no_errors(app)
    shown = [w.value for w in app.sidebar.warning]
    assert shown and all("\\" in v for v in shown if v.count("*") or "[" in v)
    assert all("Atlantis" in v and "宝安区" in v for v in shown)


def test_a_district_name_that_matches_none_is_said(app):
    app.switch_page(f"{PAGES}/mapview.py").run()
    app.sidebar.multiselect(key="map_district__zh").set_value(["Atlantis"]).run()
    no_errors(app)
    assert any("Atlantis" in w.value and "宝安区" in w.value for w in app.sidebar.warning)
    shown = [w for w in app.sidebar.multiselect if w.label == "行政区"][0]
    assert shown.value == []


def test_map_filters(app):
    app.switch_page(f"{PAGES}/mapview.py").run()
    app.sidebar.multiselect(key="map_district__zh").set_value(["光明区"]).run()
    no_errors(app)
    assert "显示 " in app.caption[0].value
    script = _map_args(app)["script"]
    assert "REF-017" in script and "REF-001" not in script  # 光明 in, 宝安 out
    year = app.sidebar.selectbox(key="map_year")
    assert year.label == "年份（开工、竣工或交付日期）"  # says which date it filters on


@pytest.mark.parametrize("selected", [None, "Z-404", "B", "C"])
def test_the_map_table_highlights_the_selected_row_only_when_it_is_there(selected):
    """The table under the map is styled only to highlight the selected project's row: with
    no such row it is handed over as it is (a Styler renders every cell again on each run)."""
    import pandas as pd

    from spatial.ui.mapview import _highlighted

    table = pd.DataFrame({"ID": ["A", "B", "C"], "名称": ["甲", "乙", "丙"]}, index=[7, 8, 9])
    shown = _highlighted(table, selected)
    if selected not in set(table["ID"]):
        assert shown is table
        return
    row = list(table["ID"]).index(selected)
    styles = shown._compute().ctx  # (row, column) -> the cell's CSS
    assert {cell for cell, css in styles.items() if css} == {(row, 0), (row, 1)}
    assert all(css == [("background-color", "#fff3b0")] for css in styles.values() if css)


def test_projects_page(app):
    app.switch_page(f"{PAGES}/projects.py").run()
    no_errors(app)
    table = app.dataframe[0].value
    assert len(table) == 34
    for column in ("园区", "位于区块线内", "数据质量", "来源"):
        assert column in table.columns
    app.sidebar.multiselect(key="projects_status").set_value(["delivered"]).run()
    assert set(app.dataframe[0].value["状态"]) == {"交付/运营"}


def test_a_long_register_is_shown_a_page_at_a_time(app, monkeypatch):
    """Above TABLE_ROWS the table shows one page in id order and says which; above
    LISTED_UP_TO the comment box searches what is typed instead of listing every project.
    (The limits are lowered here so the shipped 34 projects are a long register.)"""
    monkeypatch.setattr("spatial.ui.projects.TABLE_ROWS", 10)
    monkeypatch.setattr("spatial.ui.projects.LISTED_UP_TO", 20)
    app.switch_page(f"{PAGES}/projects.py").run()
    no_errors(app)
    first = app.dataframe[0].value
    assert len(first) == 10 and list(first["ID"]) == sorted(first["ID"])
    assert any("第 1–10 个" in c.value and "共 34 个" in c.value for c in app.caption)
    app.number_input(key="projects_page").set_value(4).run()
    last = app.dataframe[0].value
    assert len(last) == 4 and min(last["ID"]) > max(first["ID"])
    assert any("第 31–34 个" in c.value for c in app.caption)
    assert "comment_project" not in [s.key for s in app.selectbox]  # nothing listed yet
    wanted = last["ID"].iloc[0]
    app.text_input(key="comment_search").input(wanted.lower()).run()
    no_errors(app)
    assert app.selectbox(key="comment_project").value == wanted
    app.text_input(key="comment_search").input("no such project").run()
    assert "comment_project" not in [s.key for s in app.selectbox]
    assert any("没有编号或名称含此文字的项目" in c.value for c in app.caption)


@pytest.mark.parametrize(
    "typed",
    ['<script>alert(1)</script>', "{{ 7*7 }}", "'; DROP TABLE comments; --", ".*", "=1+1",
     "[[", "\\", "%s%s%n", "😀\u202e"],
)  # fmt: skip
def test_the_comment_search_takes_hostile_text_literally(app, monkeypatch, typed):
    """Typed text is matched literally (no pattern, no template, no SQL): it finds nothing
    here, says so, and the page keeps working — the comments table is still there."""
    monkeypatch.setattr("spatial.ui.projects.LISTED_UP_TO", 20)
    app.switch_page(f"{PAGES}/projects.py").run()
    app.text_input(key="comment_search").input(typed).run()
    no_errors(app)
    assert "comment_project" not in [s.key for s in app.selectbox]
    assert any("没有编号或名称含此文字的项目" in c.value for c in app.caption)
    assert not any("49" == m.value for m in app.markdown)  # no template ran
    app.text_input(key="comment_search").input("REF-001").run()
    assert app.selectbox(key="comment_project").value == "REF-001"


def test_coverage_page(app):
    app.switch_page(f"{PAGES}/coverage.py").run()
    no_errors(app)
    table = app.dataframe[0].value
    lines = table[table["图层"] == "工业区块线"].iloc[0]
    assert lines["示意"] == 24 and lines["官方"] == 0
    parks = app.dataframe[1].value
    assert (parks["名称核实"] == "未公开").sum() == 10
    # sources a reader can follow: web addresses, never this project's internal paths
    for shown in (table["来源"], app.dataframe[4].value["链接"]):
        assert not shown.str.contains("shared/|seeds/|spatial\\.").any(), list(shown)
    assert "存档原文（无在线链接）" in set(app.dataframe[4].value["链接"])
    assert list(app.dataframe[2].value.columns)[:3] == ["年份", "目标（㎡）", "不少于"]


def test_trajectory_page_shows_what_the_library_computes(app, seeded_store):
    """The page's figures are the library's (spatial trajectory): the year table, the
    years-of-supply table and the headline, for the city and by district."""
    from spatial.figures.trajectory import trajectory

    app.switch_page(f"{PAGES}/trajectory.py").run()
    no_errors(app)
    assert app.title[0].value == "供给轨迹"
    expected = trajectory(seeded_store, ADMIN, shenzhen_today())
    years = app.dataframe[0].value
    assert years["年份"].tolist() == [str(y) for y in range(2023, 2031)]
    assert years["开工 P50（㎡）"].tolist() == expected.by_year["started_p50_m2"].round(0).tolist()
    supply = app.dataframe[1].value
    assert supply["数值"].iloc[-1] == f"{expected.supply['f_years_of_supply']:.2f}"
    met = [m for m in app.metric if m.label == "预计完成承诺的年份"][0].value
    assert met == (str(expected.year_met) if expected.year_met else "2030年前无法完成")
    app.sidebar.radio[-1].set_value("district").run()
    no_errors(app)
    by_district = app.dataframe[2].value
    assert "宝安区" in set(by_district["名称"])


def test_capacity_page_shows_what_the_library_computes(app, seeded_store):
    """用地潜力: the illustrative warning, the totals by district and by park, the headline."""
    from spatial.figures.capacity import capacity

    app.switch_page(f"{PAGES}/capacity.py").run()
    no_errors(app)
    assert app.title[0].value == "用地潜力"
    assert any("示意" in w.value for w in app.warning)
    summary, _ = capacity(seeded_store, ADMIN, "district_id")
    table = app.dataframe[0].value
    assert table["潜在面积（㎡）"].sum() == pytest.approx(summary.total_capacity_m2, abs=1)
    assert "宝安区" in set(table["名称"])
    app.sidebar.radio[-1].set_value("park").run()
    no_errors(app)
    parks = app.dataframe[0].value
    assert "园区外" in set(parks["名称"])
    assert parks["潜在面积（㎡）"].sum() == pytest.approx(summary.total_capacity_m2, abs=1)


def test_site_finder_page_ranks_as_the_library_does(app, seeded_store):
    """选址: the shortlist is the library's ranking; a required criterion filters it."""
    from spatial.figures.capacity import capacity
    from spatial.figures.site_finder import SiteCriteria, rank_sites

    app.switch_page(f"{PAGES}/site_finder.py").run()
    no_errors(app)
    assert app.title[0].value == "选址"
    _, sites = capacity(seeded_store, ADMIN, "park_id")
    parks = seeded_store.layer("parks")
    expected = rank_sites(sites, parks, SiteCriteria())
    shown = app.dataframe[0].value
    assert shown["ID"].tolist() == expected["site_id"].head(200).tolist()
    app.sidebar.checkbox(key="finder_park_zh").check().run()
    app.sidebar.multiselect(key="finder_required_zh").select("park").run()
    no_errors(app)
    required = rank_sites(sites, parks, SiteCriteria(in_park=True, required=frozenset({"park"})))
    shown = app.dataframe[0].value
    assert shown["ID"].tolist() == required["site_id"].head(200).tolist()
    assert "—" not in set(shown["园区"])


@BOTH
def test_scenarios_page_creates_changes_and_compares(app, seeded_store):
    """方案: a planner creates a scenario, moves a plan, compares it with the baseline; the
    official register is untouched; a refused change is said, not raised."""
    app.switch_page(f"{PAGES}/scenarios.py").run()
    no_errors(app)
    assert app.title[0].value == "方案"
    app.text_input(key="scenario_name").input("推迟一年")
    app.button[0].click().run()  # 新建
    no_errors(app)
    assert seeded_store.scenario("推迟一年") is not None
    planned = take_snapshot(seeded_store).projects
    planned = planned[
        (planned["completion_evidence"] == "planned") & planned["completion_date"].notna()
    ].iloc[0]
    app.selectbox(key="scenario_pick").set_value("推迟一年")
    [s for s in app.selectbox if s.label == "阶段"][0].set_value("completed")
    [s for s in app.selectbox if s.label == "项目"][0].set_value(planned["project_id"])
    app.button[1].click().run()  # 添加
    no_errors(app)
    assert seeded_store.scenario("推迟一年")["changes"][0]["project_id"] == planned["project_id"]
    unchanged = take_snapshot(seeded_store).projects.set_index("project_id")
    assert unchanged.loc[planned["project_id"], "completion_date"] == planned["completion_date"]
    app.multiselect(key="scenario_compare_zh").select("推迟一年").run()
    no_errors(app)
    compared = app.dataframe[-1].value
    assert compared["方案"].tolist() == ["基准", "推迟一年"]


@BOTH
@pytest.mark.parametrize(
    "payload",
    ["<img src=x onerror=alert(1)>依据", '=HYPERLINK("http://x")依据', "{{ 7*7 }} **粗** 依据"],
)
def test_typed_sources_and_notes_stay_text_on_the_planning_pages(app, seeded_store, payload):
    """A plot ratio's source, an assumption's source and a scenario's note are typed by users:
    the planning pages show them as table data, verbatim, and nothing runs or renders."""
    from spatial.figures.capacity import set_plot_ratio
    from spatial.figures.scenarios import create_scenario
    from spatial.figures.trajectory import set_assumption

    set_plot_ratio(seeded_store, ADMIN, "park", "P04", 5.0, payload)
    set_assumption(seeded_store, ADMIN, "build", "large", 900, payload)
    create_scenario(seeded_store, ADMIN, "hostile", payload)
    for page, column in (("capacity", "来源"), ("trajectory", "来源"), ("scenarios", "说明")):
        app.switch_page(f"{PAGES}/{page}.py").run()
        no_errors(app)
        cells = [set(d.value[column]) for d in app.dataframe if column in d.value.columns]
        assert any(payload in c for c in cells), page
        shown = " ".join(m.value for m in app.markdown) + " ".join(c.value for c in app.caption)
        assert payload not in shown  # never rendered as markdown
        assert "{{" not in payload or "49" not in shown  # nor evaluated as a template


UPLOAD = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "项目编号": "BA-900",
                    "项目名称": "上传测试园<script>x</script>",
                    "状态": "交付",
                    "总建筑面积": "50万㎡",
                    "开工日期": "2023-02-01",
                    "竣工日期": "2025-01-15",
                    "交付日期": "2025-02-01",
                },
                "geometry": {"type": "Point", "coordinates": [113.87, 22.755]},
            }
        ],
    },
    ensure_ascii=False,
).encode()


@BOTH
def test_upload_page_commit_moves_the_dashboard(app, seeded_store):
    before = app.metric[1].value
    app.switch_page(f"{PAGES}/upload.py").run()
    no_errors(app)
    app.selectbox(key="upload_district__zh").set_value("baoan")
    app.get("file_uploader")[0].upload("baoan.geojson", UPLOAD, "application/geo+json")
    app.run()
    no_errors(app)
    assert any("检查通过" in s.value for s in app.success)
    assert [m.value for m in app.metric][:2] == ["1", "0"]  # preview: 1 new, 0 changed
    new = next(d.value for d in app.dataframe if "总建筑面积（㎡）" in d.value.columns)
    assert new["状态"].tolist() == ["交付/运营"] and new["总建筑面积（㎡）"].tolist() == [500000]
    assert any("可提交的 1 个项目" in c.value for c in app.caption)  # what the map shows
    app.button(key="commit").click().run()
    no_errors(app)
    assert any("已提交上传 #" in s.value for s in app.success)
    assert not app.metric and not app.get("file_uploader")[0].value  # preview and file gone
    newest = seeded_store.submissions("baoan")[-1].submission_id
    assert app.selectbox(key=f"history_pick_{newest}").value == newest
    record = seeded_store.submissions("baoan")[-1]
    assert (record.status, record.user_name) == ("committed", "admin")
    app.switch_page(f"{PAGES}/dashboard.py").run()
    assert app.metric[1].value != before  # cumulative delivered grew by 50万㎡


def test_a_commit_prepares_the_next_pages_read_in_the_background(
    app, seeded_store, db_url, monkeypatch
):
    """After a commit the app reads today's snapshot into the cache every session shares
    (and finds or cuts the map's tiles from it) in the background: the first page after the
    change finds it read, reading it again takes nothing from the store, and any city-wide
    reader's map finds the tiles ready in memory (keyed by what the reader may read, not by
    who reads)."""
    import threading

    from spatial.clock import shenzhen_today
    from spatial.ui import common, mapview

    read: list[tuple] = []
    take = common.take_snapshot
    monkeypatch.setattr(
        common, "take_snapshot", lambda s, as_of: read.append(as_of) or take(s, as_of)
    )
    looked_up: list[str] = []  # the map's tiles looked for in the store's snapshot
    tiles_for_map = mapview.tiles_for_map
    monkeypatch.setattr(
        mapview,
        "tiles_for_map",
        lambda snap, who, *a, **k: (
            looked_up.append(who.user_name) or tiles_for_map(snap, who, *a, **k)
        ),
    )
    app.switch_page(f"{PAGES}/upload.py").run()
    app.selectbox(key="upload_district__zh").set_value("baoan")
    app.get("file_uploader")[0].upload("baoan.geojson", UPLOAD, "application/geo+json").run()
    before = len(read)
    app.button(key="commit").click().run()
    no_errors(app)
    for thread in [th for th in threading.enumerate() if th.name == "prepare-after-commit"]:
        thread.join(timeout=120)
    today = shenzhen_today()
    assert today in read[before:]  # read ahead, for today, after the commit
    revision = seeded_store.revision()
    ahead = len(read)
    prepared = common.shared_snapshot(db_url, revision, today)
    assert len(read) == ahead  # the page's read is the one made ahead
    assert "BA-900" in set(prepared.projects["project_id"])  # the committed project
    assert looked_up == ["map-tiles"]  # looked for once, ahead, for every city-wide reader
    app.switch_page(f"{PAGES}/mapview.py").run()
    no_errors(app)
    assert len(read) == ahead
    assert looked_up == ["map-tiles"]  # the admin's map took the tiles prepared ahead


def test_a_changed_status_is_previewed_by_its_name(app, seeded_store):
    app.switch_page(f"{PAGES}/upload.py").run()
    app.selectbox(key="upload_district__zh").set_value("baoan")
    app.get("file_uploader")[0].upload("a.geojson", UPLOAD, "application/geo+json").run()
    app.button(key="commit").click().run()
    again = UPLOAD.replace('"状态": "交付"'.encode(), '"状态": "竣工"'.encode())
    again = again.replace(b'"2025-02-01"', b'""')
    app.get("file_uploader")[0].upload("b.geojson", again, "application/geo+json").run()
    no_errors(app)
    changes = next(d.value for d in app.dataframe if "原值" in d.value.columns)
    status = changes[changes["字段"] == "状态"]
    assert status[["原值", "新值"]].values.tolist() == [["交付/运营", "竣工"]]
    assert "None" not in changes.astype(str).to_numpy()


def test_upload_page_shows_the_report_of_a_bad_file(app, seeded_store):
    app.switch_page(f"{PAGES}/upload.py").run()
    app.selectbox(key="upload_district__zh").set_value("baoan")
    bad = UPLOAD.replace("50万㎡".encode(), b"abc")
    app.get("file_uploader")[0].upload("bad.geojson", bad, "application/geo+json").run()
    assert not app.exception
    assert any("拒收" in e.value for e in app.error)
    findings = next(d.value for d in app.dataframe if "问题" in d.value.columns)
    assert "不是数字" in " ".join(findings["问题"])
    assert seeded_store.submissions("baoan")[-1].status == "rejected"


@BOTH
def test_a_district_officer_loads_its_sites_and_the_capacity_page_reads_them(
    db_url, seeded_store, monkeypatch
):
    """上传 → 地块: a 南山 officer sends the sites template's shape of file, reads the
    preview, commits; a second file without one site says it will be removed; the capacity
    page then shows the loaded parcels, not the illustrative set."""
    from test_site_submissions import FIRST, sites_file

    at = signed_in(db_url, monkeypatch, Principal("ns", Role.DISTRICT, "nanshan"))
    at.switch_page(f"{PAGES}/upload.py").run()
    at.radio(key="upload_kind__zh").set_value("sites").run()
    no_errors(at)
    assert at.selectbox(key="upload_district__zh").options == ["南山区"]
    data = sites_file(seeded_store, "nanshan", *FIRST)
    at.get("file_uploader")[0].upload("ns.geojson", data, "application/geo+json").run()
    no_errors(at)
    assert any("检查通过" in s.value for s in at.success)
    assert [m.value for m in at.metric] == ["2", "0", "0", "0"]
    at.button(key="commit_sites").click().run()
    no_errors(at)
    assert any("已提交地块上传 #" in s.value for s in at.success)
    assert list(seeded_store.sites()["site_id"]) == ["NS-1", "NS-2"]
    history = next(d.value for d in at.dataframe if "内容" in d.value.columns)
    assert history["内容"].iloc[0] == "地块"
    fewer = sites_file(seeded_store, "nanshan", FIRST[0])
    at.get("file_uploader")[0].upload("ns2.geojson", fewer, "application/geo+json").run()
    no_errors(at)
    assert [m.value for m in at.metric] == ["0", "0", "1", "1"]
    assert any("将被移除" in w.value for w in at.warning)
    at.switch_page(f"{PAGES}/capacity.py").run()
    no_errors(at)
    assert not any("示意" in w.value for w in at.warning)
    assert any("各区上传的 2 个地块" in c.value and "南山区" in c.value for c in at.caption)


@BOTH
def test_sign_in_is_required(db_url, seeded_store, monkeypatch):
    from spatial.store import accounts

    at = signed_in(db_url, monkeypatch, None)
    assert not at.exception and not at.metric  # nothing but the sign-in form
    password = accounts.add_user(seeded_store, ADMIN, "ba", "district", "baoan")
    at.text_input[0].input("ba")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert any("不正确" in e.value for e in at.error)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert any("修改一次性密码" in i.value for i in at.info)  # forced change first
    at.text_input[0].input(password)
    at.text_input[1].input("a-new-long-password")
    at.button[0].click().run()
    assert accounts.resume(seeded_store, at.session_state["session"]).user_name == "ba"
    assert at.metric  # the dashboard
    actions = list(seeded_store.audit("ba")["action"])
    assert actions == ["sign_in", "sign_in", "password_changed"]


@BOTH
def test_district_user_sees_and_uploads_only_their_district(db_url, seeded_store, monkeypatch):
    at = signed_in(db_url, monkeypatch, Principal("ba", Role.DISTRICT, "baoan"))
    at.switch_page(f"{PAGES}/projects.py").run()
    no_errors(at)
    assert set(at.dataframe[0].value["行政区"]) == {"宝安区"}
    at.switch_page(f"{PAGES}/upload.py").run()
    assert at.selectbox(key="upload_district__zh").options == ["宝安区"]


def test_a_district_dashboard_never_shows_the_city_target(db_url, seeded_store, monkeypatch):
    at = signed_in(db_url, monkeypatch, Principal("ba", Role.DISTRICT, "baoan"))
    no_errors(at)
    assert any("范围：宝安区" in c.value for c in at.caption)
    assert any("本区尚无分解指标" in i.value for i in at.info)
    assert not at.get("progress")  # no bar towards a target
    assert not any("目标" in m.value or "目标" in m.label for m in at.metric)
    assert not any("按进度应完成" in c.value for c in at.caption)
    configs = [json.loads(d.proto.columns) for d in at.dataframe]
    year_table = next(c for c in configs if "开工（㎡）" in c)
    assert not any("目标" in column or "缺口" in column for column in year_table)
    # with an allocation for every pledge year, the district is measured against it
    admin = Principal("admin", Role.ADMIN)
    for year in range(2023, 2028):
        set_allocation(seeded_store, admin, "baoan", year, 1_000_000, "宝安区分解指标")
    at.run()
    no_errors(at)
    assert any("年度目标 100.0 万㎡" in m.proto.delta for m in at.metric)
    assert any("按进度应完成" in c.value for c in at.caption)


def test_audit_page_is_for_admins(db_url, seeded_store, monkeypatch):
    at = signed_in(db_url, monkeypatch, ADMIN)
    at.switch_page(f"{PAGES}/audit.py").run()
    no_errors(at)
    trail = at.dataframe[0].value
    assert list(trail.columns)[:5] == ["序号", "时间（北京时间）", "用户", "操作", "操作代码"]
    assert "None" not in trail.astype(str).to_numpy()
    assert "新建用户" in set(trail["操作"]) and "user_created" in set(trail["操作代码"])
    at.selectbox(key="audit_action__zh").set_value("user_created").run()
    assert set(at.dataframe[0].value["操作代码"]) == {"user_created"}
    assert at.selectbox(key="audit_action__zh").format_func("") == "（全部）"
    viewer = signed_in(db_url, monkeypatch, Principal("v", Role.VIEWER))
    with pytest.raises(ValueError):  # not even registered as a page for a viewer
        viewer.switch_page(f"{PAGES}/audit.py").run()


def test_a_figure_opens_the_projects_behind_it_in_the_table_and_the_map(app, seeded_store):
    as_of = date(2026, 11, 23)
    app.sidebar.date_input(key="as_of").set_value(as_of).run()
    period = next(m for m in app.metric if m.label == "2023—2027年累计")  # 开工, the first
    app.button(key="show_started_period").click().run()
    no_errors(app)
    assert app.title[0].value == t("projects_title", "zh")
    assert any("只显示2023—2027年按“开工”计入的项目" in i.value for i in app.info)
    total = next(c.value for c in app.caption if "计入面积合计" in c.value)
    assert total.endswith(period.value)  # the list adds up to the figure clicked
    snap = take_snapshot(seeded_store, as_of)
    expected = snap.ledger(Stage.STARTED).projects
    expected = expected[expected["ledger_year"].between(2023, 2026)]
    assert total.startswith(f"{len(expected)} 个项目")
    assert len(app.dataframe[0].value) == len(expected)
    app.button(key="projects_show_on_map").click().run()
    no_errors(app)
    assert app.title[0].value == t("nav_map", "zh")
    assert any("按“开工”计入" in i.value for i in app.info)
    app.button(key="map_counted_clear").click().run()
    no_errors(app)
    assert not any("按“开工”计入" in i.value for i in app.info)


@BOTH
def test_counting_settings_page_changes_the_verdict_and_records_why(app, seeded_store):
    app.switch_page(f"{PAGES}/counting.py").run()
    no_errors(app)
    assert app.title[0].value == "计入口径设置"
    # the official stage: a reason is required, and the refusal says so
    app.radio(key="counting_stage__zh").set_value("delivered")
    app.button[0].click().run()  # the first form's 保存
    assert any("请写明理由" in e.value for e in app.error)
    assert seeded_store.setting("official_stage") is None  # nothing written
    app.radio(key="counting_stage__zh").set_value("delivered")
    app.text_area(key="counting_stage_reason").input("市工信局2026年第3次会议纪要")
    app.text_input(key="counting_stage_source").input("会议纪要〔2026〕3号")
    app.button[0].click().run()
    no_errors(app)
    assert any("已保存" in s.value for s in app.success)
    assert seeded_store.setting("official_stage")["value"] == "delivered"
    # the coverage threshold
    app.number_input(key="counting_threshold").set_value(40)
    app.text_area(key="counting_threshold_reason").input("先按四成登记试行判定")
    app.button[1].click().run()
    no_errors(app)
    assert float(seeded_store.setting("coverage_threshold")["value"]) == 0.4
    # a district's allocation, five years at once, in 万㎡
    app.selectbox(key="counting_district__zh").set_value("baoan").run()
    for year in range(2023, 2028):
        app.number_input(key=f"counting_allocation_baoan_{year}").set_value(300.0)
    app.text_input(key="counting_alloc_source").input("宝安区分解指标〔2023〕1号")
    app.button[2].click().run()
    no_errors(app)
    held = seeded_store.allocations()
    assert held["target_m2"].tolist() == [3_000_000.0] * 5
    actions = seeded_store.audit(action="set_allocation")
    assert len(actions) == 5 and set(actions["user_name"]) == {"admin"}
    assert len(app.dataframe) == 2  # the allocations held, and the history of changes
    # the dashboard follows: the verdict now reads the delivered stage
    app.switch_page(f"{PAGES}/dashboard.py").run()
    no_errors(app)
    assert any("判定（按官方口径“交付”）" in w.value for w in app.warning)
    assert any("会议纪要〔2026〕3号" in c.value for c in app.caption)


@BOTH
def test_users_page_creates_resets_disables_and_changes_roles(app, seeded_store):
    app.switch_page(f"{PAGES}/users.py").run()
    no_errors(app)
    assert app.title[0].value == "用户管理"
    # create a district officer: the one-time password is shown once
    app.text_input(key="users_new_name").input("ba-new")
    app.selectbox(key="users_new_role__zh").set_value("district")
    app.selectbox(key="users_new_district__zh").set_value("baoan")
    app.button(key="users_create_submit").click().run()
    no_errors(app)
    assert seeded_store.user("ba-new")["district_id"] == "baoan"
    password = app.code[0].value
    assert accounts.sign_in(seeded_store, "ba-new", password)[1]  # must change it
    app.run()
    assert not app.code  # never shown again
    # reset, disable, change role: each audited
    app.selectbox(key="users_selected__zh").set_value("ba-new").run()
    app.button(key="users_reset").click().run()
    no_errors(app)
    assert app.code and app.code[0].value != password
    app.button(key="users_toggle").click().run()
    assert not seeded_store.user("ba-new")["active"]
    app.selectbox(key="users_role_ba-new__zh").set_value("planner")
    app.selectbox(key="users_district_ba-new__zh").set_value("")
    app.button(key="users_role_submit").click().run()
    no_errors(app)
    assert seeded_store.user("ba-new")["role"] == "planner"
    actions = seeded_store.audit("admin")["action"].tolist()
    for action in ("user_created", "password_reset", "user_disabled", "user_role_changed"):
        assert action in actions
    # the only admin cannot disable themselves: the refusal says why
    app.selectbox(key="users_selected__zh").set_value("admin").run()
    app.button(key="users_toggle").click().run()
    assert any("唯一启用的管理员" in e.value for e in app.error)
    assert seeded_store.user("admin")["active"]


@pytest.mark.parametrize("page", ["counting", "users"])
def test_admin_pages_are_for_admins(db_url, seeded_store, monkeypatch, page):
    for who in (Principal("pl", Role.PLANNER), Principal("ba", Role.DISTRICT, "baoan")):
        at = signed_in(db_url, monkeypatch, who)
        with pytest.raises(ValueError):  # not registered as a page for them
            at.switch_page(f"{PAGES}/{page}.py").run()


@pytest.mark.parametrize(
    "who,upload_districts,audit,reads_all",
    [
        (Principal("ad", Role.ADMIN), "all", True, True),
        (Principal("pl", Role.PLANNER), None, False, True),
        (Principal("ba", Role.DISTRICT, "baoan"), ["宝安区"], False, False),
        (Principal("ns", Role.DISTRICT, "nanshan"), ["南山区"], False, False),
        (Principal("vw", Role.VIEWER), None, False, True),
    ],
)
def test_role_matrix_in_the_app(
    db_url, seeded_store, monkeypatch, who, upload_districts, audit, reads_all
):
    at = signed_in(db_url, monkeypatch, who)
    no_errors(at)
    if upload_districts is None:
        with pytest.raises(ValueError):  # the page is not there for this role
            at.switch_page(f"{PAGES}/upload.py")
    else:
        at.switch_page(f"{PAGES}/upload.py").run()
        options = at.selectbox(key="upload_district__zh").options
        assert len(options) == 11 if upload_districts == "all" else options == upload_districts
    if audit:
        at.switch_page(f"{PAGES}/audit.py").run()
        no_errors(at)
    else:
        with pytest.raises(ValueError):
            at.switch_page(f"{PAGES}/audit.py")
    at.switch_page(f"{PAGES}/projects.py").run()
    districts = set(at.dataframe[0].value["行政区"])
    assert (len(districts) > 1) == reads_all


@BOTH
def test_planner_comments_and_viewer_cannot(db_url, seeded_store, monkeypatch):
    at = signed_in(db_url, monkeypatch, Principal("pl", Role.PLANNER))
    at.switch_page(f"{PAGES}/projects.py").run()
    at.selectbox(key="comment_project").set_value("REF-003").run()
    at.text_area(key="comment_text").input("<b>请核实</b>交付日期")
    at.button(key="comment_add").click().run()
    no_errors(at)
    assert any("<b>请核实</b>交付日期" in t.value for t in at.text)  # shown as plain text
    viewer = signed_in(db_url, monkeypatch, Principal("vw", Role.VIEWER))
    viewer.switch_page(f"{PAGES}/projects.py").run()
    viewer.selectbox(key="comment_project").set_value("REF-003").run()
    assert not [w for w in viewer.text_area if w.key == "comment_text"]
    assert any("请核实" in t.value for t in viewer.text)
    assert list(seeded_store.audit("pl")["action"]) == ["comment"]


@BOTH
def test_export_page_builds_a_download(app, seeded_store):
    app.switch_page(f"{PAGES}/exports.py").run()
    no_errors(app)
    app.selectbox(key="export_format").set_value("gpkg")
    app.selectbox(key="export_crs").set_value("epsg4547")
    app.button(key="export_build").click().run()
    no_errors(app)
    assert any("EPSG4547.gpkg" in s.value and "个要素" in s.value for s in app.success)
    assert not any("projects" in s.value for s in app.success)  # layer names in Chinese
    assert seeded_store.audit(action="export")["user_name"].tolist() == ["admin"]


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_export_page_builds_the_progress_report(app, seeded_store, fmt):
    """One as-of date on the page: the sidebar's, used by the layers and the report alike."""
    app.switch_page(f"{PAGES}/exports.py").run()
    no_errors(app)
    assert [d.key for d in app.date_input] == ["as_of"]
    app.sidebar.date_input(key="as_of").set_value(date(2025, 12, 31)).run()
    app.selectbox(key="report_year__zh").set_value(2025)
    app.selectbox(key="report_lang__zh").set_value("en")
    app.radio(key="report_format__zh").set_value(fmt)
    app.button(key="report_build").click().run()
    no_errors(app)
    assert any(f"progress_report_2025_2025-12-31_en.{fmt}" in s.value for s in app.success)
    event = seeded_store.audit(action="export").iloc[-1]
    assert event["target"] == "progress_report"
    assert '"format": "pdf"' in event["detail"] or fmt == "html"


def test_export_page_says_why_a_pdf_cannot_be_printed(app, monkeypatch):
    monkeypatch.setenv("SPATIAL_CHROMIUM", "/nonexistent/chromium")
    app.switch_page(f"{PAGES}/exports.py").run()
    app.radio(key="report_format__zh").set_value("pdf")
    app.button(key="report_build").click().run()
    assert not app.exception
    assert "找不到 Chromium" in app.error[0].value


def test_dashboard_reports_what_it_shows(app, seeded_store):
    app.sidebar.date_input(key="as_of").set_value(date(2025, 6, 30)).run()
    app.sidebar.radio(key="stage__zh").set_value("completed").run()
    app.button(key="dashboard_report_html").click().run()
    no_errors(app)
    assert any("progress_report_2025_2025-06-30.html" in s.value for s in app.success)
    detail = seeded_store.audit(action="export").iloc[-1]["detail"]
    assert '"stage": "completed"' in detail and '"as_of": "2025-06-30"' in detail


def test_viewer_sees_no_report_buttons(db_url, seeded_store, monkeypatch):
    viewer = signed_in(db_url, monkeypatch, Principal("vw", Role.VIEWER))
    no_errors(viewer)
    assert not [b for b in viewer.button if b.key and b.key.startswith("dashboard_report")]


@pytest.mark.parametrize(
    "reason",
    [
        "![pixel](http://127.0.0.1:9/track.png) 纪要",
        "[点此](javascript:alert(1)) 纪要",
        "<img src=x onerror=alert(1)> 纪要",
        "# 标题 **粗体** $x$ 纪要",
    ],
)
def test_a_typed_reason_is_shown_as_itself_on_the_dashboard(
    db_url, seeded_store, monkeypatch, reason
):
    """An admin's reason and source reach Streamlit markdown with every markdown/HTML
    character escaped: no image is fetched, no link, tag or heading is formed."""
    from spatial.figures.counting import set_official_stage
    from spatial.ui.common import markdown_text

    set_official_stage(seeded_store, ADMIN, "started", reason, reason)
    at = signed_in(db_url, monkeypatch, ADMIN)
    no_errors(at)
    shown = [c.value for c in at.caption if "纪要" in c.value]
    assert shown and all(c.count(markdown_text(reason)) == 2 for c in shown)
    for ch in "![]()<>#*$":
        if ch in reason:
            assert all(c.count(ch) == c.count("\\" + ch) for c in shown)


@pytest.mark.parametrize(
    "text",
    [
        "![pixel](http://127.0.0.1:9/track.png)纪要",
        "[点此](javascript:alert(1))纪要",
        "<img src=x onerror=alert(1)>纪要",
        "# 标题 **粗体** $x$纪要",
    ],
)
def test_typed_text_stays_text_on_the_admin_pages(db_url, seeded_store, monkeypatch, text):
    """A reason and source on the counting page, a user name in the sidebar (also an
    identity provider's claim): markdown characters escaped, nothing formed."""
    from spatial.figures.counting import set_official_stage
    from spatial.store.sso import principal_from_claims
    from spatial.ui.common import markdown_text

    set_official_stage(seeded_store, ADMIN, "started", text, text)
    at = signed_in(db_url, monkeypatch, ADMIN)
    at.switch_page(f"{PAGES}/counting.py").run()
    no_errors(at)
    shown = [c.value for c in at.caption if "纪要" in c.value]
    assert len(shown) == 2 and all(markdown_text(text) in c for c in shown)
    who = principal_from_claims(seeded_store, {"email": text, "spatial_role": "viewer"})
    viewer = signed_in(db_url, monkeypatch, who)
    no_errors(viewer)
    names = [c.value for c in viewer.sidebar.caption if "纪要" in c.value]
    assert names and all(markdown_text(who.user_name) in c for c in names)


def test_a_long_register_on_the_map_is_tiled_searched_as_typed_and_tabled_by_view(app, monkeypatch):
    """Above the limits (lowered here) the map draws the projects as vector tiles (no project
    text in the page), the search takes typed text and lists the matches, and the table says
    it lists the projects in view."""
    import spatial.ui.mapview as mapview

    monkeypatch.setenv("SPATIAL_MAP_TILED_FROM", "1")
    monkeypatch.setattr(mapview, "LISTED_UP_TO", 5)
    monkeypatch.setattr(mapview, "TABLE_ROWS", 5)
    app.switch_page(f"{PAGES}/mapview.py").run()
    no_errors(app)
    script = _map_args(app)["script"]
    assert "protomapsL.leafletLayer" in script and "REF-001" not in script
    assert app.text_input(key="map_search_q").label == "查找项目"
    assert any("下表列出当前视图内的项目" in c.value for c in app.caption)
    app.text_input(key="map_search_q").input("REF-00").run()
    no_errors(app)
    matches = app.selectbox(key="map_search")
    assert matches.label == "匹配的项目" and matches.options[0].startswith("REF-001")
    matches.set_value("REF-003").run()
    no_errors(app)
    assert "ID REF-003" in [c.value.replace("\\", "") for c in app.caption]  # the details panel
    script = _map_args(app)["script"]
    assert script.count("REF-003") >= 1 and "REF-001" not in script  # the selected one on top
    app.text_input(key="map_search_q").input("no such project").run()
    no_errors(app)
    assert any("没有编号或名称含此文字的项目" in c.value for c in app.caption)


def test_a_page_that_changes_its_snapshot_changes_only_its_own(db_url):
    """Sessions share one snapshot per revision (st.cache_resource, not a pickled copy per
    rerun); each gets shallow copies, so a column a page adds or a value it overwrites never
    reaches another session — and the data is not duplicated for it."""
    import numpy as np

    from spatial.store.seed import ensure_seeded
    from spatial.ui import common

    store = open_store(db_url)
    ensure_seeded(store)
    as_of = date(2026, 6, 30)
    mine = common._snapshot(db_url, store.revision(), as_of)
    shared = common.shared_snapshot(db_url, store.revision(), as_of)
    area = "floor_area_m2"
    assert np.shares_memory(mine.projects[area].to_numpy(), shared.projects[area].to_numpy())
    first = mine.projects.index[0]
    name = shared.projects.loc[first, "name_zh"]
    mine.projects["page_column"] = 1
    mine.projects.loc[first, "name_zh"] = "<b>page's own</b>"
    mine.projects.loc[first, area] = -1.0
    mine.districts.drop(columns=["name_en"], inplace=True)
    other = common._snapshot(db_url, store.revision(), as_of)
    assert "page_column" not in other.projects
    assert other.projects.loc[first, "name_zh"] == name
    assert other.projects.loc[first, area] != -1.0
    assert "name_en" in other.districts
    assert shared.projects.loc[first, "name_zh"] == name
    common.shared_snapshot.clear()
    store.engine.dispose()
