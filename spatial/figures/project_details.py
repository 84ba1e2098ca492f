"""One project in full (项目详情): its fields as of a date, its comments and its history — what
the map's details panel and ``spatial project`` show. Readable only by who may read the
project's district, checked here."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from spatial.auth import Action, Principal, require
from spatial.figures.snapshot import Snapshot
from spatial.i18n import BilingualError
from spatial.store import comments
from spatial.store.database import Store, end_of_day

# how a version came to be, as people say it
CHANGE_KIND_LABELS: dict[str, tuple[str, str]] = {
    "seed": ("随系统发布的参考数据", "shipped reference data"),
    "create": ("新增", "created"),
    "update": ("修改", "changed"),
    "delete": ("删除", "deleted"),
    "undo": ("撤销上传", "upload undone"),
    "correction": ("参考数据更正", "reference correction"),
}
HISTORY_COLUMNS = (
    "valid_from",
    "change_kind",
    "changed_by",
    "submission_id",
    "status",
    "floor_area_m2",
    "start_date",
    "completion_date",
    "delivery_date",
)


class ProjectNotFound(BilingualError):
    """No project with that id as of the date (or not one the user may read)."""


@dataclass(frozen=True)
class ProjectDetails:
    project: pd.Series  # the project as of the snapshot's date, with its derived fields
    comments: pd.DataFrame  # comment_id, user_name, at, text — oldest first
    history: pd.DataFrame  # HISTORY_COLUMNS, one row per version up to the date, newest first


def project_details(
    store: Store, actor: Principal, snapshot: Snapshot, project_id: str
) -> ProjectDetails:
    """``project_id`` as ``snapshot`` holds it, with its comments and its versions up to the
    snapshot's date. Refused unless ``actor`` may read the project's district."""
    match = snapshot.projects[snapshot.projects["project_id"] == project_id]
    if match.empty:
        raise ProjectNotFound(
            f"项目 {project_id} 在 {snapshot.as_of.isoformat()} 不存在："
            "请核对项目编号或统计截止日。",
            f"No project {project_id} as of {snapshot.as_of.isoformat()}: check the id or the "
            "as-of date.",
        )
    project = match.iloc[0]
    require(actor, Action.READ, project["district_id"])
    history = store.project_history(project_id)
    history = history[pd.to_datetime(history["valid_from"]) <= end_of_day(snapshot.as_of)]
    history = history[[c for c in HISTORY_COLUMNS if c in history.columns]]
    return ProjectDetails(
        project=project,
        comments=comments.comments(store, actor, project_id),
        history=history.iloc[::-1].reset_index(drop=True),
    )


def change_kind_label(kind: object, lang: str) -> str:
    zh, en = CHANGE_KIND_LABELS.get(str(kind), (str(kind), str(kind)))
    return zh if lang == "zh" else en
