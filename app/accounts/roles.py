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
            # Cases of the subtree: read, unmask (audited), the escalated queue, ledgers.
            "case.view",
            "case.all",
            "case.unmask",
            "case.escalated",
            "case.review",
            "case.decide",
            "case.pause",
            "case.extend",
            "seal.view",
            "ledger.view",
            # Monthly reports: define forms (at a division), review and approve, roll-up.
            "report.view",
            "report.define",
            "report.review",
            "report.export",
            # Inspections (督促检查): checklists, spot checks and 双随机 draws, verifying
            # rectifications, 督办 of red-light cases; circulars; documents; work logs and
            # assessment of the subtree; the supervision view (电子监察) and its settings.
            "inspection.view",
            "inspection.define",
            "inspection.conduct",
            "inspection.verify",
            "case.supervise",
            "circular.view",
            "circular.issue",
            "document.view",
            "worklog.view",
            "assessment.view",
            "assessment.define",
            "supervision.view",
            "supervision.configure",
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
            # The case desk: everything a clerk does, plus decisions, extensions (the
            # approver), hand-over of a leaving clerk's cases, unmasked views, the seal
            # ledger and the rectification ledger.
            "case.view",
            "case.all",
            "case.register",
            "case.accept",
            "case.review",
            "case.return",
            "case.pause",
            "case.deliver",
            "case.decide",
            "case.extend",
            "case.handover",
            "case.unmask",
            "seal.view",
            "seal.manage",
            "ledger.view",
            "ledger.manage",
            # Monthly reports: fill and submit the centre's own, export it.
            "report.view",
            "report.fill",
            "report.export",
            # Inspections of the centre: read the results, acknowledge them; circulars
            # (read and acknowledge); the centre's documents; work logs (write, review) and
            # the centre's assessment.
            "inspection.view",
            "inspection.acknowledge",
            "circular.view",
            "circular.acknowledge",
            "document.view",
            "document.manage",
            "worklog.view",
            "worklog.write",
            "worklog.review",
            "assessment.view",
        }
    ),
    # Anyone, without logging in: the public pages of a centre (guide, power list, screen).
    "public": frozenset({"public.view"}),
    # Window clerk (窗口人员).
    # Registers, notifies, accepts, reviews, returns, pauses and delivers; a manager decides
    # and approves extensions.
    "clerk": frozenset(
        {
            "tenant.view",
            "case.view",
            "case.all",
            "case.register",
            "case.accept",
            "case.review",
            "case.return",
            "case.pause",
            "case.deliver",
            "circular.view",
            "worklog.view",
            "worklog.write",
        }
    ),
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
