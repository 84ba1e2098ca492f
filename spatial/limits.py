"""Bounds on what an upload may cost: size, features, archive members and expansion, nesting.

Defaults suit district files (tens of MB, ~100k features). Each can be set by an environment
variable (``SPATIAL_MAX_UPLOAD_MB`` …) or by constructing :class:`UploadLimits` directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 100 * 1024 * 1024  # the raw upload
    max_features: int = 200_000
    max_archive_members: int = 64
    max_uncompressed_bytes: int = 512 * 1024 * 1024  # all members of an archive together
    max_expansion_ratio: float = 100.0  # uncompressed / compressed, per archive
    max_archive_depth: int = 1  # a zip may not contain another zip
    max_json_depth: int = 64  # nesting of JSON arrays/objects

    @classmethod
    def from_env(cls) -> UploadLimits:
        base = cls()
        return cls(
            max_bytes=int(_env_number("SPATIAL_MAX_UPLOAD_MB", base.max_bytes / 2**20) * 2**20),
            max_features=int(_env_number("SPATIAL_MAX_FEATURES", base.max_features)),
            max_archive_members=int(
                _env_number("SPATIAL_MAX_ARCHIVE_MEMBERS", base.max_archive_members)
            ),
            max_uncompressed_bytes=int(
                _env_number("SPATIAL_MAX_UNCOMPRESSED_MB", base.max_uncompressed_bytes / 2**20)
                * 2**20
            ),
            max_expansion_ratio=_env_number(
                "SPATIAL_MAX_EXPANSION_RATIO", base.max_expansion_ratio
            ),
        )
