"""Capabilities per role: the one table that says who may do what."""

from __future__ import annotations

from app.web.i18n import lazy_gettext as _l

ROLES = ("supervisor", "manager", "clerk")

ROLE_LABELS = {
    "supervisor": _l("Supervisor"),
    "manager": _l("Centre manager"),
    "clerk": _l("Window clerk"),
    "admin": _l("Platform admin"),
}

CAPABILITIES: dict[str, frozenset[str]] = {
    # Division office (师市办/监察): sees its whole subtree, reviews and inspects.
    "supervisor": frozenset(
        {
            "tenant.view",
            "subtree.view",
            "staff.view",
            "audit.view",
            "staff.unlock",
            "calendar.regional",
            "catalogue.edit",
            "powerlist.publish",
        }
    ),
    # Centre manager (中心负责人): runs the centre and its own staff.
    "manager": frozenset(
        {
            "tenant.view",
            "staff.view",
            "staff.manage",
            "staff.unlock",
            "audit.view",
            "channel.manage",
            "catalogue.adopt",
        }
    ),
    # Anyone, without logging in: the public pages of a centre (guide, power list, screen).
    "public": frozenset({"public.view"}),
    # Window clerk (窗口人员).
    "clerk": frozenset({"tenant.view"}),
    # Platform admin: onboards tenants and their managers; links an existing account to a
    # second centre.
    "admin": frozenset(
        {
            "tenant.view",
            "subtree.view",
            "staff.view",
            "staff.manage",
            "staff.link",
            "staff.unlock",
            "audit.view",
            "calendar.regional",
        }
    ),
}


def capabilities(roles: frozenset[str]) -> frozenset[str]:
    caps: set[str] = set()
    for role in roles:
        caps |= CAPABILITIES.get(role, frozenset())
    return frozenset(caps)


def parse_roles(value: str) -> frozenset[str]:
    return frozenset(r for r in (p.strip() for p in value.split(",")) if r in ROLES)


def format_roles(roles: frozenset[str] | set[str] | list[str]) -> str:
    return ",".join(r for r in ROLES if r in roles)
