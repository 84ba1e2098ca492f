"""District names as people write them: 宝安区, 宝安, Bao'an, baoan, Bao'an District, ＢＡＯＡＮ —
all the same district. One lookup, used by the command line, uploads, accounts and settings."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from spatial.i18n import BilingualError

_SUFFIXES_ZH = ("特别合作区", "新区", "区")
_SUFFIXES_EN = ("specialcooperationzone", "newdistrict", "district")
_NOT_LETTERS = re.compile(r"[\s'’‘`\-_.·•]+")


class UnknownDistrict(BilingualError):
    """A district name that matches no district; lists the names that do."""


def _key(text: str) -> str:
    """Compare names after NFKC (full-width letters), case folding and dropping spaces,
    apostrophes and hyphens."""
    return _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", str(text)).casefold())


def _spellings(district_id: str, name_zh: str, name_en: str) -> set[str]:
    names = {district_id, name_zh, name_en}
    for suffix in _SUFFIXES_ZH:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix) + 1:
            names.add(name_zh.removesuffix(suffix))
    english = _key(name_en)
    for suffix in _SUFFIXES_EN:
        names.add(english + suffix)  # "Bao'an District", "Dapeng New District"
        if english.endswith(suffix):
            names.add(english.removesuffix(suffix))
    if district_id == "shenshan":
        names |= {"深汕", "深汕合作区", "shenshan", "shenzhenshanwei"}
    return {_key(n) for n in names if n}


def district_lookup(districts: pd.DataFrame) -> dict[str, str]:
    """Every accepted spelling (normalised) → district id, from the districts layer."""
    lookup: dict[str, str] = {}
    for row in districts[["district_id", "name_zh", "name_en"]].itertuples(index=False):
        for spelling in _spellings(*row):
            lookup[spelling] = row.district_id
    return lookup


def resolve_districts(values: pd.Series, districts: pd.DataFrame) -> pd.Series:
    """Each value's district id (NaN where it names none), vectorised over a column."""
    lookup = district_lookup(districts)
    return values.map(lambda v: lookup.get(_key(v)) if isinstance(v, str) else None)


def resolve_district(text: str, districts: pd.DataFrame) -> str:
    """The district id ``text`` names, or :class:`UnknownDistrict` listing the choices."""
    found = district_lookup(districts).get(_key(text or ""))
    if found is None:
        zh = "、".join(districts["name_zh"])
        pairs = zip(districts["district_id"], districts["name_en"], strict=True)
        en = ", ".join(f"{i} ({n})" for i, n in pairs)
        raise UnknownDistrict(
            f"没有名为“{text}”的行政区；可用：{zh}（或拼音，如 baoan）",
            f"no district called {text!r}; use one of: {en}",
        )
    return found
