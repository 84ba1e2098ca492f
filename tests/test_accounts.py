"""Sign-in by NIST SP 800-63B (spatial.store.accounts, issue 9): throttling and lockout in the audit
trail, the same work for every failure, a password blocklist, sessions re-checked against the
account; admin reset. On both backends."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest

from spatial.auth import Principal, Role
from spatial.store import accounts
from spatial.store.database import open_store, utcnow

SYSTEM = Principal("system", Role.ADMIN)
GOOD = "lantern harbour 宝安 ferry"


@pytest.fixture
def officer(seeded_store) -> Principal:
    once = accounts.add_user(seeded_store, SYSTEM, "ba", "district", "baoan")
    who, _ = accounts.sign_in(seeded_store, "ba", once)
    accounts.change_password(seeded_store, who, once, GOOD)
    return who


class Clock:
    """accounts.utcnow, moved by hand (locks are minutes long)."""

    def __init__(self, monkeypatch):
        self.now = utcnow()
        monkeypatch.setattr(accounts, "utcnow", lambda: self.now)

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.mark.parametrize("name", ["ba", "no-such-user"])
def test_failures_lock_the_name_then_wait_doubles(seeded_store, officer, monkeypatch, name):
    clock = Clock(monkeypatch)
    for _ in range(accounts.FREE_FAILURES):
        with pytest.raises(accounts.AccountError, match="wrong user name or password"):
            accounts.sign_in(seeded_store, name, "not the password")
    # locked now: even the right password is refused, with the time to wait (Beijing time)
    with pytest.raises(accounts.AccountError) as caught:
        accounts.sign_in(seeded_store, name, GOOD)
    assert "Beijing time" in caught.value.text("en") and "北京时间" in caught.value.text("zh")
    locks = seeded_store.audit(action="sign_in_locked")
    assert len(locks) == 1 and json.loads(locks.iloc[0]["detail"])["failures"] == 5
    clock.advance(seconds=31)
    with pytest.raises(accounts.AccountError, match="wrong"):
        accounts.sign_in(seeded_store, name, "still wrong")  # 6th failure: 60 s now
    clock.advance(seconds=45)
    with pytest.raises(accounts.AccountError, match="try again"):
        accounts.sign_in(seeded_store, name, GOOD)
    clock.advance(seconds=20)
    if name == "ba":
        assert accounts.sign_in(seeded_store, name, GOOD)[0].user_name == "ba"
        assert seeded_store.audit(action="sign_in").iloc[-1]["ok"]
        # a success clears the count
        with pytest.raises(accounts.AccountError, match="wrong"):
            accounts.sign_in(seeded_store, name, "x" * 12)
    else:
        with pytest.raises(accounts.AccountError, match="wrong user name or password"):
            accounts.sign_in(seeded_store, name, GOOD)


def test_a_hundred_failures_lock_until_an_admin_resets(seeded_store, officer, monkeypatch):
    Clock(monkeypatch)
    with seeded_store.transaction() as conn:
        seeded_store.set_sign_in_failures("ba", 99, utcnow(), None, conn)
    with pytest.raises(accounts.AccountError, match="wrong"):
        accounts.sign_in(seeded_store, "ba", "guess number one hundred")
    with pytest.raises(accounts.AccountError, match="administrator"):
        accounts.sign_in(seeded_store, "ba", GOOD)
    once = accounts.reset_password(seeded_store, SYSTEM, "ba")
    who, must_change = accounts.sign_in(seeded_store, "ba", once)
    assert who.user_name == "ba" and must_change
    assert list(seeded_store.audit(action="password_reset")["target"]) == ["ba"]


def test_every_failure_does_the_same_work(seeded_store, officer, monkeypatch):
    """Constant-time failure paths: one scrypt run whether the name exists or not, is
    disabled, or the password is wrong (timing no longer tells which names exist)."""
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    cases = [("ba", "wrong password here"), ("nobody-at-all", "wrong password here"), ("", "x")]
    for name, password in cases:
        calls.clear()
        with pytest.raises(accounts.AccountError) as caught:
            accounts.sign_in(seeded_store, name, password)
        assert len(calls) == 1, name
        assert caught.value.text("en") == "wrong user name or password"
    accounts.set_active(seeded_store, SYSTEM, "ba", False)
    calls.clear()
    with pytest.raises(accounts.AccountError, match="wrong user name or password"):
        accounts.sign_in(seeded_store, "ba", GOOD)
    assert len(calls) == 1


def test_simultaneous_failures_are_all_counted(db_url, seeded_store, officer):
    """20 wrong passwords at once (threads, own connections): the count is exactly 20."""
    errors = []
    stores = [open_store(db_url) for _ in range(20)]

    def attempt(store):
        try:
            accounts.sign_in(store, "ba", "wrong wrong wrong")
        except accounts.AccountError as exc:
            errors.append(exc.text("en"))
        except Exception as exc:  # noqa: BLE001 - shown by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.engine.dispose()
    assert len(errors) == 20
    with seeded_store.engine.connect() as conn:
        failures, _ = seeded_store.sign_in_failures("ba", conn)
    assert failures == accounts.FREE_FAILURES  # then every further attempt waited
    assert sum("wrong user name" in e for e in errors) == accounts.FREE_FAILURES


@pytest.mark.parametrize(
    "password",
    [
        " " * 10,  # ten spaces
        "aaaaaaaaaa",
        "1234567890",
        "abcdefghij",
        "password123",
        "qwertyuiop",
        "iloveyou12",
        "shenzhen2024",
        "ba-ba-ba-ba-ba",  # the user's own name repeated
        "short",
        "x" * 300,
    ],
)
def test_weak_passwords_are_refused(seeded_store, officer, password):
    with pytest.raises(accounts.AccountError) as caught:
        accounts.change_password(seeded_store, officer, GOOD, password)
    assert caught.value.text("zh") and caught.value.text("en")


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "宝安区工业上楼项目二〇二六年春", "Zq7-lake-boat-ridge"],
)
def test_strong_passwords_and_phrases_are_accepted(seeded_store, officer, password):
    accounts.change_password(seeded_store, officer, GOOD, password)
    assert accounts.sign_in(seeded_store, "ba", password)[0].user_name == "ba"


def test_a_session_is_rechecked_against_the_account(seeded_store, officer, monkeypatch):
    clock = Clock(monkeypatch)
    session = accounts.start_session(seeded_store, officer)
    assert accounts.resume(seeded_store, session).district_id == "baoan"
    # a role change applies at the next step
    seeded_store.update_user("ba", role="viewer", district_id=None)
    assert accounts.resume(seeded_store, session).role == Role.VIEWER
    # disabled: the open session ends, for good (enabling the account again does not revive it)
    accounts.set_active(seeded_store, SYSTEM, "ba", False)
    with pytest.raises(accounts.AccountError, match="disabled"):
        accounts.resume(seeded_store, session)
    accounts.set_active(seeded_store, SYSTEM, "ba", True)
    with pytest.raises(accounts.AccountError, match="ended"):
        accounts.resume(seeded_store, session)
    # idle for longer than the timeout: ended
    session = accounts.start_session(seeded_store, officer)
    clock.advance(minutes=31)
    with pytest.raises(accounts.AccountError, match="no activity"):
        accounts.resume(seeded_store, session)
    with pytest.raises(accounts.AccountError, match="ended"):  # and stays ended
        accounts.resume(seeded_store, session)
    # a password reset ends every session of the account
    fresh = accounts.start_session(seeded_store, officer)
    accounts.reset_password(seeded_store, SYSTEM, "ba")
    with pytest.raises(accounts.AccountError, match="ended"):
        accounts.resume(seeded_store, fresh)


def test_a_session_token_is_random_and_only_its_digest_is_stored(seeded_store, officer):
    first = accounts.start_session(seeded_store, officer)
    second = accounts.start_session(seeded_store, officer)
    assert first != second and len(first) >= 43  # 32 random bytes, URL-safe
    with seeded_store.engine.connect() as conn:
        stored = [r[0] for r in conn.exec_driver_sql("SELECT token_hash FROM sessions")]
    assert first not in stored and second not in stored
    assert hashlib.sha256(first.encode()).hexdigest() in stored


@pytest.mark.parametrize("token", ["", "x", "' OR 1=1 --", None, "a" * 5000])
def test_a_made_up_token_opens_nothing(seeded_store, token):
    with pytest.raises(accounts.AccountError, match="ended"):
        accounts.resume(seeded_store, token)


def test_sign_out_ends_the_session_everywhere(seeded_store, officer):
    token = accounts.start_session(seeded_store, officer)
    assert accounts.resume(seeded_store, token).user_name == "ba"
    accounts.end_session(seeded_store, token)
    with pytest.raises(accounts.AccountError, match="ended"):
        accounts.resume(seeded_store, token)


def test_a_session_expires_after_twelve_hours_however_busy(seeded_store, officer, monkeypatch):
    clock = Clock(monkeypatch)
    token = accounts.start_session(seeded_store, officer)
    for _ in range(12 * 4 + 1):  # active every 15 minutes, past 12 hours
        clock.advance(minutes=15)
        try:
            accounts.resume(seeded_store, token)
        except accounts.AccountError as exc:
            assert "12 hours" in str(exc)
            break
    else:
        pytest.fail("a 12-hour session was not ended")


def test_only_admins_reset_or_disable(seeded_store, officer):
    from spatial.auth import PermissionDenied

    with pytest.raises(PermissionDenied):
        accounts.reset_password(seeded_store, officer, "ba")
    with pytest.raises(PermissionDenied):
        accounts.set_active(seeded_store, officer, "ba", False)


def test_an_admin_changes_a_role_and_district_audited(seeded_store, officer):
    accounts.change_role(seeded_store, SYSTEM, "ba", "district", "南山区")
    assert seeded_store.user("ba")["district_id"] == "nanshan"
    accounts.change_role(seeded_store, SYSTEM, "ba", "planner")
    assert (seeded_store.user("ba")["role"], seeded_store.user("ba")["district_id"]) == (
        "planner",
        None,
    )
    event = seeded_store.audit(action="user_role_changed").iloc[-1]
    assert '"before": {"role": "district", "district_id": "nanshan"}' in event["detail"]
    with pytest.raises(accounts.AccountError, match="only district users"):
        accounts.change_role(seeded_store, SYSTEM, "ba", "viewer", "宝安")
    with pytest.raises(accounts.AccountError, match="needs a district"):
        accounts.change_role(seeded_store, SYSTEM, "ba", "district")


def test_the_last_active_admin_stays(seeded_store):
    accounts.add_user(seeded_store, SYSTEM, "boss", "admin")
    with pytest.raises(accounts.AccountError, match="only active admin"):
        accounts.set_active(seeded_store, SYSTEM, "boss", False)
    with pytest.raises(accounts.AccountError, match="only active admin"):
        accounts.change_role(seeded_store, SYSTEM, "boss", "planner")
    accounts.add_user(seeded_store, SYSTEM, "deputy", "admin")
    accounts.change_role(seeded_store, SYSTEM, "boss", "planner")  # another admin exists
    assert seeded_store.user("boss")["role"] == "planner"


def test_only_admins_change_roles(seeded_store, officer):
    from spatial.auth import PermissionDenied

    with pytest.raises(PermissionDenied):
        accounts.change_role(seeded_store, officer, "ba", "admin")
