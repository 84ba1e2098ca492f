"""Users, roles and what each may do — enforced here, in the library, not by hiding buttons.

Roles (issue 4):

* ``admin`` — everything, including reference layers, the pledge table and users;
* ``planner`` — city-wide read, export, comment and scenarios;
* ``district`` — read, upload, commit, undo and scenarios for their own district only;
* ``viewer`` — city-wide read.

Passwords are stored as scrypt hashes (Python's hashlib); the first run creates an ``admin``
with a one-time password that is printed once and must be changed at first sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    DISTRICT = "district"
    VIEWER = "viewer"


class Action(StrEnum):
    READ = "read"  # projects of a district (reference layers are public to every role)
    EXPORT = "export"
    COMMENT = "comment"
    UPLOAD = "upload"
    COMMIT = "commit"
    UNDO = "undo"
    EDIT_REFERENCE = "edit_reference"  # parks, control lines, pledge table
    SET_COUNTING = "set_counting"  # official counting stage, coverage threshold, allocations
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    PLAN = "plan"  # scenarios (方案): planners city-wide, district staff in their district


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.ADMIN: ("管理员", "administrator"),
    Role.PLANNER: ("规划人员", "planner"),
    Role.DISTRICT: ("区用户", "district officer"),
    Role.VIEWER: ("只读用户", "viewer"),
}

# role -> actions allowed city-wide, and actions allowed only in the user's own district
CITY_WIDE: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.PLANNER: frozenset({Action.READ, Action.EXPORT, Action.COMMENT, Action.PLAN}),
    Role.DISTRICT: frozenset(),
    Role.VIEWER: frozenset({Action.READ}),
}
OWN_DISTRICT: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.PLANNER: frozenset({Action.READ, Action.EXPORT, Action.COMMENT, Action.PLAN}),
    Role.DISTRICT: frozenset(
        {Action.READ, Action.EXPORT, Action.UPLOAD, Action.COMMIT, Action.UNDO, Action.PLAN}
    ),
    Role.VIEWER: frozenset({Action.READ}),
}


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user (or the system itself for seeding and migrations)."""

    user_name: str
    role: Role
    district_id: str | None = None

    def can(self, action: Action, district_id: str | None = None) -> bool:
        if action in CITY_WIDE[self.role]:
            return True
        if action in OWN_DISTRICT[self.role]:
            return district_id is not None and district_id == self.district_id
        return False

    def readable_districts(self, all_districts) -> list[str]:
        return [d for d in all_districts if self.can(Action.READ, d)]


SYSTEM = Principal("system", Role.ADMIN)


class PermissionDenied(Exception):
    """An action the principal may not take; the message says so in Chinese and English."""

    def __init__(self, principal: Principal, action: Action, district_id: str | None = None):
        zh_role, en_role = ROLE_LABELS[principal.role]
        where_zh = f"（{district_id}）" if district_id else ""
        where_en = f" ({district_id})" if district_id else ""
        self.zh = f"{zh_role} {principal.user_name} 无权执行“{action.value}”{where_zh}"
        self.en = f"{en_role} {principal.user_name} may not {action.value}{where_en}"
        super().__init__(self.en)
        self.principal, self.action, self.district_id = principal, action, district_id

    def text(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


def require(principal: Principal, action: Action, district_id: str | None = None) -> None:
    if not principal.can(action, district_id):
        raise PermissionDenied(principal, action, district_id)


# -- passwords ----------------------------------------------------------------------------------
_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    check = hashlib.scrypt(
        password.encode("utf-8"),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=32,
    )
    return hmac.compare_digest(check, base64.b64decode(digest))


def one_time_password() -> str:
    """A random password to hand over once (16 characters, URL-safe)."""
    return secrets.token_urlsafe(12)
