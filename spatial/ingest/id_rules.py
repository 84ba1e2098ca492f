"""Project ids: the key every version, comment and undo hangs on. Unique in the file, short
enough for the store, free of invisible characters, not a lookalike (case or full/half
width) of another id, and not owned by another district."""

from __future__ import annotations

import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spatial.ingest.columns import ProjectTable
from spatial.ingest.district_rules import district_names
from spatial.ingest.field_rules import ProjectFields

MAX_ID_CHARS = 64  # the store's id column (PostgreSQL refuses longer; SQLite would not)
INVISIBLE_CHARACTERS = (  # controls, soft hyphen, zero-width, direction marks, odd spaces
    r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
    r"\ufeff\u00a0\u2000-\u200a\u3000]"
)


def id_key(project_id: str) -> str:
    """What two ids that look alike share: NFKC (full/half width) and case folded."""
    return unicodedata.normalize("NFKC", project_id).casefold()


def id_keys(ids: pd.Series) -> pd.Series:
    """:func:`id_key` of every id ("" for a missing one), as Arrow text: an ASCII id is its
    lower case (NFKC changes no ASCII text, and case folding ASCII is lowering it), made in
    Arrow's kernels; only the others go through :func:`id_key` one by one. At 10⁵ ids, no
    Python string per id (an update's check folded the stored ids too: 0.4 s)."""
    text = pa.array(ids.fillna("").astype("str"), type=pa.large_string())
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    ascii_only = pc.string_is_ascii(text)
    keys = pc.ascii_lower(text)
    if not pc.all(ascii_only).as_py():
        other = pc.invert(ascii_only)
        folded = [id_key(v) for v in pc.filter(text, other).to_pylist()]
        keys = pc.replace_with_mask(keys, other, pa.array(folded, type=pa.large_string()))
    return pd.Series(pd.arrays.ArrowStringArray(keys), index=ids.index).astype("str")


