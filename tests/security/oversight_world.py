"""Issue 7's part of the security world (tests/security/harness.py): for xa and xb one object
of each new kind (xb's texts carry the canary); for the division-owned definitions, the
second division x2's."""

from __future__ import annotations

import io
from typing import Any

from tests.security.harness import World

PDF = b"%PDF-1.4\n% CANARYB circular attachment\ntrailer << >>\n%%EOF\n"


async def oversight_world(world: World) -> None:
    from starlette.datastructures import Headers, UploadFile

    from app import db
    from app.circulars import services as circulars
    from app.documents import services as documents
    from app.inspections.queries import draws as draw_queries
    from app.tenancy import queries as tenancy
    from app.tenancy.scope import system_scope
    from tests.cases.helpers import scope_of
    from tests.inspections import helpers as inspections
    from tests.inspections.test_checklists_routes import ensure_x2, x2_checklist
    from tests.staff.helpers import make_log

    extra: dict[str, Any] = world.oversight
    for slug in ("xa", "xb"):
        # xb's photo carries the canary in a PNG text chunk (after IEND: still a PNG).
        png = inspections.PNG + (b"tEXtCANARYB" if slug == "xb" else b"")
        inspection_id, photo_id = await inspections.submitted_inspection(slug, png)
        extra.setdefault("inspection", {})[slug] = inspection_id
        extra.setdefault("photo", {})[slug] = photo_id
        # An inspection still being filled (the fill pages): only the division sees it.
        extra.setdefault("inspection_open", {})[slug] = await inspections.start(slug)
        extra.setdefault("log", {})[slug] = await make_log(slug, f"{slug}-clerk")
        mark = "CANARYB" if slug == "xb" else slug
        manager = await scope_of(f"{slug}-manager", slug)
        # Evidence on the centre's ledger item of the cases world (a rating item takes files).
        from app.cases import ledger_evidence
        from app.cases.queries import ledger_flow

        item_id = world.rectification_ids[slug]
        proof = UploadFile(
            io.BytesIO(PDF),
            filename=f"{mark}-佐证.pdf",
            headers=Headers({"content-type": "application/pdf"}),
        )
        await ledger_evidence.answer(None, manager, item_id, f"{mark} 佐证", [proof])
        extra.setdefault("evidence", {})[slug] = (await ledger_flow.evidence(manager, item_id))[0][
            "id"
        ]
        upload = UploadFile(
            io.BytesIO(PDF),
            filename=f"{mark}-制度汇编.pdf",
            headers=Headers({"content-type": "application/pdf"}),
        )
        extra.setdefault("doc", {})[slug] = await documents.create(
            None,
            manager,
            documents.Entry(kind="rules", title=f"{mark} 制度汇编", edition="2026", upload=upload),
        )
        # A circular of d4 addressed to this centre only, with one attachment.
        tree = await tenancy.tree()
        supervisor = await scope_of("d4-liuhong", "d4")
        attachment = UploadFile(
            io.BytesIO(PDF),
            filename=f"{mark}-附件.pdf",
            headers=Headers({"content-type": "application/pdf"}),
        )
        circular_id = await circulars.issue(
            None,
            supervisor,
            tree,
            circulars.Draft(
                title=f"{mark} 通报",
                body=f"{mark} 正文",
                everyone=False,
                chosen=[tree.by_slug[slug].id],
                uploads=[attachment],
            ),
        )
        extra.setdefault("circular", {})[slug] = circular_id
        from app.circulars import queries as circular_queries

        files = await circular_queries.attachments(supervisor, tree.by_slug["d4"].id, circular_id)
        extra.setdefault("attachment", {})[slug] = files[0]["id"]
    # Definitions of a division: x2's checklist and draw (x2 has no centres to draw).
    x2 = await ensure_x2()
    extra["checklist"] = {"x2": await x2_checklist()}
    tree = await tenancy.tree()
    system = system_scope(tree, reason="test")
    async with db.write(system):
        extra["draw"] = {
            "x2": await draw_queries.insert_draw(
                system,
                x2,
                kind="centres",
                month=202702,
                seed="CANARYB",
                params={"centres": 1, "inspectors": 1},
                pool={"centres": [], "inspectors": []},
                result={"centres": []},
            )
        }
    d4_scope = await scope_of("d4-liuhong", "d4")
    from app.inspections import draws

    extra["draw"]["d4"] = await draws.draw_centres(
        d4_scope,
        tree,
        tree.by_slug["d4"].id,
        draws.CentresAsk(month="2027-02", centres="1", inspectors="1"),
    )
    from app.inspections.queries import checklists as checklist_queries

    found = await checklist_queries.checklist_by_code(
        d4_scope, tree.by_slug["d4"].id, "centre-inspection"
    )
    extra["checklist"]["d4"] = found["id"] if found else (await inspections.checklist())["id"]
