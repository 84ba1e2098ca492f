"""The ``spatial`` command: the same library functions the app uses, for scripts and jobs.

    spatial init                      create the database and load the shipped data if empty
    spatial ledger [--measure delivered|completed|started] [--as-of YYYY-MM-DD] [--district D]
                   [--json]         verdict, official stage, coverage and the year table
    spatial counting show|stage S --reason R [--source X]|threshold SHARE --reason R|
                     allocation DISTRICT YEAR M2|none --source X     (admin settings, audited)
    spatial reference refresh [--dry-run] [--json]   bring the shipped reference data in an
                                      existing store up to date (history kept, audited)
    spatial layers [--json]           layers with feature counts and data coverage
    spatial validate FILE [--district D] [--crs CRS] [--json]   exit 0 accepted, 1 rejected
    spatial import FILE --district D [--user U] [--crs CRS] [--repair]
    spatial submissions [--district D] [--json]
    spatial undo ID [--user U]
    spatial original ID -o PATH       the uploaded file, byte for byte
    spatial user add NAME --role admin|planner|district|viewer [--district D]
    spatial user list | reset NAME | disable NAME | enable NAME | role NAME --role R [--district D]
    spatial audit [--user U] [--action A] [--json]
    spatial map [--district D …] [--status S …] [--as-of DATE] [--lang zh|en] [--bbox W,S,E,N]
                -o FILE.html
    spatial report --year Y [--as-of DATE] [--stage S] [--lang zh|en] [--user U] -o FILE.html|.pdf
    spatial trajectory [--as-of DATE] [--by district|park] [--draws N] [--json]   供给轨迹:
                                      the pipeline year by year, P10/P50/P90, year met, supply
    spatial assumption show | set KEY BAND DAYS --source S     the trajectory's assumptions
    spatial capacity [--by district|park] [--json]   用地潜力: land bank, potential floor area
    spatial plot-ratio show | set SCOPE KEY RATIO|none --source S   capacity's plot ratios
    spatial sites rank [--level L …] [--in-park] [--readiness R …] [--min-area M2]
                       [--min-capacity M2] [--cluster C] [--require C …] [--json] [-o FILE]
    spatial scenario create NAME | change NAME move ID STAGE DAYS | change NAME plot-ratio
                     SCOPE KEY R | change NAME site SITE START | list | compare NAME… [--json]
    spatial export --layer L|all --format F [--crs C] [--district D …] [--status S …]
                   [--park P …] [--cluster C …] [--year Y] [--as-of DATE] [--user U] -o PATH

``--database-url`` (or ``DATABASE_URL``) chooses the store; default ``sqlite:///var/spatial.db``.
Exit codes: 0 success, 1 failure reported to the user, 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from spatial.auth import PermissionDenied, Principal, Role
from spatial.clock import beijing_text, shenzhen_today
from spatial.districts import UnknownDistrict, resolve_district
from spatial.figures.capacity import (
    PLOT_RATIO_SCOPES,
    READINESS,
    CapacityError,
    capacity,
    plot_ratios_of,
    set_plot_ratio,
    sites_of,
)
from spatial.figures.counting import (
    VERDICT_LABELS,
    CountingError,
    coverage_threshold,
    official_stage,
    set_allocation,
    set_coverage_threshold,
    set_official_stage,
)
from spatial.figures.filters import ProjectFilter
from spatial.figures.ledger import COUNTING_RULE, build_ledger
from spatial.figures.project_details import ProjectNotFound, change_kind_label, project_details
from spatial.figures.scenarios import (
    ScenarioError,
    change_scenario,
    compare_scenarios,
    create_scenario,
    scenario_list,
)
from spatial.figures.site_finder import CRITERIA, SiteCriteria, rank_sites
from spatial.figures.snapshot import LEDGER_COLUMNS, coverage, take_snapshot
from spatial.figures.trajectory import (
    ASSUMPTION_KEYS,
    DEFAULT_DRAWS,
    SIZE_BANDS,
    TrajectoryError,
    assumptions_of,
    set_assumption,
    trajectory,
)
from spatial.i18n import fmt_area
from spatial.ingest import submissions
from spatial.ingest.crs_detect import AUTO, CRS_CHOICES
from spatial.ingest.findings import ValidationReport
from spatial.ingest.formats import too_large
from spatial.ingest.site_rules import check_site_upload
from spatial.ingest.site_submissions import site_owners, submit_sites
from spatial.ingest.upload import UploadOptions, check_upload
from spatial.layers import LAYERS, Stage
from spatial.outputs.export import (
    CRS_OPTIONS,
    FORMATS,
    LAYER_NAMES,
    ExportError,
    ExportRequest,
    export_layers,
)
from spatial.outputs.map_assets import install_static_assets
from spatial.outputs.maps import MapView
from spatial.outputs.offline_map import offline_map_html
from spatial.outputs.printing import PrintError
from spatial.outputs.report import REPORT_FORMATS, ReportError, ReportRequest, progress_report
from spatial.outputs.scenario_table import comparison_csv, comparison_workbook
from spatial.outputs.spreadsheet import csv_bytes
from spatial.outputs.vector_tiles import (
    SERVED_TILES_DIR,
    TILES_KEY_FILE,
    cut_ahead,
    readers_after_change,
)
from spatial.store import accounts
from spatial.store.database import default_database_url, open_store
from spatial.store.reference import PACKAGE_ROOT
from spatial.store.seed import ensure_seeded, refresh_reference


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {text!r}"
        ) from exc


def _view(text: str) -> MapView:
    try:
        return MapView.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _parser() -> argparse.ArgumentParser:
    """The command line, one group of subcommands per stage of the pipeline."""
    parser = argparse.ArgumentParser(prog="spatial", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=None, help="default: $DATABASE_URL or var/spatial.db"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _store_commands(sub)
    _upload_commands(sub)
    _figure_commands(sub)
    _planning_commands(sub)
    _output_commands(sub)
    return parser


def _store_commands(sub) -> None:
    """The store and who may use it: init, user, audit, reference."""
    sub.add_parser("init", help="create the database and load the shipped reference data if empty")

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a user; prints a one-time password")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--district", default=None)
    user_sub.add_parser("list", help="list users")
    reset = user_sub.add_parser(
        "reset", help="a new one-time password (also for a lost admin password); lifts a lock"
    )
    reset.add_argument("name")
    for verb, text in (("disable", "disable an account"), ("enable", "enable an account")):
        user_sub.add_parser(verb, help=text).add_argument("name")
    role = user_sub.add_parser("role", help="change a user's role and district (audited)")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=[r.value for r in Role])
    role.add_argument("--district", default=None, help="宝安区, 宝安, Bao'an or baoan")

    audit = sub.add_parser("audit", help="the audit trail")
    audit.add_argument("--user", default=None)
    audit.add_argument("--action", default=None)
    audit.add_argument("--json", action="store_true")

    reference = sub.add_parser("reference", help="the shipped reference data in this store")
    reference_sub = reference.add_subparsers(dest="reference_command", required=True)
    refresh = reference_sub.add_parser(
        "refresh",
        help="bring the shipped projects, layers and tables up to today's seeds/ and geodata/ "
        "(new versions; history, district uploads and admin edits kept; audited)",
    )
    refresh.add_argument("--dry-run", action="store_true", help="say what would change")
    refresh.add_argument("--json", action="store_true")


def _upload_commands(sub) -> None:
    """A district's files: validate, import, submissions, undo, original."""
    crs_help = "coordinate system: " + ", ".join(CRS_CHOICES) + " (default: auto)"

    def upload_args(command, help_text: str, district_required: bool):
        p = sub.add_parser(command, help=help_text)
        p.add_argument("file", type=Path)
        p.add_argument(
            "--district", required=district_required, default=None, help="district id, e.g. baoan"
        )
        p.add_argument("--crs", default=AUTO, choices=list(CRS_CHOICES), help=crs_help)
        p.add_argument("--repair", action="store_true", help="use repaired shapes")
        p.add_argument("--json", action="store_true")
        p.add_argument("--lang", choices=["zh", "en"], default="zh")
        return p

    upload_args("validate", "check a district file without storing it", False)
    imp = upload_args("import", "store, check and commit a district file", True)
    imp.add_argument("--user", default="admin", help="the user acting (default: admin)")
    map_tiles_args(imp)

    subs = sub.add_parser("submissions", help="uploads with their status")
    subs.add_argument("--district", default=None)
    subs.add_argument("--json", action="store_true")

    undo = sub.add_parser("undo", help="undo a committed upload")
    undo.add_argument("submission_id", type=int)
    undo.add_argument("--user", default="admin", help="the user acting (default: admin)")
    map_tiles_args(undo)

    original = sub.add_parser("original", help="write an uploaded file back out, byte for byte")
    original.add_argument("submission_id", type=int)
    original.add_argument("-o", "--output", type=Path, required=True)