def _sorted_runs(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The rows in a stable sort of ``ids`` (as text, in Arrow), and for each neighbouring
    pair in that order whether the two are equal (a missing id equals nothing). Sorting in
    Arrow holds no Python string per id: pandas' hash table of them peaked at 15 MB for 10⁵
    ids (``duplicated``, ``unique``), this at a third of that."""
    text = pa.array(ids.astype("str"), type=pa.large_string(), from_pandas=True)
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    order = pc.sort_indices(text)
    ordered = text.take(order)
    same = pc.fill_null(pc.equal(ordered[1:], ordered[:-1]), False)
    return order.to_numpy(), np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)


def repeated(ids: pd.Series) -> pd.Series:
    """Whether each row's id appears in another row too (``duplicated(keep=False)``, but a
    missing id is never repeated)."""
    if len(ids) < 2:
        return pd.Series(False, index=ids.index)
    order, same = _sorted_runs(ids)
    near = np.zeros(len(ids), dtype=bool)
    near[1:] |= same
    near[:-1] |= same
    out = np.empty(len(ids), dtype=bool)
    out[order] = near
    return pd.Series(out, index=ids.index)


def last_of_each(ids: pd.Series) -> np.ndarray:
    """For each row, whether no later row holds the same id (``~duplicated(keep="last")``;
    every missing id counts as its own)."""
    if len(ids) < 2:
        return np.ones(len(ids), dtype=bool)
    order, same = _sorted_runs(ids)  # stable: of equal ids, the last row sorts last
    last = np.ones(len(ids), dtype=bool)
    last[order[:-1][same]] = False
    return last


def id_rules(
    table: ProjectTable,
    fields: ProjectFields,
    existing: pd.DataFrame | None,
    district_id: str | None,
    districts: gpd.GeoDataFrame,
) -> None:
    """The rules on ids within the file, then against the store's ``existing`` ids
    (``project_id``, ``district_id``)."""
    pid = fields.values["project_id"]
    dupes = pid.notna() & repeated(pid)
    table.rows.error(
        dupes,
        "duplicate_id",
        "项目编号 {value} 在文件中重复出现",
        "project id {value} appears more than once in the file",
        "每个项目使用唯一编号。",
        "Give every project its own id.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i]},
    )
    _id_spelling(table, pid)
    folded = id_keys(pid)
    if existing is not None and not existing.empty:
        _lookalike_of_existing(table, pid, folded, existing)
    table.rows.error(
        pid.notna() & repeated(folded) & ~dupes,
        "id_lookalike",
        "项目编号 “{value}” 与文件中另一编号只差大小写或全角/半角",
        "project id '{value}' differs from another id in the file only in case or width",
        "每个项目使用明显不同的编号。",
        "Give every project a clearly different id.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i]},
    )
    if district_id is not None and existing is not None and not existing.empty:
        _owned_by_other_district(table, pid, existing, district_id, districts)


def _id_spelling(table: ProjectTable, pid: pd.Series) -> None:
    table.rows.error(
        pid.fillna("").str.len() > MAX_ID_CHARS,
        "id_too_long",
        f"项目编号 “{{value}}” 超过 {MAX_ID_CHARS} 个字符",
        f"project id '{{value}}' is longer than {MAX_ID_CHARS} characters",
        "使用简短的编号，如 BA-2024-001。",
        "Use a short id such as BA-2024-001.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i][:40] + "…"},
    )
    table.rows.error(
        pid.fillna("").str.contains(INVISIBLE_CHARACTERS, regex=True),
        "id_invisible_character",
        "项目编号 “{value}” 含有看不见的字符（零宽、方向控制等），看起来相同的编号会变成另一个项目",
        "project id '{value}' holds invisible characters (zero-width, direction marks); a "
        "lookalike id would become another project",
        "重新输入编号，只用字母、数字、汉字和 - _ 等可见字符。",
        "Type the id again using visible letters, digits, Chinese and - _ only.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i].encode("unicode_escape").decode("ascii")[:60]},
    )


def _lookalike_of_existing(
    table: ProjectTable, pid: pd.Series, folded: pd.Series, existing: pd.DataFrame
) -> None:
    stored = existing["project_id"].astype("str")
    first = last_of_each(stored[::-1])[::-1]  # each id once, where it is first named
    known = stored[first].reset_index(drop=True)
    keys = id_keys(known)
    last = last_of_each(keys)  # of stored lookalikes, the last named
    at = pd.Index(keys[last]).get_indexer(folded)  # hashed in Arrow, not per Python string
    other_spelling = pd.Series(
        known[last].reset_index(drop=True).reindex(at).to_numpy(), index=folded.index
    )
    table.rows.error(
        pid.notna() & other_spelling.notna() & (other_spelling != pid),
        "id_lookalike",
        "项目编号 “{value}” 与已有编号 “{known}” 只差大小写或全角/半角",
        "project id '{value}' differs from the existing id '{known}' only in case or width",
        "使用已有编号的原样写法（更新该项目），或另取一个明显不同的编号。",
        "Spell it exactly as the existing id (to update that project), or choose a "
        "clearly different id.",
        fld="project_id",
        fmt=lambda i: {"value": pid[i], "known": other_spelling[i]},
    )


def _owned_by_other_district(
    table: ProjectTable,
    pid: pd.Series,
    existing: pd.DataFrame,
    district_id: str,
    districts: gpd.GeoDataFrame,
) -> None:
    names = district_names(districts)
    owner = existing.set_index("project_id")["district_id"]
    owner = owner[~owner.index.duplicated()]
    other = pid.map(owner)
    table.rows.error(
        pid.notna() & other.notna() & (other != district_id),
        "id_of_other_district",
        "项目编号 {value} 已属于{other}，不能由本区修改",
        "project id {value} belongs to {other_en}; this district cannot change it",
        "使用本区的项目编号；如需移交项目请联系管理员。",
        "Use this district's ids; ask the administrator to transfer a project.",
        fld="project_id",
        fmt=lambda i: {
            "value": pid[i],
            "other": names.get(other[i], (other[i],))[0],
            "other_en": names.get(other[i], ("", other[i]))[1],
        },
    )
