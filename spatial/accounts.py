"""Accounts: the first admin, adding users, signing in — every step in the audit trail."""

from __future__ import annotations

from spatial.auth import (
    Action,
    Principal,
    Role,
    hash_password,
    one_time_password,
    require,
    verify_password,
)
from spatial.i18n import BilingualError
from spatial.store import Store, utcnow

FIRST_ADMIN = "admin"


class AccountError(BilingualError):
    """A sign-in or account change that cannot be done."""


def _create(store: Store, actor: Principal, name: str, role: Role, district_id: str | None) -> str:
    password = one_time_password()
    with store.transaction() as conn:
        store.add_user(
            conn,
            user_name=name,
            role=role.value,
            district_id=district_id,
            password_hash=hash_password(password),
            must_change_password=True,
            active=True,
            created_at=utcnow(),
        )
        store.record_event(
            actor.user_name,
            "user_created",
            name,
            detail={"role": role.value, "district_id": district_id},
            conn=conn,
        )
    return password


def ensure_admin(store: Store) -> str | None:
    """On a store with no users, create ``admin`` and return its one-time password (to print
    once). Never a default password; None when users exist already."""
    if store.count_users() > 0:
        return None
    return _create(store, Principal("system", Role.ADMIN), FIRST_ADMIN, Role.ADMIN, None)


def add_user(
    store: Store, actor: Principal, name: str, role: Role | str, district_id: str | None = None
) -> str:
    """Create a user and return its one-time password. Admins only."""
    require(actor, Action.MANAGE_USERS)
    role = Role(role)
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("用户名不能为空，且不超过 64 个字符", "a user name is 1–64 characters")
    if store.user(name) is not None:
        raise AccountError(f"用户 {name} 已存在", f"user {name} exists already")
    districts = set(store.layer("districts")["district_id"])
    if role == Role.DISTRICT:
        if district_id not in districts:
            raise AccountError(
                f"区用户必须指定行政区（{', '.join(sorted(districts))}）",
                f"a district user needs a district ({', '.join(sorted(districts))})",
            )
    elif district_id is not None:
        raise AccountError("只有区用户属于某个行政区", "only district users belong to a district")
    return _create(store, actor, name, role, district_id)


def principal_of(store: Store, name: str) -> Principal:
    """The principal of an existing, active user (the command line acts as a named user)."""
    row = store.user(name)
    if row is None or not row["active"]:
        raise AccountError(f"没有用户 {name}", f"there is no user {name}")
    return Principal(row["user_name"], Role(row["role"]), row["district_id"])


def sign_in(store: Store, name: str, password: str) -> tuple[Principal, bool]:
    """Check a password. Returns (principal, must_change_password). Every attempt is audited;
    a failure says the same thing whether the name or the password was wrong."""
    row = store.user(name)
    if row is None or not row["active"] or not verify_password(password, row["password_hash"]):
        store.record_event(name or "?", "sign_in", ok=False)
        raise AccountError("用户名或密码不正确", "wrong user name or password")
    store.record_event(name, "sign_in")
    return Principal(row["user_name"], Role(row["role"]), row["district_id"]), bool(
        row["must_change_password"]
    )


def change_password(store: Store, principal: Principal, old: str, new: str) -> None:
    row = store.user(principal.user_name)
    if row is None or not verify_password(old, row["password_hash"]):
        raise AccountError("原密码不正确", "the current password is wrong")
    if len(new) < 10 or new == old:
        raise AccountError(
            "新密码至少 10 个字符，且不能与原密码相同",
            "the new password needs 10+ characters and must differ",
        )
    with store.transaction() as conn:
        store.update_user(
            principal.user_name,
            conn=conn,
            password_hash=hash_password(new),
            must_change_password=False,
        )
        store.record_event(principal.user_name, "password_changed", principal.user_name, conn=conn)