def _figure_commands(sub) -> None:
    """What the store's contents mean: ledger, layers, project, counting."""
    ledger = sub.add_parser("ledger", help="the pledge ledger, year by year")
    ledger.add_argument(
        "--measure",
        choices=[s.value for s in Stage],
        default=None,
        help="the stage whose date puts a project's area into a year (default: the official "
        "stage, see `spatial counting show`)",
    )
    ledger.add_argument(
        "--district", default=None, help="judge one district (its allocation, or its share)"
    )
    ledger.add_argument("--as-of", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    ledger.add_argument("--json", action="store_true", help="machine-readable output")
    ledger.add_argument("--lang", choices=["zh", "en"], default="zh")

    layers = sub.add_parser("layers", help="layers with counts and coverage")
    layers.add_argument("--json", action="store_true")

    project = sub.add_parser(
        "project", help="one project in full: its fields, comments and history (项目详情)"
    )
    project.add_argument("project_id")
    project.add_argument("--as-of", type=_date, default=None, help="default: today")
    project.add_argument("--user", default="admin", help="the user reading (default: admin)")
    project.add_argument("--json", action="store_true")

    counting = sub.add_parser(
        "counting", help="the official counting stage, coverage threshold and allocations"
    )
    counting_sub = counting.add_subparsers(dest="counting_command", required=True)
    counting_sub.add_parser("show", help="the settings, with who set them and why")
    stage = counting_sub.add_parser("stage", help="set the official stage (audited)")
    stage.add_argument("stage", choices=[s.value for s in Stage])
    stage.add_argument("--reason", required=True)
    stage.add_argument("--source", default=None)
    threshold = counting_sub.add_parser(
        "threshold", help="share of the reported programme the register must hold (0-1]"
    )
    threshold.add_argument("share", type=float)
    threshold.add_argument("--reason", required=True)
    allocation = counting_sub.add_parser("allocation", help="a district's yearly target")
    allocation.add_argument("district")
    allocation.add_argument("year", type=int)
    allocation.add_argument("target_m2", help="m², or 'none' to remove")
    allocation.add_argument("--source", default="")


def _planning_commands(sub) -> None:
    """Planning the supply: trajectory, assumption, capacity, plot-ratio, sites."""
    traj = sub.add_parser("trajectory", help="供给轨迹: the pipeline projected year by year")
    traj.add_argument("--as-of", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    traj.add_argument("--by", choices=["district", "park"], default=None, help="P50 per group")
    traj.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="resampling draws")
    traj.add_argument("--seed", type=int, default=0)
    traj.add_argument("--user", default="admin", help="the user reading (default: admin)")
    traj.add_argument("--json", action="store_true", help="JSON only")
    assumption = sub.add_parser("assumption", help="the trajectory's assumptions (admins set)")
    assumption_sub = assumption.add_subparsers(dest="assumption_command", required=True)
    assumption_sub.add_parser("show", help="the assumptions in force, each with its source")
    put = assumption_sub.add_parser("set", help="change one assumption (audited)")
    put.add_argument("key", choices=list(ASSUMPTION_KEYS))
    put.add_argument("band", choices=[*(b for b, _ in SIZE_BANDS), "all"])
    put.add_argument("days", type=int)
    put.add_argument("--source", required=True, help='a document, or "assumption" and whose')
    put.add_argument("--user", default="admin")
    cap = sub.add_parser("capacity", help="用地潜力: land bank and potential floor area")
    cap.add_argument("--by", choices=["district", "park"], default="district")
    cap.add_argument("--as-of", type=_date, default=None, help="YYYY-MM-DD (default: today)")
    cap.add_argument("--user", default="admin", help="the user reading (default: admin)")
    cap.add_argument("--json", action="store_true", help="JSON only")
    ratio = sub.add_parser("plot-ratio", help="the plot ratios capacity assumes (admins set)")
    ratio_sub = ratio.add_subparsers(dest="ratio_command", required=True)
    ratio_sub.add_parser("show", help="the plot-ratio table, each row with its source")
    put_ratio = ratio_sub.add_parser("set", help="set (or remove: none) a plot ratio (audited)")
    put_ratio.add_argument("scope", choices=list(PLOT_RATIO_SCOPES))
    put_ratio.add_argument("key", help="park id, district id, land use (M0, M1 …) or 'all'")
    put_ratio.add_argument("plot_ratio", help="a number, or none")
    put_ratio.add_argument("--source", required=True)
    put_ratio.add_argument("--user", default="admin")
    sites = sub.add_parser("sites", help="选址: the sites for the next projects")
    sites_sub = sites.add_subparsers(dest="sites_command", required=True)
    rank = sites_sub.add_parser("rank", help="rank the sites by criteria, with the reasons")
    rank.add_argument(
        "--level",
        action="append",
        choices=["level1", "level2", "outside"],
        default=None,
        help="accepted control-line levels (default: level1, level2)",
    )
    rank.add_argument("--in-park", action="store_true", help="inside a park")
    rank.add_argument("--readiness", action="append", choices=list(READINESS), default=[])
    rank.add_argument("--min-area", type=float, default=0.0, help="land area at least (m²)")
    rank.add_argument("--min-capacity", type=float, default=0.0, help="capacity at least (m²)")
    rank.add_argument("--cluster", default=None, help="a 20+8 cluster, e.g. 半导体与集成电路")
    rank.add_argument(
        "--require",
        action="append",
        choices=list(CRITERIA),
        default=[],
        help="a criterion a site must meet (the others rank)",
    )
    rank.add_argument("--top", type=int, default=20, help="how many to print (default 20)")
    rank.add_argument("--user", default="admin", help="the user reading (default: admin)")
    rank.add_argument("--json", action="store_true", help="JSON only")
    rank.add_argument("-o", "--output", type=Path, default=None, help="the shortlist as CSV")
    for command, help_text in (
        ("import", "store, check and commit a district's sites file (replaces its sites)"),
        ("validate", "check a district's sites file without storing it"),
    ):
        p = sites_sub.add_parser(command, help=help_text)
        p.add_argument("file", type=Path)
        p.add_argument("--district", required=True, help="district id, e.g. nanshan")
        p.add_argument("--crs", default=AUTO, choices=list(CRS_CHOICES))
        p.add_argument("--user", default="admin", help="the user acting (default: admin)")
        p.add_argument("--json", action="store_true")
        p.add_argument("--lang", choices=["zh", "en"], default="zh")
    listing = sites_sub.add_parser("list", help="the sites layer (loaded, or the illustrative set)")
    listing.add_argument("--district", default=None)
    listing.add_argument("--json", action="store_true")
    _scenario_commands(sub)


def _scenario_commands(sub) -> None:
    """方案: create, change, list, compare."""
    scenario = sub.add_parser("scenario", help="方案: changes on top of the official register")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    create = scenario_sub.add_parser("create", help="a new, empty scenario (audited)")
    create.add_argument("name")
    create.add_argument("--note", default="")
    create.add_argument("--district", default=None, help="a district's own scenario")
    change = scenario_sub.add_parser("change", help="add a change to a scenario (audited)")
    change.add_argument("name")
    kind = change.add_subparsers(dest="kind", required=True)
    move = kind.add_parser("move", help="move a planned stage date by DAYS")
    move.add_argument("project_id")
    move.add_argument("stage", choices=[s.value for s in Stage])
    move.add_argument("days", type=int)
    ratio = kind.add_parser("plot-ratio", help="a plot ratio for a park, district, use, city")
    ratio.add_argument("scope", choices=list(PLOT_RATIO_SCOPES))
    ratio.add_argument("key")
    ratio.add_argument("plot_ratio", type=float)
    site = kind.add_parser("site", help="turn a site into a planned project")
    site.add_argument("site_id")
    site.add_argument("start_date", help="YYYY-MM-DD, the planned start")
    site.add_argument("--area", type=float, default=None, help="m² (default: its capacity)")
    scenario_sub.add_parser("list", help="the scenarios you may read")
    compare = scenario_sub.add_parser("compare", help="the baseline and up to 4 scenarios")
    compare.add_argument("names", nargs="*")
    compare.add_argument("--as-of", type=_date, default=None)
    compare.add_argument("--draws", type=int, default=DEFAULT_DRAWS)
    compare.add_argument("--json", action="store_true", help="JSON only")
    compare.add_argument("-o", "--output", type=Path, default=None,
                         help="the table as Excel (.xlsx, with how to read it) or CSV")  # fmt: skip
    compare.add_argument("--lang", choices=["zh", "en"], default="zh", help="of the file")
    for p in (create, change, compare, scenario_sub.choices["list"]):
        p.add_argument("--user", default="admin", help="the user acting (default: admin)")


def _output_commands(sub) -> None:
    """What a planner takes away: export, map, report."""
    exp = sub.add_parser("export", help="export layers (filtered, as of a date) to a file")
    exp.add_argument("--layer", required=True, choices=[*LAYER_NAMES, "all"])
    exp.add_argument("--format", required=True, choices=list(FORMATS))
    exp.add_argument("--crs", default="wgs84", choices=list(CRS_OPTIONS))
    exp.add_argument("--district", action="append", default=[])
    exp.add_argument("--park", action="append", default=[])
    exp.add_argument("--status", action="append", default=[])
    exp.add_argument("--cluster", action="append", default=[])
    exp.add_argument("--year", type=int, default=None)
    exp.add_argument("--as-of", type=_date, default=None)
    exp.add_argument("--user", default="admin", help="the user exporting (default: admin)")
    exp.add_argument("-o", "--output", type=Path, required=True)

    omap = sub.add_parser("map", help="a standalone HTML map that opens with no internet")
    omap.add_argument("--district", action="append", default=[])
    omap.add_argument("--status", action="append", default=[])
    omap.add_argument("--as-of", type=_date, default=None)
    omap.add_argument(
        "--bbox", type=_view, default=None, help="W,S,E,N in degrees: open on this view"
    )
    omap.add_argument("--lang", choices=["zh", "en"], default="zh")
    omap.add_argument("--user", default="admin")
    omap.add_argument("-o", "--output", type=Path, required=True)

    rep = sub.add_parser(
        "report", help="the progress report (进度报告) for a pledge year, as HTML or PDF"
    )
    rep.add_argument("--year", type=int, required=True)
    rep.add_argument("--as-of", type=_date, default=None, help="default: today, or 31 Dec")
    rep.add_argument(
        "--stage", choices=[s.value for s in Stage], default=None, help="default: the official"
    )
    rep.add_argument("--lang", choices=["zh", "en"], default="zh")
    rep.add_argument(
        "--scenario", action="append", default=[], help="a 方案 compared in a last section"
    )
    rep.add_argument("--user", default="admin")
    rep.add_argument(
        "-o", "--output", type=Path, required=True, help="FILE.html or FILE.pdf (or a folder)"
    )
    rep.add_argument("--format", choices=list(REPORT_FORMATS), default=None, help="default: suffix")


def standard_json(value):
    """``value`` with NaN and infinities as null, numpy numbers as Python ones: RFC 8259 JSON
    that every reader accepts (Python's json would write ``NaN``/``Infinity``)."""
    if isinstance(value, dict):
        return {k: standard_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [standard_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def operating_system_user() -> str:
    """Who runs this command on the server (recorded beside the acting user)."""
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (a container): the number then
        return f"uid {os.getuid()}"


def _open(args):
    """The store, with every audit event of this command naming the operating-system user
    (the command line acts with the database's own rights: an operator's tool)."""
    store = open_store(args.database_url or default_database_url())
    store.operator = f"cli:{operating_system_user()}"
    ensure_seeded(store)
    return store


def cmd_init(args, out) -> int:
    store = open_store(args.database_url or default_database_url())
    store.operator = f"cli:{operating_system_user()}"
    seeded = ensure_seeded(store)
    install_static_assets(PACKAGE_ROOT / "static")
    url = store.engine.url.render_as_string(hide_password=True)
    msg = "loaded the shipped reference data" if seeded else "already holds data; left as it is"
    print(f"{url}: {msg}", file=out)
    password = accounts.ensure_admin(store)
    if password:
        print(
            f"首个管理员 admin 的一次性密码 / one-time password for the first admin 'admin': "
            f"{password}\n（首次登录后须修改 / it must be changed at first sign-in）",
            file=out,
        )
    return 0


def cmd_ledger(args, out) -> int:
    store = _open(args)
    snapshot = take_snapshot(store, args.as_of, project_columns=LEDGER_COLUMNS)
    district = _district(store, args.district) if args.district else None
    judgement = snapshot.judgement(district)
    ledger = judgement.ledger  # at the official stage, for the city or the district
    if args.measure and Stage(args.measure) != judgement.official_stage.stage:
        targets = ledger.by_year[["year", "target_m2"]]
        ledger = build_ledger(ledger.projects, targets, Stage(args.measure), snapshot.as_of)
    judged_by_city_share = district is not None and judgement.allocation is None
    if args.json:
        payload = _ledger_json(ledger, judgement, judged_by_city_share)
        json.dump(standard_json(payload), out, ensure_ascii=False, indent=2, allow_nan=False)
        print(file=out)
        return 0
    _print_ledger_table(ledger, judged_by_city_share, out)
    if judged_by_city_share:
        s, share = ledger.summary, judgement.city_share
        print(
            f"{district}: {s.period_start}-{s.period_end} {fmt_area(s.cumulative_m2, args.lang)}, "
            f"{'—' if share is None else f'{share:.1%}'} of the city's total (no allocation: "
            "not measured against the city's target)",
            file=out,
        )
        return 0
    _print_ledger_verdict(ledger, judgement, args.lang, out)
    return 0


def _ledger_json(ledger, judgement, judged_by_city_share: bool) -> dict:
    """The ledger as JSON. A district judged by its share of the city gets no target, gap or
    pace (a district is never measured against the city's target)."""
    s = ledger.summary
    payload = {
        "as_of": s.as_of.isoformat(),
        "measure": s.stage.value,
        **judgement.as_json(),
        "counting_rule": COUNTING_RULE["en"],
    }
    if judged_by_city_share:
        years = ledger.by_year[["year", *(f"{x.value}_m2" for x in Stage)]]
        return payload | {
            "years": years.to_dict(orient="records"),
            "summary": {"cumulative_m2": s.cumulative_m2, "year_counted_m2": s.year_counted_m2},
        }
    return payload | {
        "years": ledger.by_year.to_dict(orient="records"),
        "summary": {
            k: (v.isoformat() if isinstance(v, date) else v.value if isinstance(v, Stage) else v)
            for k, v in s.__dict__.items()
        },
        "overdue": ledger.overdue[
            ["project_id", "name_zh", "completion_date", "days_overdue"]
        ].to_dict(orient="records"),
    }


def _print_ledger_table(ledger, judged_by_city_share: bool, out) -> None:
    s = ledger.summary
    header = ["year", "target", "started", "completed", "delivered", "cumulative", "gap",
              "required pace"]  # fmt: skip
    print(f"pledge ledger as of {s.as_of.isoformat()}, measure: {s.stage.value} (m²)", file=out)
    print("  ".join(f"{h:>14}" for h in header), file=out)
    for row in ledger.by_year.itertuples(index=False):
        cells = [
            math.nan if judged_by_city_share else row.target_m2,
            row.started_m2,
            row.completed_m2,
            row.delivered_m2,
            row.cumulative_m2,
            math.nan if judged_by_city_share else row.gap_m2,
            math.nan if judged_by_city_share else row.required_pace_m2,
        ]
        print(
            f"{row.year:>14}  "
            + "  ".join("—".rjust(14) if math.isnan(c) else f"{c:>14,.0f}" for c in cells),
            file=out,
        )


def _print_ledger_verdict(ledger, judgement, lang: str, out) -> None:
    s = ledger.summary
    print(
        f"{s.year}: {fmt_area(s.year_counted_m2, lang)} / {fmt_area(s.year_target_m2, lang)}; "
        f"{s.period_start}-{s.period_end} cumulative {fmt_area(s.cumulative_m2, lang)} / "
        f"{fmt_area(s.period_target_m2, lang)}; needed each remaining year "
        f"{fmt_area(s.required_pace_m2, lang)} ({'on track' if s.on_track else 'behind pace'}); "
        f"overdue projects: {s.overdue_count}",
        file=out,
    )
    c = judgement.coverage
    verdict = judgement.verdict
    print(
        f"verdict ({judgement.official_stage.stage.value}, official stage): "
        + (VERDICT_LABELS[verdict][0 if lang == "zh" else 1] if verdict else "— (no allocation)")
        + f"; register {c.registered_projects} projects / "
        + (f"{c.reported_projects.value:,.0f} reported" if c.reported_projects else "—")
        + f", {fmt_area(c.registered_area_m2, lang)} / "
        + (fmt_area(c.reported_area.value, lang) if c.reported_area else "—")
        + " planned factory area",
        file=out,
    )


def cmd_counting(args, out) -> int:
    store = _open(args)
    operator = Principal(f"cli:{operating_system_user()}", Role.ADMIN)
    try:
        if args.counting_command == "stage":
            set_official_stage(store, operator, args.stage, args.reason, args.source)
        elif args.counting_command == "threshold":
            set_coverage_threshold(store, operator, args.share, args.reason)
        elif args.counting_command == "allocation":
            target = None if args.target_m2.lower() == "none" else float(args.target_m2)
            district = _district(store, args.district)
            set_allocation(store, operator, district, args.year, target, args.source)
    except CountingError as exc:
        raise UsageError(f"{exc.zh} / {exc.en}") from exc
    except ValueError as exc:  # a target that is not a number
        raise UsageError(str(exc)) from exc
    official = official_stage(store, "en")
    print(
        f"official stage: {official.stage.value}"
        + (
            " (default)"
            if official.is_default
            else f" (set by {official.set_by}, "
            f"{beijing_text(official.set_at, seconds=False)} Beijing time)"
        ),
        file=out,
    )
    print(f"  reason: {official.reason}", file=out)
    print(f"  source: {official.source or '—'}", file=out)
    print(f"coverage threshold: {coverage_threshold(store):.0%}", file=out)
    allocations = store.allocations()
    if allocations.empty:
        print("allocations: none", file=out)
    for row in allocations.itertuples(index=False):
        print(
            f"allocation {row.district_id} {row.year}: {row.target_m2:,.0f} m² ({row.source})",
            file=out,
        )
    return 0


def cmd_reference(args, out) -> int:
    store = _open(args)
    operator = Principal(f"cli:{operating_system_user()}", Role.ADMIN)
    result = refresh_reference(store, operator, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False), file=out)
        return 0
    verb = "would change" if result.dry_run else "changed"
    print(
        f"reference projects {verb}: {len(result.updated)} corrected, {len(result.added)} "
        f"added, {len(result.withdrawn)} withdrawn; {len(result.kept_district)} left to their "
        "district",
        file=out,
    )
    for label, ids in (
        ("corrected", result.updated),
        ("added", result.added),
        ("withdrawn", result.withdrawn),
        ("district's own", result.kept_district),
    ):
        if ids:
            print(f"  {label}: {', '.join(ids)}", file=out)
    print(f"replaced: {', '.join(result.replaced) or '—'}", file=out)
    if result.kept_edited:
        print(f"kept (edited by an admin): {', '.join(result.kept_edited)}", file=out)
    return 0


def cmd_layers(args, out) -> int:
    store = _open(args)
    snapshot = take_snapshot(store)
    table = coverage(snapshot)
    counts = {name: len(getattr(snapshot, name)) for name in LAYERS if name != "sites"}
    counts["sites"] = len(sites_of(store))  # loaded parcels, or the illustrative set
    if args.json:
        json.dump(
            {"layers": counts, "coverage": table.to_dict(orient="records")},
            out,
            ensure_ascii=False,
            indent=2,
        )
        print(file=out)
        return 0
    for name, spec in LAYERS.items():
        print(f"{name:<14} {counts[name]:>5}  {spec.label_zh} / {spec.label_en}", file=out)
        for row in table[table["layer"] == name].itertuples(index=False):
            print(
                f"    {row.aspect:<9} official {row.official:>3}  "
                f"approximate {row.approximate:>3}  "
                f"illustrative {row.illustrative:>3}  missing {row.missing:>3}",
                file=out,
            )
    return 0


def _district(store, district: str | None) -> str | None:
    """A district as people write it (宝安区, 宝安, Bao'an, baoan) → its id; a usage error
    listing the choices otherwise."""
    if district is None:
        return None
    try:
        return resolve_district(district, store.layer("districts"))
    except UnknownDistrict as exc:
        raise UsageError(f"{exc.zh} / {exc.en}") from exc


def _districts(store, districts) -> tuple[str, ...]:
    return tuple(_district(store, d) for d in districts or ())


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise UsageError(f"无法读取文件 / cannot read {path}: {exc.strerror}") from exc


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"无法读取文件 / cannot read {path}: {exc.strerror}") from exc


def _print_report(report, args, out, extra: dict | None = None) -> None:
    if args.json:
        json.dump(report.to_dict() | (extra or {}), out, ensure_ascii=False, indent=2)
        print(file=out)
    else:
        print(report.to_text(args.lang), file=out)


def _refused_as_too_large(args, options: UploadOptions, out) -> bool:
    """A file over the byte limit is reported, without reading it into memory."""
    size = _file_size(args.file)
    if size <= options.limits.max_bytes:
        return False
    report = ValidationReport(filename=args.file.name)
    report.extend(too_large(size, options.limits).findings)
    _print_report(report, args, out)
    return True


def cmd_validate(args, out) -> int:
    store = _open(args)
    options = UploadOptions(_district(store, args.district), args.crs, args.repair)
    if _refused_as_too_large(args, options, out):
        return 1
    data = _read_file(args.file)
    checked = check_upload(
        args.file.name,
        data,
        options,
        store.layer("districts"),
        store.projects(include_deleted=True, columns=["district_id"]),
    )
    _print_report(checked.report, args, out)
    return 0 if checked.accepted else 1


def _actor(store, name: str):
    try:
        return accounts.principal_of(store, name)
    except accounts.AccountError as exc:
        raise UsageError(f"{exc.zh} / {exc.en}（spatial user add …）") from exc


def map_tiles_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-map-tiles", action="store_true", help="do not cut the map's tiles ahead")
    p.add_argument(
        "--map-tiles-dir",
        type=Path,
        default=SERVED_TILES_DIR,
        help="where the app serves its map tiles from (default: static/tiles)",
    )


def _cut_map_tiles(store, actor: Principal, args, out) -> None:
    """After a change: the map's archives cut ahead for its first viewer, as the app cuts them
    after its own commits (the city's, and a district reader's own; nothing for a layer small
    enough for GeoJSON), so opening the map after a command-line import reads no tile cut."""
    if args.no_map_tiles:
        return
    started = time.perf_counter()
    readers = readers_after_change(actor)
    cut = cut_ahead(store, readers, args.map_tiles_dir, TILES_KEY_FILE, shenzhen_today())
    seconds = time.perf_counter() - started
    if cut is None:
        print("地图切片未能预先生成，打开地图时再生成 / the map tiles could not be cut ahead; "
              "the map cuts them when opened", file=sys.stderr)  # fmt: skip
    elif any(tiles is not None for tiles in cut) and not getattr(args, "json", False):
        print(f"地图切片已预先生成（{seconds:.1f} 秒） / map tiles cut ahead for the first viewer "
              f"({seconds:.1f} s)", file=out)  # fmt: skip


def cmd_import(args, out) -> int:
    store = _open(args)
    _file_size(args.file)
    actor = _actor(store, args.user)
    options = UploadOptions(_district(store, args.district), args.crs, args.repair)
    try:
        with args.file.open("rb") as stream:  # stored in parts as read: any size is kept
            submission_id, checked, result = submissions.submit(
                store, args.file.name, stream, options, actor
            )
    except PermissionDenied as exc:
        return _refused(exc)
    extra = {
        "submission_id": submission_id,
        "committed": None if result is None else result.__dict__,
    }
    _print_report(checked.report, args, out, extra)
    if not args.json:
        if result is None:
            print(
                f"上传 #{submission_id} 已拒收，原文件已保存 / submission #{submission_id} "
                "rejected; the original file is kept",
                file=out,
            )
        else:
            print(
                f"上传 #{submission_id} 已提交：新增 {result.created}，更新 {result.updated}，"
                f"未变 {result.unchanged} / committed: {result.created} new, {result.updated} "
                f"changed, {result.unchanged} unchanged",
                file=out,
            )
    if result is not None:
        _cut_map_tiles(store, actor, args, out)
    return 0 if result is not None else 1


def cmd_submissions(args, out) -> int:
    store = _open(args)
    records = store.submissions(_district(store, args.district))
    if args.json:
        json.dump([r.__dict__ for r in records], out, ensure_ascii=False, indent=2, default=str)
        print(file=out)
        return 0
    for r in records:
        print(
            f"#{r.submission_id:<5} {beijing_text(r.received_at, seconds=False)}  {r.status:<10} "
            f"{r.district_id or '-':<10} {r.user_name:<20} {r.size_bytes:>10,d} B  "
            f"{r.sha256[:12]}  {r.filename}",
            file=out,
        )
    return 0


def cmd_undo(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    try:
        n = submissions.undo(store, args.submission_id, actor)
    except (submissions.SubmissionError, PermissionDenied) as exc:
        return _refused(exc)
    print(
        f"已撤销上传 #{args.submission_id}（{n} 个项目恢复或删除） / undid submission "
        f"#{args.submission_id} ({n} projects restored or removed)",
        file=out,
    )
    _cut_map_tiles(store, actor, args, out)
    return 0


def cmd_original(args, out) -> int:
    store = _open(args)
    if store.submission(args.submission_id) is None:
        print(
            f"没有上传 #{args.submission_id} / no submission #{args.submission_id}", file=sys.stderr
        )
        return 1
    args.output.write_bytes(store.submission_content(args.submission_id))
    print(f"{args.output}", file=out)
    return 0


def cmd_user(args, out) -> int:
    store = _open(args)
    if args.user_command == "list":
        for u in store.users():
            print(
                f"{u['user_name']:<24} {u['role']:<9} {u['district_id'] or '-':<10} "
                f"{'active' if u['active'] else 'disabled'}",
                file=out,
            )
        return 0
    operator = Principal(f"cli:{operating_system_user()}", Role.ADMIN)
    try:
        if args.user_command == "add":
            district = _district(store, args.district)
            password = accounts.add_user(store, operator, args.name, args.role, district)
        elif args.user_command == "reset":
            password = accounts.reset_password(store, operator, args.name)
        elif args.user_command == "role":
            accounts.change_role(store, operator, args.name, args.role, args.district)
            row = store.user(args.name)
            print(f"{args.name}: {row['role']} {row['district_id'] or ''}".rstrip(), file=out)
            return 0
        else:
            accounts.set_active(store, operator, args.name, args.user_command == "enable")
            state = "已启用 / enabled" if args.user_command == "enable" else "已停用 / disabled"
            print(f"{args.name} {state}", file=out)
            return 0
    except accounts.AccountError as exc:
        raise UsageError(f"{exc.zh} / {exc.en}") from exc
    print(
        f"{args.name} 的一次性密码（首次登录须修改）/ one-time password (to be changed at the "
        f"next sign-in): {password}",
        file=out,
    )
    return 0


def cmd_export(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    request = ExportRequest(
        layers=LAYER_NAMES if args.layer == "all" else (args.layer,),
        format=args.format,
        crs=args.crs,
        filters=ProjectFilter(
            _districts(store, args.district),
            tuple(args.park),
            tuple(args.status),
            tuple(args.cluster),
            args.year,
        ),
        as_of=args.as_of,
    )
    output = args.output
    folder = output if output.is_dir() else output.parent
    with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as tmp:
        try:  # written beside the output, then moved: the file is never held in memory
            result = export_layers(store, actor, request, folder=Path(tmp))
        except (ExportError, PermissionDenied) as exc:
            return _refused(exc)
        if output.is_dir():
            output = output / result.filename
        suffix = Path(result.filename).suffix  # what the file really is (.zip for shapefiles …)
        if not output.name.lower().endswith(suffix):
            stem = output.name[: -len(output.suffix)] if output.suffix else output.name
            better = output.with_name(
                f"{stem}.shp.zip" if args.format == "shp" else f"{output.name}{suffix}"
            )
            raise UsageError(
                f"这是一个 {suffix} 文件（{args.format}），不能命名为 {output.name}；请用 "
                f"{better.name}（.shp.zip 可直接用 QGIS/GDAL 打开）/ the export is a {suffix} "
                f"file, not {output.name}: name it {better.name} (QGIS and GDAL open a .shp.zip "
                "directly)"
            )
        size = result.path.stat().st_size
        result.path.replace(output)
    rows = ", ".join(f"{k} {v}" for k, v in result.layers.items())
    print(f"{output} ({size:,} bytes; {rows})", file=out)
    return 0


def cmd_map(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    flt = ProjectFilter(districts=_districts(store, args.district), statuses=tuple(args.status))
    try:
        content = offline_map_html(store, actor, flt, args.as_of, args.lang, args.bbox)
    except PermissionDenied as exc:
        return _refused(exc)
    args.output.write_bytes(content)
    print(f"{args.output} ({len(content):,} bytes)", file=out)
    return 0


def cmd_report(args, out) -> int:
    suffix = args.output.suffix.lower().lstrip(".")
    fmt = args.format or (suffix if suffix in REPORT_FORMATS else None)
    if fmt is None:
        raise UsageError(
            "请用 .html 或 .pdf 结尾的文件名，或加 --format html|pdf / "
            "name the output FILE.html or FILE.pdf, or add --format html|pdf"
        )
    store = _open(args)
    actor = _actor(store, args.user)
    stage = Stage(args.stage) if args.stage else None
    request = ReportRequest(args.year, args.as_of, stage, args.lang, fmt, tuple(args.scenario))
    try:
        result = progress_report(store, actor, request)
    except (ReportError, PrintError, PermissionDenied, ScenarioError) as exc:
        return _refused(exc)
    output = args.output / result.filename if args.output.is_dir() else args.output
    output.write_bytes(result.content)
    st = result.report.status
    verdict = result.report.judgement.verdict
    print(
        f"{output} ({len(result.content):,} bytes; {st.year} {st.stage.value} "
        f"{st.year_counted_m2:,.0f} m² of {st.year_target_m2:,.0f}; as of {st.as_of}; "
        f"verdict {verdict.value if verdict else 'not judged'})",
        file=out,
    )
    return 0


def cmd_audit(args, out) -> int:
    store = _open(args)
    events = store.audit(args.user, args.action)
    if args.json:
        print(events.to_json(orient="records", force_ascii=False, date_format="iso"), file=out)
        return 0  # stored UTC, as ISO; people read Beijing time below
    for e in events.itertuples(index=False):
        print(
            f"{beijing_text(e.at)}  {e.user_name:<20} {e.action:<16} "
            f"{'ok ' if e.ok else 'NO '} {e.target or ''}  {e.detail or ''}",
            file=out,
        )
    return 0


def _plain(value):
    """A value for print and JSON: None for missing, Python numbers for numpy ones."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def cmd_project(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    try:
        details = project_details(store, actor, take_snapshot(store, args.as_of), args.project_id)
    except (ProjectNotFound, PermissionDenied) as exc:
        return _refused(exc)
    p = details.project
    fields = {
        k: _plain(v)
        for k, v in p.drop(labels=["geometry"]).items()
        if k not in ("version_id", "valid_to", "is_deleted")
    }
    if args.json:
        history = details.history.astype(object).where(details.history.notna(), None)
        json.dump(
            {
                "project": fields,
                "comments": details.comments.to_dict("records"),
                "history": history.to_dict("records"),
            },
            out,
            ensure_ascii=False,
            indent=2,
            default=str,
        )
        print(file=out)
        return 0
    for key, value in fields.items():
        print(f"{key:<24} {'—' if value is None else value}", file=out)
    print("\n意见 / comments:", file=out)
    for c in details.comments.itertuples():
        print(f"  {beijing_text(c.at, seconds=False)} {c.user_name}: {c.text}", file=out)
    print("\n变更记录 / history (newest first):", file=out)
    for h in details.history.itertuples():
        print(
            f"  {h.valid_from}  {change_kind_label(h.change_kind, 'zh')} / "
            f"{change_kind_label(h.change_kind, 'en')}  {h.changed_by}  {h.status}  "
            f"{h.floor_area_m2}",
            file=out,
        )
    return 0


def cmd_trajectory(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    if not 1 <= args.draws <= 5_000:
        raise UsageError("--draws must be from 1 to 5000")
    group = {"district": "district_id", "park": "park_id", None: None}[args.by]
    t = trajectory(store, actor, args.as_of, group_by=group, draws=args.draws, seed=args.seed)
    if args.json:
        payload = {
            "as_of": t.as_of.isoformat(),
            "official_stage": t.official.value,
            "draws": t.draws,
            "seed": t.seed,
            "measured": t.measured,
            "pledge_total_m2": t.pledge_total_m2,
            "year_met": t.year_met,
            "met_by_pledge_end_share": t.met_by_period_end,
            "observed_slippages": t.observed,
            "band_from_observation": t.banded,
            "undated": t.undated,
            "years": t.by_year.to_dict(orient="records"),
            "supply": t.supply,
            "assumptions": t.assumptions.to_dict(orient="records"),
            "groups": None if t.groups is None else t.groups.to_dict(orient="records"),
        }
        json.dump(standard_json(payload), out, ensure_ascii=False, indent=2, allow_nan=False)
        print(file=out)
        return 0
    _print_trajectory(t, out)
    return 0


def _print_trajectory(t, out) -> None:
    stage = t.official.value
    print(f"supply trajectory as of {t.as_of.isoformat()} (m², P50 [P10–P90], {t.draws} draws)",
          file=out)  # fmt: skip
    print(f"{'year':>6} {'started':>26} {'completed':>26} {'delivered':>26} "
          f"{'cumulative ' + stage:>30} {'pledge':>14}", file=out)  # fmt: skip
    for r in t.by_year.to_dict("records"):
        cells = [
            f"{r[f'{s}_p50_m2']:>12,.0f} [{r[f'{s}_p10_m2']:,.0f}–{r[f'{s}_p90_m2']:,.0f}]"
            for s in ("started", "completed", "delivered")
        ]
        cumulative = (
            f"{r['cumulative_p50_m2']:,.0f} [{r['cumulative_p10_m2']:,.0f}–"
            f"{r['cumulative_p90_m2']:,.0f}]"
        )
        print(f"{r['year']:>6} " + " ".join(f"{c:>26}" for c in cells)
              + f" {cumulative:>30} {_m2(r['cumulative_target_m2']):>14}", file=out)  # fmt: skip
    if t.measured:
        met = str(t.year_met) if t.year_met else f"not by {t.by_year['year'].max()}"
        print(f"pledge of {t.pledge_total_m2:,.0f} m² at {stage}: expected {met}; "
              f"{t.met_by_period_end:.0%} of draws by {t.pledge_end}", file=out)  # fmt: skip
    else:
        print("no allocation for this district: not measured against a target", file=out)
    for s, n in t.observed.items():
        how = "band from observed slippage" if t.banded[s] else "too few: default slippage"
        print(f"  {s}: {n} slippages observed ({how}); {t.undated[s]} undated", file=out)
    s = t.supply
    if s is None:
        return
    if s["d_requirement_per_year_m2"] is None:
        print("years of supply: the pledge period is over", file=out)
        return
    print(
        f"(a) this year's target {s['a_target_m2']:,.0f}\n"
        f"(b) shortfall of the years past {s['b_shortfall_m2']:,.0f}\n"
        f"(c) pledge years left {s['c_years_left']}\n"
        f"(d) = a + b ÷ c, requirement per year {s['d_requirement_per_year_m2']:,.0f}\n"
        f"(e) expected at {stage} in the next 5 years {s['e_supply_p50_m2']:,.0f} "
        f"[{s['e_supply_p10_m2']:,.0f}–{s['e_supply_p90_m2']:,.0f}]\n"
        f"(f) = e ÷ d, years of supply {s['f_years_of_supply']:.2f}",
        file=out,
    )


def _m2(value) -> str:
    return "—" if value is None or value != value else f"{value:,.0f}"


def cmd_assumption(args, out) -> int:
    store = _open(args)
    if args.assumption_command == "set":
        try:
            set_assumption(store, _actor(store, args.user), args.key, args.band, args.days,
                           args.source)  # fmt: skip
        except (TrajectoryError, PermissionDenied) as exc:
            return _refused(exc)
    for r in assumptions_of(store).to_dict("records"):
        zh, en = ASSUMPTION_KEYS[r["key"]]
        print(f"{r['key']:<15} {r['band']:<7} {r['days']:>6} days  {zh} / {en}  ({r['source']})",
              file=out)  # fmt: skip
    return 0


def cmd_capacity(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    group = {"district": "district_id", "park": "park_id"}[args.by]
    summary, sites = capacity(store, actor, group, args.as_of)
    if args.json:
        payload = {
            "illustrative": summary.illustrative,
            "group": group,
            "by_group": summary.by_group.to_dict(orient="records"),
            "total_capacity_m2": summary.total_capacity_m2,
            "pledge_remaining_m2": summary.pledge_remaining_m2,
            "yearly_target_m2": summary.yearly_target_m2,
            "covers_remaining": summary.covers_remaining,
            "plot_ratios": plot_ratios_of(store).to_dict(orient="records"),
        }
        json.dump(standard_json(payload), out, ensure_ascii=False, indent=2, allow_nan=False)
        print(file=out)
        return 0
    if summary.illustrative:
        print("示意 illustrative sites: generated by a stated rule, not real parcels", file=out)
    print(f"{args.by:<10} {'sites':>6} {'transferred ha':>15} {'preparing ha':>13} "
          f"{'reserve ha':>11} {'capacity m²':>14} {'pledge years':>13}", file=out)  # fmt: skip
    for r in summary.by_group.to_dict("records"):
        years = r["pledge_years"]
        years = "—" if years != years else f"{years:.2f}"  # NaN: not measured
        print(f"{r[group]:<10} {r['sites']:>6} {r['land_ha_transferred']:>15,.1f} "
              f"{r['land_ha_preparing']:>13,.1f} {r['land_ha_reserve']:>11,.1f} "
              f"{r['capacity_m2']:>14,.0f} {years:>13}", file=out)  # fmt: skip
    if not summary.measured:
        print(f"capacity {summary.total_capacity_m2:,.0f} m²; no allocation for this district: "
              "not measured against a target", file=out)  # fmt: skip
        return 0
    print(f"city: capacity {summary.total_capacity_m2:,.0f} m² against "
          f"{summary.pledge_remaining_m2:,.0f} m² the pledge still needs "
          f"({summary.covers_remaining:.0%})", file=out)  # fmt: skip
    return 0


def cmd_plot_ratio(args, out) -> int:
    store = _open(args)
    if args.ratio_command == "set":
        value = None if args.plot_ratio.lower() == "none" else _number(args.plot_ratio)
        try:
            set_plot_ratio(store, _actor(store, args.user), args.scope, args.key, value,
                           args.source)  # fmt: skip
        except (CapacityError, PermissionDenied) as exc:
            return _refused(exc)
    for r in plot_ratios_of(store).to_dict("records"):
        print(f"{r['scope']:<9} {r['key']:<12} {r['plot_ratio']:>5}  ({r['source']})", file=out)
    return 0


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise UsageError(f"not a number: {text}") from exc


def cmd_sites(args, out) -> int:
    handler = {"import": _sites_import, "validate": _sites_validate, "list": _sites_list}
    return handler.get(args.sites_command, _sites_rank)(args, out)


def _sites_import(args, out) -> int:
    """``spatial sites import``: the raw bytes kept, checked, committed when accepted."""
    store = _open(args)
    _file_size(args.file)
    actor = _actor(store, args.user)
    options = UploadOptions(_district(store, args.district), args.crs)
    try:
        with args.file.open("rb") as stream:
            submission_id, checked, result = submit_sites(
                store, args.file.name, stream, options, actor
            )
    except PermissionDenied as exc:
        return _refused(exc)
    extra = {"submission_id": submission_id,
             "committed": None if result is None else result.__dict__}  # fmt: skip
    _print_report(checked.report, args, out, extra)
    if not args.json:
        print(f"上传 #{submission_id} 已拒收，原文件已保存 / submission #{submission_id} rejected; "
              "the original file is kept" if result is None else
              f"上传 #{submission_id} 已提交：新增 {result.created}，更新 {result.updated}，"
              f"未变 {result.unchanged}，移除 {result.removed} / committed: {result.created} new, "
              f"{result.updated} changed, {result.unchanged} unchanged, {result.removed} removed "
              f"(undo: spatial undo {submission_id})", file=out)  # fmt: skip
    return 0 if result is not None else 1


def _sites_validate(args, out) -> int:
    store = _open(args)
    options = UploadOptions(_district(store, args.district), args.crs)
    if _refused_as_too_large(args, options, out):
        return 1
    checked = check_site_upload(args.file.name, _read_file(args.file), options,
                                store.layer("districts"), site_owners(store))  # fmt: skip
    _print_report(checked.report, args, out)
    return 0 if checked.accepted else 1


def _sites_list(args, out) -> int:
    store = _open(args)
    sites = sites_of(store)
    district = _district(store, args.district)
    if district is not None:
        sites = sites[sites["district_id"] == district]
    table = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    if args.json:
        json.dump(standard_json({"sites": table.to_dict(orient="records")}), out,
                  ensure_ascii=False, indent=2, allow_nan=False)  # fmt: skip
        print(file=out)
        return 0
    if (table["quality"] == "illustrative").any():
        print("示意 illustrative sites: generated by a stated rule, not real parcels", file=out)
    for r in table.to_dict("records"):
        print(f"{r['site_id']:<12} {r['district_id'] or '—':<10} {r['readiness'] or '—':<12} "
              f"{r['land_area_m2']:>10,.0f} m²  {r['land_use'] or '—'}", file=out)  # fmt: skip
    print(f"{len(table)} sites", file=out)
    return 0


def _sites_rank(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    criteria = SiteCriteria(
        levels=tuple(args.level or ("level1", "level2")),
        in_park=args.in_park,
        readiness=tuple(args.readiness),
        min_land_m2=args.min_area,
        min_capacity_m2=args.min_capacity,
        cluster=args.cluster,
        required=frozenset(args.require),
    )
    try:
        _, sites = capacity(store, actor, "park_id")
        ranked = rank_sites(sites, store.layer("parks"), criteria)
    except ValueError as exc:
        raise UsageError(f"{exc}: --require only what the search asks") from exc
    columns = [
        *("rank", "site_id", "district_id", "park_id", "control_level", "readiness"),
        *("land_area_m2", "capacity_m2", "met", "reason_zh", "reason_en", "quality"),
    ]
    shortlist = pd.DataFrame(ranked[columns])
    if args.output is not None:
        args.output.write_bytes(csv_bytes(shortlist))
    if args.json:
        payload = {"criteria": {**criteria.__dict__, "required": sorted(criteria.required)},
                   "sites": shortlist.to_dict(orient="records")}  # fmt: skip
        json.dump(standard_json(payload), out, ensure_ascii=False, indent=2, allow_nan=False)
        print(file=out)
        return 0
    if (shortlist["quality"] == "illustrative").any():
        print("示意 illustrative sites: generated by a stated rule, not real parcels", file=out)
    for r in shortlist.head(args.top).to_dict("records"):
        print(f"{r['rank']:>4} {r['site_id']:<9} {r['district_id'] or '—':<10} "
              f"{r['park_id'] or '—':<5} {r['capacity_m2']:>12,.0f} m²  {r['reason_en']}",
              file=out)  # fmt: skip
    print(f"{len(shortlist)} sites meet the required criteria", file=out)
    return 0


def cmd_scenario(args, out) -> int:
    store = _open(args)
    actor = _actor(store, args.user)
    try:
        if args.scenario_command == "create":
            create_scenario(store, actor, args.name, args.note, args.district)
        elif args.scenario_command == "change":
            change_scenario(store, actor, args.name, _scenario_change(args))
        elif args.scenario_command == "compare":
            table = compare_scenarios(store, actor, args.names, args.as_of, args.draws)
            if args.output is not None:
                args.output.write_bytes(_comparison_file(store, actor, table, args))
            if args.json:
                json.dump(standard_json(table.to_dict(orient="records")), out,
                          ensure_ascii=False, indent=2, allow_nan=False)  # fmt: skip
                print(file=out)
                return 0
            print(table.to_string(index=False), file=out)
            return 0
    except (ScenarioError, PermissionDenied) as exc:
        return _refused(exc)
    listed = scenario_list(store, actor)
    for r in listed.to_dict("records"):
        print(f"{r['name']:<24} {r['district_id'] or 'city':<10} {r['changes']:>3} changes  "
              f"{r['updated_by']}  {r['note'] or ''}", file=out)  # fmt: skip
    return 0


def _comparison_file(store, actor, table: pd.DataFrame, args) -> bytes:
    """The comparison as the output file's suffix asks: Excel or CSV, headers in ``--lang``."""
    listed = scenario_list(store, actor)
    notes = dict(zip(listed["name"], listed["note"], strict=True))
    if args.output.suffix.lower() == ".xlsx":
        as_of = (args.as_of or shenzhen_today()).isoformat()
        return comparison_workbook(table, notes, args.lang, as_of)
    return comparison_csv(table, notes, args.lang)


def _scenario_change(args) -> dict:
    if args.kind == "move":
        return {"kind": "move", "project_id": args.project_id, "stage": args.stage,
                "days": args.days}  # fmt: skip
    if args.kind == "plot-ratio":
        return {"kind": "plot_ratio", "scope": args.scope, "key": args.key,
                "plot_ratio": args.plot_ratio}  # fmt: skip
    return {"kind": "site", "site_id": args.site_id, "start_date": args.start_date,
            "floor_area_m2": args.area}  # fmt: skip


def _refused(exc) -> int:
    """A refusal the user can act on (permission, export rule, workflow state): one line."""
    print(f"{exc.zh} / {exc.en}", file=sys.stderr)
    return 1


class UsageError(Exception):
    pass


COMMANDS = {
    "init": cmd_init,
    "ledger": cmd_ledger,
    "counting": cmd_counting,
    "reference": cmd_reference,
    "layers": cmd_layers,
    "validate": cmd_validate,
    "import": cmd_import,
    "submissions": cmd_submissions,
    "undo": cmd_undo,
    "original": cmd_original,
    "user": cmd_user,
    "audit": cmd_audit,
    "project": cmd_project,
    "trajectory": cmd_trajectory,
    "assumption": cmd_assumption,
    "capacity": cmd_capacity,
    "plot-ratio": cmd_plot_ratio,
    "sites": cmd_sites,
    "scenario": cmd_scenario,
    "export": cmd_export,
    "map": cmd_map,
    "report": cmd_report,
}


def main(argv: list[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out)
    except BrokenPipeError:  # output piped into `head` and closed early
        return 0
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:  # a traceback shown to a user is a bug: say what failed instead
        print(f"失败 / failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
