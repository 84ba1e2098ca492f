"""Interface text in Chinese (default) and English. Code and identifiers stay in English."""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

TEXT: dict[str, tuple[str, str]] = {
    "app_title": ("深圳工业用地与厂房空间规划平台", "Shenzhen industrial land & factory space"),
    "language": ("语言 / Language", "Language / 语言"),
    "nav_dashboard": ("总览", "Dashboard"),
    "nav_map": ("地图", "Map"),
    "nav_projects": ("项目", "Projects"),
    "nav_trajectory": ("供给轨迹", "Supply trajectory"),
    "nav_capacity": ("用地潜力", "Land capacity"),
    "nav_site_finder": ("选址", "Site finder"),
    "nav_scenarios": ("方案", "Scenarios"),
    "nav_coverage": ("数据说明", "Data coverage"),
    "nav_upload": ("上传", "Upload"),
    "nav_audit": ("审计日志", "Audit trail"),
    "counted_filter": (
        "只显示{years}年按“{stage}”计入的项目（截至 {as_of}，与总览数字一致）",
        "Showing only the projects counted as {stage} in {years} (as of {as_of}; they add up "
        "to the dashboard's figure)",
    ),
    "counted_total": ("{n} 个项目，计入面积合计 {area}", "{n} projects, {area} counted in all"),
    "counted_filter_clear": ("清除此筛选", "Clear this filter"),
    "show_projects_year": ("查看{year}年的项目", "Projects of {year}"),
    "show_projects_period": ("查看累计项目", "Projects of the period"),
    "show_on_map": ("在地图上查看", "Show on the map"),
    "as_of_future": (
        "截止日在未来：这不是预测，只计入今天以前已证实的阶段；计划日期见“预计”。",
        "A future date is not a forecast: only stages confirmed by today count; planned dates "
        "show as expected.",
    ),
    "nav_users": ("用户管理", "Users"),
    "users_name": ("用户名", "User name"),
    "users_role": ("角色", "Role"),
    "users_state": ("状态", "State"),
    "users_active": ("启用", "active"),
    "users_disabled": ("已停用", "disabled"),
    "users_must_change": ("须改密码", "Must change password"),
    "users_created": ("创建时间（北京时间）", "Created (Beijing time)"),
    "users_create": ("新建用户", "New user"),
    "users_create_button": ("创建", "Create"),
    "users_district_if": ("行政区（仅区用户）", "District (district users only)"),
    "users_manage": ("管理用户", "Manage a user"),
    "users_reset": ("重置密码", "Reset password"),
    "users_reset_help": (
        "生成一次性密码，用户下次登录时必须修改；其所有登录随即结束，登录锁定解除。",
        "Makes a one-time password the user must change at the next sign-in; ends their "
        "sessions and lifts a sign-in lock.",
    ),
    "users_disable": ("停用账号", "Disable account"),
    "users_enable": ("启用账号", "Enable account"),
    "users_disable_help": (
        "停用后其所有登录立即结束；启用后须重新登录。",
        "Disabling ends every session at once; after enabling, the user signs in again.",
    ),
    "users_change_role": ("更改角色与行政区", "Change role and district"),
    "users_one_time": (
        "{user} 的一次性密码（只显示这一次，请通过安全渠道转交；首次登录须修改）：",
        "One-time password for {user} (shown this once; hand it over securely; it must be "
        "changed at the first sign-in):",
    ),
    "yes": ("是", "yes"),
    "nav_counting": ("计入口径设置", "Counting settings"),
    "counting_saved": ("已保存，并记入审计日志。", "Saved, and recorded in the audit trail."),
    "counting_official_title": (
        "官方计入口径（判定所用阶段）",
        "Official counting stage (the verdict's)",
    ),
    "counting_official_choice": ("改为", "Change to"),
    "counting_reason": (
        "理由（必填，如依据的文件或会议）",
        "Reason (required: a document or meeting)",
    ),
    "counting_source": ("来源（可空，如文号）", "Source (optional, e.g. a document number)"),
    "counting_save": ("保存", "Save"),
    "counting_threshold_title": ("登记覆盖阈值", "Coverage threshold"),
    "counting_threshold_help": (
        "库内登记（项目数和计划厂房面积）达到公开报道计划总量的这一比例后，才给出进度判定；"
        "不足时判定为“数据不足”。",
        "The share of the publicly reported programme (projects and planned factory area) the "
        "register must hold before progress is judged; below it the verdict is 'insufficient "
        "data'.",
    ),
    "counting_threshold_value": ("阈值（%）", "Threshold (%)"),
    "counting_allocations_title": ("各区分解指标", "District allocations"),
    "counting_allocations_help": (
        "每区每年的分解指标（万㎡）及其来源。五年齐全的区按本区指标判定；没有的区只显示占全市"
        "的比例，不作判定。填 0 表示删除该年。",
        "Each district's yearly allocation (万㎡) and its source. A district with all five years "
        "is judged against them; one without sees its share of the city and no verdict. 0 "
        "removes a year.",
    ),
    "counting_no_allocations": ("尚无分解指标。", "No allocation yet."),
    "counting_allocation_value": ("分解指标", "Allocation"),
    "counting_allocation_year": ("{year}年（万㎡）", "{year} (10,000 m²)"),
    "counting_allocation_source": (
        "来源（必填，文件名或文号）",
        "Source (required: document name or number)",
    ),
    "counting_set_by": ("设定人", "Set by"),
    "counting_set_at": ("时间（北京时间）", "Time (Beijing)"),
    "counting_history": ("设定记录", "Changes"),
    "counting_no_history": ("尚无更改：使用默认设定。", "No change yet: the defaults apply."),
    "counting_change": ("更改", "Change"),
    "counting_value": ("对象", "Target"),
    "counting_detail": ("内容", "Detail"),
    "nav_export": ("导出", "Export"),
    "as_of": ("统计截止日", "As of"),
    "stage": ("计入口径", "Counting stage"),
    "this_year": ("{year}年已{stage}厂房面积", "Factory floor area {stage} in {year}"),
    "of_target": ("年度目标 {target}", "of the {target} target"),
    "cumulative": ("{start}—{end}年累计", "Cumulative {start}–{end}"),
    "of_period_target": ("五年目标 {target}", "of the {target} five-year target"),
    "required_pace": ("剩余每年需完成", "Needed each remaining year"),
    "remaining_years": ("剩余 {n} 年", "{n} years left"),
    "on_track": ("进度正常", "on track"),
    "behind": ("落后于进度", "behind pace"),
    "expected_to_date": ("按进度应完成 {value}", "pace requires {value} by now"),
    "by_year": ("逐年目标与完成情况", "Target and progress by year"),
    "by_district": ("按行政区", "By district"),
    "by_park": ("按园区", "By park"),
    "by_cluster": ("按产业集群", "By cluster"),
    "control_share": ("区块线内外", "Inside vs outside control lines"),
    "inside": ("区块线内", "inside"),
    "outside": ("区块线外", "outside"),
    "no_location": ("无位置", "no location"),
    "overdue": (
        "逾期项目（预计竣工日期已过、未有已证实的竣工）",
        "Past expected completion (no confirmed completion)",
    ),
    "scope_city": ("范围：全市", "Scope: the whole city"),
    "scope_district": ("范围：{name}", "Scope: {name}"),
    "verdict_title": ("判定（按官方口径“{stage}”）", "Verdict (official stage: {stage})"),
    "official_stage_default": (
        "官方口径为默认值（本工具的解读）",
        "The official stage is the default (the tool's reading)",
    ),
    "official_stage_set": (
        "官方口径由 {who} 于 {when}（北京时间）设定",
        "Official stage set by {who} on {when} (Beijing time)",
    ),
    "reason": ("理由", "Reason"),
    "insufficient_rule": (
        "数据不足：库内登记少于公开报道的计划总量的 {threshold:.0%}（项目数或计划厂房面积），"
        "进度无法判定。",
        "Insufficient data: the register holds less than {threshold:.0%} of the programme reported "
        "in public sources (projects or planned factory area), so progress cannot be judged.",
    ),
    "insufficient_district_rule": (
        "数据不足：本区最近一次成功上传早于一个季度（或从未上传），进度无法判定。",
        "Insufficient data: the district's last accepted upload is more than a quarter old (or "
        "there is none), so progress cannot be judged.",
    ),
    "verdict_pace": (
        "按进度截至 {as_of} 应累计 {expected}，已计入 {counted}。",
        "By {as_of} the pace requires {expected}; {counted} is counted.",
    ),
    "no_allocation": (
        "本区尚无分解指标，不与全市目标比较；本区计入面积占全市的 {share}。",
        "This district has no allocation, so it is not measured against the city's target; its "
        "counted area is {share} of the city's.",
    ),
    "district_allocation": (
        "按本区分解指标（来源：{source}）",
        "Against the district's allocation (source: {source})",
    ),
    "pipeline": ("开工 → 竣工 → 交付", "Started → completed → delivered"),
    "stage_year": ("{year}年{stage}", "{stage} in {year}"),
    "stage_period": ("{start}—{end}年累计", "{start}–{end} total"),
    "gap": ("差 {value}", "{value} short"),
    "reached": ("已达到", "reached"),
    "official_mark": ("官方口径", "official stage"),
    "expected_note": (
        "另有计划/推断 {value}（不计入）",
        "plus {value} planned/inferred (not counted)",
    ),
    "register_coverage_title": ("登记覆盖率", "Register coverage"),
    "coverage_projects": ("登记项目 / 公开报道", "Projects registered / reported"),
    "coverage_area": ("登记计划厂房面积 / 公开报道", "Planned factory area registered / reported"),
    "coverage_reported": ("公开报道：{date}（{source}）", "Reported {date} ({source})"),
    "district_submissions": ("各区上报情况", "District submissions"),
    "last_upload": ("最近一次通过的上传（北京时间）", "Last accepted upload (Beijing time)"),
    "upload_state": ("状态", "State"),
    "state_current": ("本季度内已上报", "current"),
    "state_stale": ("超过一个季度未上报", "older than a quarter"),
    "state_never": ("从未上报", "never submitted"),
    "see_projects": ("查看这些项目", "See these projects"),
    "no_overdue": ("截至该日没有逾期项目。", "No overdue projects on that date."),
    "counting_rule": ("统计口径", "Counting rule"),
    "data_note": (
        "数据说明：内置数据来自公开报道（{n} 个项目），不是官方台账；区块线为示意图层。"
        "实际完成量以各区上传数据为准。",
        "Data note: the shipped data come from public reporting ({n} projects), not an official "
        "register; the control-line layer is illustrative. Figures become real as districts "
        "upload.",
    ),
    "reported_totals": ("公开报道的计划总量", "Programme totals reported in public sources"),
    "before_period": (
        "2023年前已计入的面积（不计入承诺）",
        "Area counted before 2023 (outside the pledge)",
    ),
    "undated": (
        "状态已达到但缺少日期的项目（不计入任何年份）",
        "Projects at that stage with no date (counted in no year)",
    ),
    "no_area": ("缺少面积的项目", "Projects without a floor area"),
    "target": ("目标", "target"),
    "year": ("年份", "year"),
    "area_m2": ("面积（㎡）", "area (m²)"),
    "share": ("占比", "share"),
    "projects_count": ("项目数", "projects"),
    "unassigned": ("未归属", "unassigned"),
    "filters": ("筛选", "Filters"),
    "district": ("行政区", "District"),
    "park": ("园区", "Park"),
    "status": ("状态", "Status"),
    "cluster": ("产业集群", "Cluster"),
    "cluster_matched": ("产业集群（本工具匹配）", "Cluster (the tool's matching)"),
    "cluster_matching": (
        "项目所属“20+8”集群是本工具按项目的产业方向关键词自行匹配的（关键词表随本工具发布），"
        "不是官方归类。",
        "The projects' \"20+8\" clusters are this tool's own matching of their industries by "
        "keyword (the keyword table ships with the tool), not an official classification.",
    ),
    "cluster_double_count": (
        "一个项目涉及多个集群时，面积计入每个集群，合计可能超过总量。",
        "A project in several clusters counts in each; the column can add up to more than the "
        "total.",
    ),
    "all": ("全部", "all"),
    "col_target_m2": ("目标（㎡）", "target (m²)"),
    "col_started_m2": ("开工（㎡）", "started (m²)"),
    "col_started_expected_m2": (
        "预计开工（计划/推断，㎡）",
        "started, expected (planned/inferred, m²)",
    ),
    "col_completed_expected_m2": (
        "预计竣工（计划/推断，㎡）",
        "completed, expected (planned/inferred, m²)",
    ),
    "col_delivered_expected_m2": (
        "预计交付（计划/推断，㎡）",
        "delivered, expected (planned/inferred, m²)",
    ),
    "col_completed_m2": ("竣工（㎡）", "completed (m²)"),
    "col_delivered_m2": ("交付（㎡）", "delivered (m²)"),
    "col_cumulative_m2": ("累计（㎡）", "cumulative (m²)"),
    "col_cumulative_target_m2": ("累计目标（㎡）", "cumulative target (m²)"),
    "col_gap_m2": ("缺口（㎡）", "gap (m²)"),
    "col_required_pace_m2": ("所需年均（㎡）", "required pace (m²/year)"),
    "any_year": ("全部年份", "all years"),
    "year_filter": ("年份（开工、竣工或交付日期）", "Year (start, completion or delivery date)"),
    "year_filter_help": (
        "保留开工、竣工或交付日期中任一落在该年的项目（含计划日期）。",
        "Keeps projects with a start, completion or delivery date in that year (planned "
        "dates included).",
    ),
    "basemap": ("底图", "Basemap"),
    "basemap_none": ("矢量底图（行政区，离线）", "Vector basemap (districts, offline)"),
    "basemap_osm": ("OpenStreetMap（需联网）", "OpenStreetMap (online)"),
    "basemap_tianditu": ("天地图（需密钥，需联网）", "Tianditu (key, online)"),
    "basemap_amap": (
        "高德（GCJ-02，叠加图层仅显示时偏移）",
        "Amap (GCJ-02; overlays shifted for display only)",
    ),
    "basemap_custom": ("自定义瓦片地址（内网）", "Custom tile URL (intranet)"),
    "tianditu_key": ("天地图密钥 tk", "Tianditu key (tk)"),
    "custom_url": ("瓦片地址模板 {z}/{x}/{y}", "Tile URL template {z}/{x}/{y}"),
    "custom_gcj": ("该瓦片为 GCJ-02 坐标", "These tiles are GCJ-02"),
    "layer_districts": ("行政区", "Districts"),
    "layer_parks": ("20大先进制造业园区（位置示意）", "20 manufacturing parks (approx. location)"),
    "layer_control_level1": ("工业区块线 一级线（示意）", "Control lines level 1 (illustrative)"),
    "layer_sites": ("地块", "Sites"),
    "layer_sites_illustrative": ("地块（示意）", "Sites (illustrative)"),
    "site": ("地块", "Site"),
    "land_use": ("用地性质", "Land use"),
    "land_area_m2": ("用地面积（㎡）", "Land area (m²)"),
    "existing_floor_area_m2": ("现状建筑面积（㎡）", "Existing floor area (m²)"),
    "attainable_plot_ratio": ("可达容积率", "Attainable plot ratio"),
    "capacity_m2": ("潜力建筑面积（㎡）", "Capacity (m²)"),
    "readiness": ("用地状态", "Readiness"),
    "owner_type": ("权属", "Owner type"),
    "rank": ("排序", "Rank"),
    "layer_control_level2": ("工业区块线 二级线（示意）", "Control lines level 2 (illustrative)"),
    "layer_projects": ("工业上楼项目", "工业上楼 projects"),
    "legend": ("图例", "Legend"),
    "legend_size": ("圆圈大小 ∝ 厂房面积", "circle size ∝ floor area"),
    "outline_missing": (
        "{name}：轮廓缺失（无公开边界）",
        "{name}: outline missing (no public boundary)",
    ),
    "map_search": ("查找项目", "Find a project"),
    "map_search_matches": ("匹配的项目", "Matching projects"),
    "table_page": ("页码（共 {pages:,} 页）", "Page (of {pages:,})"),
    "table_rows_shown": (
        "表中为第 {first:,}–{last:,} 个（按编号，共 {total:,} 个）；筛选以缩小范围，"
        "或下载 CSV 取得全部。",
        "The table shows projects {first:,}–{last:,} by id (of {total:,}); filter to narrow "
        "them, or download the CSV for all.",
    ),
    "map_search_none": (
        "没有编号或名称含此文字的项目。",
        "No project id or name contains this text.",
    ),
    "map_table_in_view": (
        "下表列出当前视图内的项目（按编号前 {n:,} 个，视图内共 {total:,} 个）；"
        "缩放地图或筛选以缩小范围。",
        "The table lists the projects in the current view (the first {n:,} by id of "
        "{total:,} in view); zoom the map or filter to narrow it.",
    ),
    "map_tiles_building": (
        "正在为大量项目生成矢量瓦片（数据更新后首次打开时）……",
        "Cutting the many projects into vector tiles (the first view after a change)…",
    ),
    "map_search_placeholder": ("输入项目编号或名称", "Type a project id or name"),
    "map_details_hint": (
        "点击地图上的项目，或在下方表格中选择一行，在此查看详情、意见与变更记录。",
        "Click a project on the map, or pick a row in the table below, to see its details, "
        "comments and history here.",
    ),
    "field": ("字段", "Field"),
    "value": ("值", "Value"),
    "map_open_in_table": ("在项目表中查看", "Open in the project table"),
    "map_comments": ("意见（{n}）", "Comments ({n})"),
    "map_no_comments": ("暂无意见。", "No comments yet."),
    "map_history": ("变更记录（{n}）", "History ({n})"),
    "map_history_when": ("时间（北京时间）", "When (Beijing time)"),
    "map_history_change": ("变更", "Change"),
    "map_history_by": ("操作人", "By"),
    "project_focus": ("只显示项目 {id}（来自地图）", "Showing project {id} only (from the map)"),
    "project_focus_clear": ("显示全部项目", "Show all projects"),
    "map_fullscreen": ("全屏 / 退出全屏", "Full screen / exit"),
    "map_readout_hint": ("移动鼠标查看坐标", "Move the mouse for coordinates"),
    "legend_illustrative": ("示意，非官方", "illustrative, not official"),
    "shown_projects": (
        "显示 {n} / {total} 个项目（{unlocated} 个无位置未上图）",
        "{n} of {total} projects shown ({unlocated} without location not on the map)",
    ),
    "name": ("名称", "Name"),
    "floor_area": ("总建筑面积（㎡）", "Floor area (m²)"),
    "factory_floor_area": ("厂房面积（㎡）", "Factory floor area (m²)"),
    "land_area": ("用地面积（㎡）", "Land area (m²)"),
    "plot_ratio": ("容积率", "Plot ratio"),
    "start_date": ("开工日期", "Start date"),
    "completion_date": ("竣工日期（实际/预计）", "Completion (actual/expected)"),
    "delivery_date": ("交付日期", "Delivery date"),
    "developer": ("建设/运营主体", "Developer"),
    "industries": ("产业方向", "Industries"),
    "confidence": ("可信度说明", "Confidence"),
    "source": ("来源", "Source"),
    "quality": ("数据质量", "Data quality"),
    "location_quality": ("位置质量", "Location quality"),
    "inside_control_line": ("位于区块线内", "Inside control line"),
    "control_level": ("区块线级别", "Control-line level"),
    "park_basis": ("园区归属依据", "Park basis"),
    "basis_spatial": ("空间叠加", "spatial overlay"),
    "basis_declared": ("来源所述", "stated by source"),
    "basis_none": ("无", "none"),
    "located_district": ("落点所在行政区", "District at location"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "projects_title": ("工业上楼项目清单", "工业上楼 project list"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "coverage_title": ("数据覆盖与来源", "Data coverage and sources"),
    "coverage_intro": (
        "下表列出每个图层有多少要素是官方、近似、示意或缺失的，以及来源。"
        "请勿把近似位置或示意图层当作官方边界。",
        "How many features of each layer are official, approximate, illustrative or missing, "
        "and where they come from. Do not mistake an approximate location or an illustrative "
        "layer for an official boundary.",
    ),
    "layer": ("图层", "Layer"),
    "aspect": ("内容", "Aspect"),
    "features": ("要素数", "Features"),
    "official": ("官方", "official"),
    "approximate": ("近似", "approximate"),
    "illustrative": ("示意", "illustrative"),
    "missing": ("缺失", "missing"),
    "sources_title": ("来源列表", "Sources"),
    "pledge_title": ("承诺目标表", "Pledge schedule"),
    "clusters_title": ("“20+8”产业集群（2024年版）", 'The "20+8" clusters (2024 version)'),
    "parks_title": ("20大先进制造业园区", "The 20 advanced manufacturing parks"),
    "name_status": ("名称核实", "Name"),
    "name_confirmed": ("已核实", "confirmed"),
    "name_inferred": ("推断", "inferred"),
    "name_missing": ("未公开", "not public"),
    "error_generic": (
        "出错了：{what}。数据未被修改。请刷新页面重试；若反复出现，请联系管理员并提供时间 {when}。",
        "Something went wrong: {what}. No data was changed. Reload and try again; if it keeps "
        "happening, tell the administrator the time {when}.",
    ),
    # 进度报告 progress report (spatial/outputs/report.py)
    "report_title": (
        "深圳市新增工业厂房空间进度报告（{year}年）",
        "Shenzhen new factory space: progress report {year}",
    ),
    "report_pledge": (
        "承诺：2023—2027年每年建设/推出不少于 2000 万平方米工业厂房空间（工业上楼）",
        "Pledge: build / put on offer at least 20 million m² of factory space a year, "
        "2023–2027 (工业上楼)",
    ),
    "report_meta": (
        "统计截止 {as_of} · 计入口径：{stage}（官方口径：{official}）· 范围：{scope}",
        "As of {as_of} · counted at: {stage} (official stage: {official}) · scope: {scope}",
    ),
    "report_generated": ("{at} 由 {user} 生成", "generated {at} by {user}"),
    "report_scope_city": ("全市", "whole city"),
    "report_scope_some": (
        "{names}（仅账号可读范围）",
        "{names} only (what this account may read)",
    ),
    "report_not_judged": ("不作判定", "not judged"),
    "report_no_target": ("无分解指标，不与全市目标比较", "no allocation: not measured"),
    "report_verdict": ("判定与登记覆盖", "Verdict and register coverage"),
    "report_pipeline": ("开工 → 竣工 → 交付", "Started → completed → delivered"),
    "report_pipeline_year": ("{year}年", "{year}"),
    "report_pipeline_period": ("{start}—{end}年累计", "{start}–{end} total"),
    "report_stage": ("阶段", "Stage"),
    "report_counted": ("已计入（㎡）", "Counted (m²)"),
    "report_target": ("目标（㎡）", "Target (m²)"),
    "report_gap": ("差额（㎡）", "Short (m²)"),
    "report_expected": ("计划/推断，不计入（㎡）", "Planned/inferred, not counted (m²)"),
    "report_coverage_projects": (
        "登记项目 {held} 个，公开报道 {reported} 个（{share}，{date}，{source}）",
        "{held} projects registered of {reported} reported ({share}; {date}, {source})",
    ),
    "report_coverage_area": (
        "登记计划厂房面积 {held}，公开报道 {reported}（{share}，{date}，{source}）",
        "{held} planned factory area registered of {reported} reported ({share}; {date}, {source})",
    ),
    "report_summary_unmeasured": (
        "截至{as_of}，{year}年已{stage}工业厂房空间 {counted}；{start}—{year}年累计 {cumulative}，"
        "占全市的 {share}。本区尚无分解指标，不与全市目标比较。",
        "As of {as_of}, {counted} of factory space was {stage} in {year}; {cumulative} over "
        "{start}–{year}, {share} of the city's. The district has no allocation, so it is not "
        "measured against the city's target.",
    ),
    "report_headline": ("要点", "Headlines"),
    "report_year_counted": ("{year}年已{stage}", "{stage} in {year}"),
    "report_of_year_target": ("占年度目标 {target} 的 {pct}", "{pct} of the {target} target"),
    "report_cumulative": ("{start}—{year}年累计已{stage}", "{stage}, {start}–{year}"),
    "report_of_cumulative_target": (
        "累计目标 {target}，完成 {pct}",
        "{pct} of the cumulative {target} target",
    ),
    "report_pace": ("进度判断", "Pace"),
    "report_pace_expected": ("按进度应完成 {value}", "pace requires {value}"),
    "report_required_note": (
        "剩余 {n} 年，共缺 {gap}",
        "{n} years left, {gap} still to deliver",
    ),
    "report_period_over": ("承诺期已结束", "the pledge period is over"),
    "report_year_open": ("{year}年尚未结束", "{year} is not over"),
    "report_year_closed": ("{year}年已结束", "{year} is over"),
    "report_summary": (
        "截至{as_of}，{year}年已{stage}工业厂房空间 {counted}，为年度目标 {target} 的 {pct}；"
        "{start}—{year}年累计 {cumulative}，{verdict}。",
        "As of {as_of}, {counted} of factory space was {stage} in {year}, {pct} of the "
        "{target} target; {cumulative} over {start}–{year}, {verdict}.",
    ),
    "report_verdict_on_track": ("进度正常", "on track"),
    "report_verdict_behind": (
        "落后于进度 {behind}",
        "{behind} behind pace",
    ),
    "report_by_year": ("一、逐年目标与完成情况", "1. Target and progress by year"),
    "report_by_district": ("二、按行政区", "2. By district"),
    "report_by_park": ("三、按园区（20大先进制造业园区）", "3. By park (the 20 parks)"),
    "report_overdue": ("四、逾期项目", "4. Overdue projects"),
    "report_coverage": ("五、数据覆盖与统计口径", "5. Data coverage and counting rule"),
    "report_scenarios": (
        "六、方案比较（预测，不计入台账）",
        "6. Scenarios compared (projections, not counted)",
    ),
    "report_scenarios_note": (
        "方案是在官方项目库之上的假设改动，不改变以上任何数字。P10/P50/P90 为按已观测延误重抽样的"
        "模拟分位数；方法见 README“供给轨迹”“方案”。",
        "A scenario is a set of assumed changes on top of the official register; it changes no "
        "figure above. P10/P50/P90 are percentiles over draws resampling the observed delays; "
        "the method is in the README (trajectory, scenarios).",
    ),
    "report_group_year": ("{year}年{stage}（㎡）", "{stage} in {year} (m²)"),
    "report_group_cumulative": (
        "{start}—{year}年累计{stage}（㎡）",
        "{stage} {start}–{year} (m²)",
    ),
    "report_group_projects": ("项目数", "Projects"),
    "report_group_overdue": ("逾期", "Overdue"),
    "report_not_in_park": ("不在园区内", "not in a park"),
    "report_chart_district": (
        "{year}年各区{stage}面积（㎡）",
        "{stage} in {year} by district (m²)",
    ),
    "report_no_area_year": (
        "{year}年尚无{stage}面积计入。",
        "No area {stage} in {year} yet.",
    ),
    "report_parks_shown": (
        "只列出有项目的园区；其余 {n} 个园区暂无已收录项目。",
        "Only parks with projects are listed; the other {n} have no recorded project.",
    ),
    "report_excluded": (
        "未计入：2023年前{stage}的面积 {before}；状态已达到但缺日期的项目 {undated} 个；"
        "缺面积的项目 {no_area} 个。",
        "Not counted: area {stage} before 2023 {before}; {undated} projects at the stage "
        "without a date; {no_area} projects without a floor area.",
    ),
    "report_programme": (
        "公开报道的计划总量（供对照，非本库统计）",
        "Programme totals reported in public sources (for comparison; not counted here)",
    ),
    "report_sources": ("来源", "Sources"),
    "report_metric": ("指标", "Metric"),
    "report_value": ("数值", "Value"),
    "report_date": ("日期", "Date"),
    "report_period": ("时期", "Period"),
    "report_note": ("说明", "Note"),
    "report_footer": (
        "本报告由深圳工业空间规划平台生成；数字按上述口径从数据库计算，位置为近似/示意。",
        "Generated by the Shenzhen industrial space planning tool; figures computed from the "
        "database by the rule above; locations approximate / illustrative.",
    ),
    "million_m2": ("{v:,.1f} 万㎡", "{v:,.2f} million m²"),
}


class BilingualError(Exception):
    """A refusal a person can act on: what is wrong and what to do, in Chinese and English.
    Subclasses name the domain (export, report, printing, accounts, submissions)."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        return self.zh if lang == "zh" else self.en


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values) -> str:
    """The text for ``key`` in ``lang`` ('zh' or 'en'), formatted with ``values``."""
    zh, en = TEXT[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def fmt_area(m2: float, lang: str = DEFAULT_LANGUAGE) -> str:
    """An area for people: 万㎡ in Chinese, million m² in English."""
    return fmt_areas([m2], lang)[0]


def fmt_areas(m2, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """:func:`fmt_area` of each of ``m2`` (numbers; NaN or None: "—"), the text looked up
    once: a map's 10⁵ area labels in 0.1 s, not 0.35 s a language."""
    text = TEXT["million_m2"][0 if lang == "zh" else 1]
    scale = 1e4 if lang == "zh" else 1e6
    return ["—" if v is None or v != v else text.format(v=v / scale) for v in m2]
