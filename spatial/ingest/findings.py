"""The validation report: one finding per problem, naming the feature, the field and the fix,
in Chinese and English. Errors block a commit; warnings do not."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum

import pandas as pd


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem. ``feature`` is the 1-based position of the feature in the file (None for
    the file as a whole); ``feature_id`` its id where it has one; ``line``/``column`` point
    into the file for syntax errors."""

    severity: Severity
    code: str
    message_zh: str
    message_en: str
    fix_zh: str = ""
    fix_en: str = ""
    feature: int | None = None
    feature_id: str | None = None
    field: str | None = None
    line: int | None = None
    column: int | None = None

    def where(self, lang: str = "zh") -> str:
        parts = []
        if self.line is not None:
            parts.append(
                f"第 {self.line} 行第 {self.column} 列"
                if lang == "zh"
                else f"line {self.line}, column {self.column}"
            )
        if self.feature is not None:
            fid = f"（ID {self.feature_id}）" if self.feature_id not in (None, "") else ""
            fid_en = f" (id {self.feature_id})" if self.feature_id not in (None, "") else ""
            parts.append(
                f"第 {self.feature} 个要素{fid}"
                if lang == "zh"
                else f"feature {self.feature}{fid_en}"
            )
        if self.field:
            from spatial.ingest.fields import field_label

            label = field_label(self.field)
            parts.append(f"字段“{label.zh}”" if lang == "zh" else f"field '{label.en}'")
        return "，".join(parts) if lang == "zh" else ", ".join(parts)

    def text(self, lang: str = "zh") -> str:
        where = self.where(lang)
        message = self.message_zh if lang == "zh" else self.message_en
        fix = self.fix_zh if lang == "zh" else self.fix_en
        head = f"{where}：" if (where and lang == "zh") else (f"{where}: " if where else "")
        tail = (f" 修改方法：{fix}" if lang == "zh" else f" Fix: {fix}") if fix else ""
        return head + message + tail

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidationReport:
    """All findings of one upload, plus what was read."""

    filename: str
    format: str = ""
    features: int = 0
    crs: str = ""
    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings) -> None:
        self.findings.extend(findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]

    @property
    def accepted(self) -> bool:
        return not self.errors

    def ordered(self) -> list[Finding]:
        """File-level findings first, then by feature; errors before warnings."""
        return sorted(
            self.findings,
            key=lambda f: (f.feature is not None, f.feature or 0, f.severity != Severity.ERROR),
        )

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def to_dict(self) -> dict:
        return {
            "filename": self.filename,
            "format": self.format,
            "features": self.features,
            "crs": self.crs,
            "accepted": self.accepted,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_text(self, lang: str = "zh", limit: int | None = None) -> str:
        verdict = (
            ("可以接收" if self.accepted else "拒收")
            if lang == "zh"
            else ("accepted" if self.accepted else "rejected")
        )
        head = (
            f"{self.filename}：{self.format}，{self.features} 个要素，坐标系 {self.crs or '未知'}；"
            f"{len(self.errors)} 个错误，{len(self.warnings)} 个警告 —— {verdict}"
            if lang == "zh"
            else f"{self.filename}: {self.format}, {self.features} features, CRS "
            f"{self.crs or 'unknown'}; {len(self.errors)} errors, {len(self.warnings)} warnings"
            f" — {verdict}"
        )
        ordered = self.ordered()
        shown = ordered if limit is None else ordered[:limit]
        lines = [head]
        for f in shown:
            tag = (
                ("错误" if f.severity == Severity.ERROR else "警告")
                if lang == "zh"
                else (f.severity.value.upper())
            )
            lines.append(f"  [{tag}] {f.text(lang)}")
        if limit is not None and len(self.findings) > limit:
            rest = len(self.findings) - limit
            lines.append(f"  …… 另有 {rest} 条" if lang == "zh" else f"  … {rest} more")
        return "\n".join(lines)


def error(code: str, zh: str, en: str, fix_zh: str = "", fix_en: str = "", **where) -> Finding:
    return Finding(Severity.ERROR, code, zh, en, fix_zh, fix_en, **where)


def warning(code: str, zh: str, en: str, fix_zh: str = "", fix_en: str = "", **where) -> Finding:
    return Finding(Severity.WARNING, code, zh, en, fix_zh, fix_en, **where)


class UploadRejected(Exception):
    """Raised when a file cannot be read at all; carries the findings that say why."""

    def __init__(self, findings: list[Finding]):
        super().__init__("; ".join(f.message_en for f in findings))
        self.findings = findings


class RowFindings:
    """Findings for the rows of an upload, one per True row of a mask: every rule states its
    condition over all rows at once (vectorised) and this names each row that meets it — by
    its 1-based position in the file (``positions``) and its id (``ids``). Rows with an error
    are marked in ``bad`` and cannot be committed."""

    def __init__(self, report: ValidationReport, positions: pd.Series, ids: pd.Series):
        self.report = report
        self.positions = positions
        self.ids = ids
        self.bad = pd.Series(False, index=positions.index)

    def _where(self, idx, fld):
        fid = self.ids.get(idx)
        fid = None if fid is None or (pd.api.types.is_scalar(fid) and pd.isna(fid)) else str(fid)
        return {"feature": int(self.positions[idx]), "feature_id": fid, "field": fld}

    def _add(self, make, mask: pd.Series, code, zh, en, fix_zh, fix_en, fld, fmt) -> None:
        for idx in mask[mask].index:
            extra = fmt(idx) if fmt else {}
            self.report.add(
                make(
                    code,
                    zh.format(**extra),
                    en.format(**extra),
                    fix_zh,
                    fix_en,
                    **self._where(idx, fld),
                )
            )

    def error(self, mask: pd.Series, code, zh, en, fix_zh="", fix_en="", fld=None, fmt=None):
        """One error finding per True row of ``mask``; those rows cannot be committed.
        ``zh``/``en`` may hold ``{placeholders}`` that ``fmt(row)`` fills."""
        self._add(error, mask, code, zh, en, fix_zh, fix_en, fld, fmt)
        self.bad |= mask

    def warn(self, mask: pd.Series, code, zh, en, fix_zh="", fix_en="", fld=None, fmt=None):
        """One warning per True row of ``mask``."""
        self._add(warning, mask, code, zh, en, fix_zh, fix_en, fld, fmt)
