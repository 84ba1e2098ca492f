"""Single sign-on (spatial.store.sso): an identity provider's claims become an account and a
principal — and, end to end, a sign-in through a real OpenID Connect provider (the
``oidc-provider-mock`` server the test starts) in headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright
from test_browser import settle

from spatial.auth import Principal, Role
from spatial.store import accounts
from spatial.store.accounts import AccountError
from spatial.store.sso import ClaimMapping, principal_from_claims

from conftest import CHROMIUM, LOCAL, free_port, running_app

SYSTEM = Principal("system", Role.ADMIN)


@pytest.mark.parametrize(
    "claims,role,district",
    [
        ({"email": "li@baoan.gov.cn", "spatial_role": "district", "spatial_district": "宝安区"},
         Role.DISTRICT, "baoan"),
        ({"email": "li@baoan.gov.cn", "spatial_role": "区用户", "spatial_district": "Bao'an"},
         Role.DISTRICT, "baoan"),
        ({"email": "wang@szpl.gov.cn", "spatial_role": ["planner", "viewer"]}, Role.PLANNER, None),
        ({"sub": "0001", "spatial_role": "Viewer"}, Role.VIEWER, None),
    ],
)  # fmt: skip
def test_claims_become_an_account_and_a_principal(seeded_store, claims, role, district):
    who = principal_from_claims(seeded_store, claims, ClaimMapping())
    assert (who.role, who.district_id) == (role, district)
    assert who.user_name.startswith("sso:")
    row = seeded_store.user(who.user_name)
    assert (row["role"], row["district_id"], row["active"]) == (role.value, district, True)
    events = seeded_store.audit(action="user_created")
    assert events.iloc[-1]["user_name"] == "sso" and '"via": "oidc"' in events.iloc[-1]["detail"]
    # a session of the tool follows, re-checked like any other
    token = accounts.start_session(seeded_store, who)
    assert accounts.resume(seeded_store, token).role == role


@pytest.mark.parametrize(
    "claims,message",
    [
        ({"email": "x@y.cn"}, "did not say your role"),
        ({"email": "x@y.cn", "spatial_role": "superuser"}, "did not say your role"),
        ({"email": "x@y.cn", "spatial_role": "district"}, "needs a district"),
        ({"email": "x@y.cn", "spatial_role": "district", "spatial_district": "蛇口"}, "蛇口"),
        ({"spatial_role": "viewer"}, "no user identifier"),
        (
            {"email": "x@y.cn", "spatial_role": "planner", "spatial_district": "宝安"},
            "only district",
        ),
    ],
)
def test_claims_that_do_not_say_enough_are_refused(seeded_store, claims, message):
    with pytest.raises(AccountError) as caught:
        principal_from_claims(seeded_store, claims, ClaimMapping())
    assert message in caught.value.en or message in caught.value.zh
    assert caught.value.zh and caught.value.en
    assert not [u for u in seeded_store.users() if u["user_name"].startswith("sso:")]


def test_the_provider_is_authoritative_and_an_admin_can_still_disable(seeded_store):
    claims = {"email": "li@x.cn", "spatial_role": "district", "spatial_district": "宝安"}
    principal_from_claims(seeded_store, claims, ClaimMapping())
    moved = claims | {"spatial_district": "南山区"}
    assert principal_from_claims(seeded_store, moved, ClaimMapping()).district_id == "nanshan"
    change = seeded_store.audit(action="user_role_changed").iloc[-1]
    assert '"district_id": "baoan"' in change["detail"] and change["user_name"] == "sso"
    accounts.set_active(seeded_store, SYSTEM, "sso:li@x.cn", False)
    with pytest.raises(AccountError, match="disabled"):
        principal_from_claims(seeded_store, moved, ClaimMapping())


def test_the_claim_names_are_configurable(seeded_store, monkeypatch):
    monkeypatch.setenv("SPATIAL_OIDC_ROLE_CLAIM", "groups")
    monkeypatch.setenv("SPATIAL_OIDC_DISTRICT_CLAIM", "dept")
    monkeypatch.setenv("SPATIAL_OIDC_NAME_CLAIM", "preferred_username")
    claims = {"preferred_username": "zhang", "groups": "district", "dept": "龙华"}
    who = principal_from_claims(seeded_store, claims)
    assert (who.user_name, who.district_id) == ("sso:zhang", "longhua")


def test_sso_accounts_have_no_usable_password(seeded_store):
    claims = {"email": "li@x.cn", "spatial_role": "viewer"}
    principal_from_claims(seeded_store, claims, ClaimMapping())
    for guess in ("", "li@x.cn", "sso:li@x.cn", "password"):
        with pytest.raises(AccountError):
            accounts.sign_in(seeded_store, "sso:li@x.cn", guess)


# -- end to end: a real OpenID Connect provider, the real app, headless Chromium -----------------


@pytest.fixture
def sso_app(tmp_path):
    import oidc_provider_mock
    from oidc_provider_mock import User

    officer = User(
        sub="li@baoan.gov.cn",
        claims={
            "email": "li@baoan.gov.cn",
            "spatial_role": "district",
            "spatial_district": "宝安区",
        },
    )
    with oidc_provider_mock.run_server_in_thread(user_claims=[officer]) as provider:
        issuer = f"http://127.0.0.1:{provider.server_port}"
        port = free_port()  # the redirect URI names it before the app starts
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{os.urandom(24).hex()}"\n'
            'client_id = "spatial-test"\n'
            'client_secret = "spatial-test-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        )
        url = f"sqlite:///{tmp_path / 'spatial.db'}"
        with running_app(tmp_path, url, ("--secrets.files", str(secrets)), port) as base:
            yield base, url, tmp_path


def test_single_sign_on_against_a_real_provider_in_the_browser(sso_app):
    base, url, folder = sso_app
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs Debian's chromium (as root)")
    blocked: list[tuple[str, str]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")

        def route(r):
            if r.request.url.startswith(LOCAL):
                r.continue_()
            else:  # (the test provider's own form fetches a stylesheet: not the app's doing)
                blocked.append((r.request.frame.url, r.request.url))
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.goto(f"{base}/map")
        sso = page.get_by_role("button", name="单位统一身份认证登录")
        sso.wait_for(timeout=60_000)
        # the page remembers the address asked for in a cookie before the sign-in leaves the app
        page.wait_for_function("() => document.cookie.includes('spatial_next=map')")
        sso.click()
        # the provider's own authorization form: choose the officer it knows
        page.wait_for_url("**/oauth2/authorize**", timeout=30_000)
        page.get_by_role("button", name="li@baoan.gov.cn").click()
        page.wait_for_selector("text=退出登录", timeout=60_000)
        page.screenshot(path=str(folder / "sso.png"))
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "sso:li@baoan.gov.cn" in sidebar and "区用户" in sidebar
        # the deep link survives the round trip (the page moves there on the run after the
        # sign-in, which may come a moment after the account box is drawn)
        page.wait_for_url("**/map", timeout=30_000)
        # signing out ends the tool's session and asks the provider to end its own (clicked
        # once the page has settled, and again only if it settled with the button still
        # there: under load a click landing in a rerun was lost, and nothing navigated)
        for _ in range(3):
            settle(page)
            page.get_by_role("button", name="退出登录").click()
            try:
                page.wait_for_url("**/oauth2/end_session**", timeout=15_000)
                break
            except PlaywrightTimeout:
                settle(page)
                if not page.get_by_role("button", name="退出登录").count():
                    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
                    break
        else:
            raise AssertionError("signing out never reached the provider's end_session")
        page.get_by_role("button", name="End session").click()  # the provider's own page
        page.get_by_role("button", name="单位统一身份认证登录").wait_for(timeout=60_000)
        assert page.get_by_role("button", name="退出登录").count() == 0
        browser.close()
    assert [url for frame, url in blocked if frame.startswith(base)] == []
    from spatial.store.database import open_store

    store = open_store(url)
    row = store.user("sso:li@baoan.gov.cn")
    assert (row["role"], row["district_id"]) == ("district", "baoan")
    sign_ins = store.audit("sso:li@baoan.gov.cn")
    assert '"via": "oidc"' in sign_ins[sign_ins["action"] == "sign_in"].iloc[-1]["detail"]
    store.engine.dispose()
