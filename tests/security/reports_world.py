"""The monthly reports' part of the security world (tests/security/harness.py)."""

from __future__ import annotations

from tests.security.harness import World

REPORT_MONTH = 202901  # a month no other test uses


async def reports_world(world: World) -> None:
    """xb's submitted monthly report (canary in its text) in a d4 period where xa has none;
    a form and a period of the second division x2; a finished export job of each manager."""
    import dataclasses
    from datetime import date
    from types import SimpleNamespace

    from app import db
    from app.reports import exports, filing, periods, versions
    from app.reports.queries import forms as report_forms
    from app.reports.queries import periods as report_periods
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope
    from tests.cases import helpers
    from tests.reports.helpers import filled

    tree = await tenancy.tree()
    scope = system_scope(tree, reason="test")
    d4, x2 = tree.by_slug["d4"].id, tree.by_slug["x2"].id
    form = await report_forms.form_by_code(scope, d4, "monthly-centre")
    assert form is not None
    x2_form = await report_forms.form_by_code(scope, x2, "sec-x2-monthly")
    if x2_form is None:
        definition = {
            "filers": ["division"],
            "intro": "CANARYB-月报说明",
            "sections": [
                {
                    "key": "main",
                    "title": "CANARYB-一、业务",
                    "fields": [{"key": "registered", "label": "CANARYB-登记件数"}],
                }
            ],
        }
        owner = dataclasses.replace(scope, tenant_id=x2)
        await versions.create_form(
            owner, x2, "sec-x2-monthly", "CANARYB-乙师月报", definition, date(2026, 1, 1)
        )
        x2_form = await report_forms.form_by_code(scope, x2, "sec-x2-monthly")
        assert x2_form is not None
    async with db.write(scope):
        await periods.open_period(scope, form, REPORT_MONTH)
        await periods.open_period(scope, x2_form, REPORT_MONTH)
    period = await report_periods.period_for(scope, form["id"], REPORT_MONTH)
    x2_period = await report_periods.period_for(scope, x2_form["id"], REPORT_MONTH)
    assert period is not None and x2_period is not None
    manager = await helpers.scope_of("xb-manager", "xb")
    report = await filing.load(manager, period["id"])
    if report.submission is None:
        values = filled(report, problems="CANARYB 窗口问题", plans="CANARYB 下步打算")
        await filing.submit(manager, report, values, corrections={}, comments={}, lock_version=0)
    world.report_period_ids.update(d4=period["id"], x2=x2_period["id"])
    world.report_form_ids.update(d4=form["id"], x2=x2_form["id"])
    for slug in ("xa", "xb"):
        user_scope = await helpers.scope_of(f"{slug}-manager", slug)
        params = {"period": period["id"], "centre": user_scope.own()}
        job_id = await exports.request_export(
            user_scope,
            "submission",
            params,
            SimpleNamespace(id=user_scope.user_id),  # type: ignore[arg-type]
        )
        await exports.run(job_id)
        world.export_job_ids[slug] = job_id
