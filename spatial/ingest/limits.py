"""Bounds on what an upload may cost: size, features, columns, cells, archive members and
expansion, nesting, reading time.

Defaults suit district files (tens of MB, ~100k features). Each can be set by an environment
variable (``SPATIAL_MAX_UPLOAD_MB`` …) or by constructing :class:`UploadLimits` directly.
"""

from __future__ import annotations

import os
import time
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
    max_json_depth: int = 64  # nesting of JSON arrays/objects
    max_columns: int = 500  # attribute columns of a table or layer
    max_cells: int = 20_000_000  # rows × columns of a table
    max_read_seconds: float = 120.0  # a reader that takes longer stops with a clear message

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
            max_columns=int(_env_number("SPATIAL_MAX_COLUMNS", base.max_columns)),
            max_cells=int(_env_number("SPATIAL_MAX_CELLS", base.max_cells)),
            max_read_seconds=_env_number("SPATIAL_MAX_READ_SECONDS", base.max_read_seconds),
        )

    def deadline(self) -> Deadline:
        return Deadline(self.max_read_seconds)


class Deadline:
    """A reader's time budget; :meth:`expired` is checked while it reads."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() > self.ends
