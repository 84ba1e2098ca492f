"""Accounts: the first admin, adding users, signing in — every step in the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from spatial.auth import (
    Action,
    Principal,
    Role,
    hash_password,
    one_time_password,
    require,
    verify_password,
)
from spatial.clock import beijing_text
from spatial.districts import UnknownDistrict, resolve_district
from spatial.i18n import BilingualError
from spatial.store.database import Store, utcnow

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
    district_id = district_of_role(store, role, district_id)
    return _create(store, actor, name, role, district_id)


def district_of_role(store: Store, role: Role, district: str | None) -> str | None:
    """A district user's district as people write it (宝安区, 宝安, Bao'an, baoan) → its id;
    other roles belong to no district."""
    districts = store.layer("districts")
    if role == Role.DISTRICT:
        if not district:
            names = "、".join(districts["name_zh"])
            raise AccountError(
                f"区用户必须指定行政区（{names}）",
                f"a district user needs a district ({', '.join(districts['district_id'])})",
            )
        try:
            return resolve_district(district, districts)
        except UnknownDistrict as exc:
            raise AccountError(exc.zh, exc.en) from None
    if district:
        raise AccountError("只有区用户属于某个行政区", "only district users belong to a district")
    return None


def principal_of(store: Store, name: str) -> Principal:
    """The principal of an existing, active user (the command line acts as a named user)."""
    row = store.user(name)
    if row is None or not row["active"]:
        raise AccountError(f"没有用户 {name}", f"there is no user {name}")
    return Principal(row["user_name"], Role(row["role"]), row["district_id"])


# -- signing in (NIST SP 800-63B §5.1.1, §5.2.2, §7) ---------------------------------------------
FREE_FAILURES = 5  # consecutive failures before each further attempt must wait
FIRST_WAIT = timedelta(seconds=30)  # doubles with each further failure …
LONGEST_WAIT = timedelta(minutes=15)  # … up to this
HARD_LIMIT = 100  # then locked until an admin resets the password (800-63B: at most 100)
IDLE_TIMEOUT = timedelta(minutes=30)  # a session unused this long ends
MIN_PASSWORD = 10
MAX_PASSWORD = 256
# verified when the name is no account, so that failures take the same time either way
_DUMMY_HASH = hash_password(one_time_password())


def _wait_after(failures: int) -> timedelta | None:
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_WAIT * 2 ** min(failures - FREE_FAILURES, 10), LONGEST_WAIT)


def _beijing(at) -> str:
    return beijing_text(at)


def sign_in(store: Store, name: str, password: str) -> tuple[Principal, bool]:
    """Check a password. Returns (principal, must_change_password).

    Every attempt is audited. A failure says the same thing, and takes as long, whether the
    name or the password was wrong. After :data:`FREE_FAILURES` consecutive failures of one
    name (an account or not) each further attempt must wait, doubling up to
    :data:`LONGEST_WAIT`; after :data:`HARD_LIMIT` the name is locked until an admin resets the
    password. Locks are written to the audit trail (``sign_in_locked``)."""
    name = (name or "").strip()[:256]
    row = store.user(name) if name else None
    # always one scrypt verification: the same work for a known and an unknown name
    verified = verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
    good = row is not None and bool(row["active"]) and verified
    who = name or "?"
    # attempts on one name run one after another, so a burst cannot slip past the count
    with store.transaction(lock=f"sign_in:{name}") as conn:
        now = utcnow()
        failures, locked_until = store.sign_in_failures(name, conn)
        locked = failures >= HARD_LIMIT or (locked_until is not None and now < locked_until)
        if locked:
            store.record_event(who, "sign_in", ok=False, detail={"reason": "locked"}, conn=conn)
        elif not good:
            failures += 1
            wait = _wait_after(failures)
            locked_until = None if wait is None else now + wait
            store.set_sign_in_failures(name, failures, now, locked_until, conn)
            store.record_event(who, "sign_in", ok=False, conn=conn)
            if locked_until is not None or failures >= HARD_LIMIT:
                store.record_event(
                    who,
                    "sign_in_locked",
                    who,
                    ok=False,
                    detail={
                        "failures": failures,
                        "until": None if failures >= HARD_LIMIT else locked_until.isoformat(),
                    },
                    conn=conn,
                )
        else:
            store.set_sign_in_failures(name, 0, now, None, conn)
            store.record_event(name, "sign_in", conn=conn)
    if locked and failures >= HARD_LIMIT:
        raise AccountError(
            "连续失败次数过多，账号已锁定；请联系管理员重置密码",
            "too many failed attempts: locked until an administrator resets the password",
        )
    if locked:
        raise AccountError(
            f"连续失败次数过多，请于北京时间 {_beijing(locked_until)} 之后再试",
            f"too many failed attempts: try again after {_beijing(locked_until)} Beijing time",
        )
    if not good:
        raise AccountError("用户名或密码不正确", "wrong user name or password")
    return Principal(row["user_name"], Role(row["role"]), row["district_id"]), bool(
        row["must_change_password"]
    )


def check_new_password(password: str, user_name: str = "") -> None:
    """NIST SP 800-63B §5.1.1.2: length (10–256), and not a common, breached, dictionary,
    repetitive or sequential password, nor one built from the user's name or this service's
    words (zxcvbn's 30,000 most common passwords, dictionaries and pattern matchers). No
    composition rules. Raises AccountError saying why."""
    from zxcvbn import zxcvbn

    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise AccountError(
            f"密码须为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符（可用空格组成一句话）",
            f"a password is {MIN_PASSWORD}–{MAX_PASSWORD} characters (a phrase with spaces "
            "is fine)",
        )
    context = [user_name, "shenzhen", "深圳", "spatial", "admin", "password", "gongye", "planner"]
    result = zxcvbn(password[:100], user_inputs=[c for c in context if c])
    if result["score"] < 3 or not password.strip():
        hint = " ".join(result["feedback"].get("suggestions") or []) or "use a longer phrase"
        raise AccountError(
            "密码太常见或太容易猜（常用密码、重复或连续字符、用户名、字典词）；请用更长的一句话",
            f"the password is too common or easy to guess (common passwords, repeated or "
            f"sequential characters, the user name, dictionary words): {hint}",
        )


def change_password(store: Store, principal: Principal, old: str, new: str) -> None:
    row = store.user(principal.user_name)
    if row is None or not verify_password(old, row["password_hash"]):
        raise AccountError("原密码不正确", "the current password is wrong")
    if new == old:
        raise AccountError("新密码不能与原密码相同", "the new password must differ from the old")
    check_new_password(new, principal.user_name)
    with store.transaction() as conn:
        store.update_user(
            principal.user_name,
            conn=conn,
            password_hash=hash_password(new),
            must_change_password=False,
        )
        store.record_event(principal.user_name, "password_changed", principal.user_name, conn=conn)


def reset_password(store: Store, actor: Principal, name: str) -> str:
    """A new one-time password for ``name`` (to be changed at the next sign-in); ends the
    user's sessions and lifts a sign-in lock. Admins only (and the operator's command line,
    which acts with the database's own rights: ``spatial user reset``)."""
    require(actor, Action.MANAGE_USERS)
    if store.user(name) is None:
        raise AccountError(f"没有用户 {name}", f"there is no user {name}")
    password = one_time_password()
    with store.transaction() as conn:
        store.update_user(
            name, conn=conn, password_hash=hash_password(password), must_change_password=True
        )
        store.set_sign_in_failures(name, 0, utcnow(), None, conn)
        store.end_sessions(name, utcnow(), "password", conn=conn)
        store.record_event(actor.user_name, "password_reset", name, conn=conn)
    return password


def _keep_an_admin(store: Store, name: str) -> None:
    """Refuse a change that would leave no active admin (nobody could manage users then)."""
    others = [
        u
        for u in store.users()
        if u["role"] == Role.ADMIN.value and u["active"] and u["user_name"] != name
    ]
    row = store.user(name)
    if row and row["role"] == Role.ADMIN.value and row["active"] and not others:
        raise AccountError(
            f"{name} 是唯一启用的管理员，不能停用或降级；请先指定另一名管理员",
            f"{name} is the only active admin and cannot be disabled or demoted; make another "
            "admin first",
        )


def change_role(
    store: Store, actor: Principal, name: str, role: Role | str, district: str | None = None
) -> None:
    """Give ``name`` another role (and district, for a district user, as people write it).
    Applies at the user's next step; audited with the role before and after. Admins only."""
    require(actor, Action.MANAGE_USERS)
    row = store.user(name)
    if row is None:
        raise AccountError(f"没有用户 {name}", f"there is no user {name}")
    role = Role(role)
    district_id = district_of_role(store, role, district)
    if role != Role.ADMIN:
        _keep_an_admin(store, name)
    with store.transaction() as conn:
        store.update_user(name, conn=conn, role=role.value, district_id=district_id)
        store.record_event(
            actor.user_name,
            "user_role_changed",
            name,
            detail={
                "before": {"role": row["role"], "district_id": row["district_id"]},
                "after": {"role": role.value, "district_id": district_id},
            },
            conn=conn,
        )


def set_active(store: Store, actor: Principal, name: str, active: bool) -> None:
    """Disable or enable an account (a disabled user's open sessions end at once)."""
    require(actor, Action.MANAGE_USERS)
    if store.user(name) is None:
        raise AccountError(f"没有用户 {name}", f"there is no user {name}")
    if not active:
        _keep_an_admin(store, name)
    with store.transaction() as conn:
        store.update_user(name, conn=conn, active=active)
        if not active:
            store.end_sessions(name, utcnow(), "disabled", conn=conn)
        store.record_event(
            actor.user_name, "user_enabled" if active else "user_disabled", name, conn=conn
        )


# -- sessions: re-checked against the account on every step ----------------------------------
SESSION_COOKIE = "spatial_session"  # the browser's copy of the token (see spatial.ui.common)
ABSOLUTE_TIMEOUT = timedelta(hours=12)  # 800-63B AAL2: re-authenticate at least every 12 h
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute


# why a session ended, as the user is told when the tab or a reload tries it again
ENDED_BECAUSE: dict[str | None, tuple[str, str]] = {
    None: ("登录已结束，请重新登录", "the session has ended; sign in again"),
    "sign_out": ("已退出登录，请重新登录", "you signed out; the session has ended"),
    "disabled": ("账号已停用，登录已结束", "the account is disabled; the session has ended"),
    "password": ("密码已更改，登录已结束", "the password was changed; the session has ended"),
    "idle": ("长时间未操作，登录已结束，请重新登录", "the session has ended after inactivity"),
    "expired": ("登录已超过 12 小时，请重新登录", "the session has ended after 12 hours"),
}


def _credential(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, principal: Principal, lang: str | None = None) -> str:
    """Open a session for a user who has just signed in; returns its token (32 random bytes,
    URL-safe). The browser keeps the token, the store only its SHA-256, so a copy of the
    database opens no session. Not the password, never derived from it."""
    row = store.user(principal.user_name)
    if row is None:
        raise AccountError("账号不存在", "the account does not exist")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    store.add_session(
        token_hash=_token_hash(token),
        user_name=principal.user_name,
        credential=_credential(row["password_hash"]),
        created_at=now,
        last_seen=now,
        lang=lang,
    )
    return token


def _end(store: Store, token_hash: str, now: datetime, reason: str, zh: str, en: str):
    store.update_session(token_hash, ended_at=now, ended_reason=reason)
    return AccountError(zh, en)


def resume(store: Store, token: str, now: datetime | None = None) -> Principal:
    """The principal of a session, read afresh from the account (role and district as they are
    now). Ends the session for good — AccountError saying why — when it was signed out, the
    account is gone or disabled, its password changed or was reset, the session was idle for
    :data:`IDLE_TIMEOUT` or is older than :data:`ABSOLUTE_TIMEOUT`."""
    now = now or utcnow()
    key = _token_hash(str(token or ""))
    session = store.session(key)
    if session is None:
        raise AccountError("登录已结束，请重新登录", "the session has ended; sign in again")
    if session["ended_at"] is not None:
        zh, en = ENDED_BECAUSE.get(session["ended_reason"], ENDED_BECAUSE[None])
        raise AccountError(zh, en)
    row = store.user(session["user_name"])
    if row is None or not row["active"]:
        raise _end(
            store,
            key,
            now,
            "disabled",
            "账号已停用，请重新登录",
            "the account is disabled; sign in again",
        )
    if _credential(row["password_hash"]) != session["credential"] or row["must_change_password"]:
        raise _end(
            store, key, now, "password", "密码已更改，请重新登录",
            "the password was changed; sign in again",
        )  # fmt: skip
    if now - session["last_seen"] > IDLE_TIMEOUT:
        raise _end(
            store, key, now, "idle",
            f"超过 {IDLE_TIMEOUT.seconds // 60} 分钟未操作，请重新登录",
            f"no activity for {IDLE_TIMEOUT.seconds // 60} minutes; sign in again",
        )  # fmt: skip
    if now - session["created_at"] > ABSOLUTE_TIMEOUT:
        hours = int(ABSOLUTE_TIMEOUT.total_seconds() // 3600)
        raise _end(
            store, key, now, "expired",
            f"登录已超过 {hours} 小时，请重新登录",
            f"signed in over {hours} hours ago; sign in again",
        )  # fmt: skip
    if now - session["last_seen"] >= TOUCH_EVERY:
        store.update_session(key, last_seen=now)
    return Principal(row["user_name"], Role(row["role"]), row["district_id"])


def end_session(store: Store, token: str, reason: str = "sign_out") -> None:
    """Sign out: the token opens nothing any more, in this tab or any other."""
    store.update_session(_token_hash(str(token or "")), ended_at=utcnow(), ended_reason=reason)
