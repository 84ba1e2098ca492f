"""Single sign-on (OpenID Connect): an organisation's identity provider vouches for a user, and
two of its claims say the user's role and district in this tool.

The web page signs the user in with Streamlit's ``st.login`` (see README, "Single sign-on"); this
module only turns the verified claims into an account and a principal. The identity provider is
authoritative for role and district: an SSO account is brought in line with the claims at every
sign-in (audited when they change); an admin can still disable it here. Accounts signed in this
way are named ``sso:<claim>`` and have no usable password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from spatial.auth import Principal, Role, hash_password, one_time_password
from spatial.store.accounts import AccountError, district_of_role
from spatial.store.database import Store, utcnow

SSO_PREFIX = "sso:"
SSO_ACTOR = "sso"
ROLE_NAMES = {  # a role as an organisation's directory may spell it
    **{r.value: r for r in Role},
    "管理员": Role.ADMIN,
    "规划人员": Role.PLANNER,
    "规划": Role.PLANNER,
    "区用户": Role.DISTRICT,
    "只读用户": Role.VIEWER,
    "只读": Role.VIEWER,
}


@dataclass(frozen=True)
class ClaimMapping:
    """Which claims carry the user's name, role and district (environment variables
    ``SPATIAL_OIDC_NAME_CLAIM``, ``…_ROLE_CLAIM``, ``…_DISTRICT_CLAIM``)."""

    name_claim: str = "email"
    role_claim: str = "spatial_role"
    district_claim: str = "spatial_district"

    @classmethod
    def from_env(cls) -> ClaimMapping:
        return cls(
            os.environ.get("SPATIAL_OIDC_NAME_CLAIM", cls.name_claim),
            os.environ.get("SPATIAL_OIDC_ROLE_CLAIM", cls.role_claim),
            os.environ.get("SPATIAL_OIDC_DISTRICT_CLAIM", cls.district_claim),
        )


def _one(value) -> str | None:
    """A claim's value as one string (a directory may send a list: the first that is set)."""
    if isinstance(value, list | tuple):
        value = next((v for v in value if v), None)
    return None if value is None else str(value).strip() or None


def principal_from_claims(
    store: Store, claims: Mapping, mapping: ClaimMapping | None = None
) -> Principal:
    """The principal the identity provider's verified ``claims`` describe; creates or updates
    the ``sso:`` account to match. Refuses (AccountError, in both languages) a sign-in whose
    claims name no role, an unknown role or district, or an account an admin has disabled."""
    mapping = mapping or ClaimMapping.from_env()
    ident = _one(claims.get(mapping.name_claim)) or _one(claims.get("sub"))
    if not ident:
        raise AccountError(
            "统一身份认证未提供用户标识，请联系管理员",
            "the single sign-on gave no user identifier; ask the administrator",
        )
    name = (SSO_PREFIX + ident)[:64]
    role_text = _one(claims.get(mapping.role_claim))
    role = ROLE_NAMES.get((role_text or "").casefold()) or ROLE_NAMES.get(role_text or "")
    if role is None:
        raise AccountError(
            f"统一身份认证未说明您在本工具中的角色（声明 {mapping.role_claim}），请联系管理员",
            f"the single sign-on did not say your role in this tool (claim "
            f"{mapping.role_claim!r}); ask the administrator",
        )
    district_id = district_of_role(store, role, _one(claims.get(mapping.district_claim)))
    row = store.user(name)
    now = utcnow()
    with store.transaction() as conn:
        if row is None:
            store.add_user(
                conn,
                user_name=name,
                role=role.value,
                district_id=district_id,
                password_hash=hash_password(one_time_password() + one_time_password()),
                must_change_password=False,  # no password is ever used
                active=True,
                created_at=now,
            )
            detail = {"role": role.value, "district_id": district_id, "via": "oidc"}
            store.record_event(SSO_ACTOR, "user_created", name, detail=detail, conn=conn, at=now)
        elif not row["active"]:
            raise AccountError(
                "账号已停用，请联系管理员", "the account is disabled; ask the administrator"
            )
        elif (row["role"], row["district_id"]) != (role.value, district_id):
            store.update_user(name, conn=conn, role=role.value, district_id=district_id)
            detail = {
                "before": {"role": row["role"], "district_id": row["district_id"]},
                "after": {"role": role.value, "district_id": district_id},
                "via": "oidc",
            }
            store.record_event(
                SSO_ACTOR, "user_role_changed", name, detail=detail, conn=conn, at=now
            )
        store.record_event(name, "sign_in", detail={"via": "oidc"}, conn=conn, at=now)
    return Principal(name, role, district_id)
