"""Demo documents (``tenants/demo/documents.toml``): each centre's rules compilation and
authorisation letters, one expired and one department left without a letter, created
through :func:`app.documents.services.create` under the centre manager's own scope.

Letter dates are given in days relative to the day the demo loads (``from_days``,
``until_days``), so "valid", "expiring" and "expired" stay true whenever it is loaded.
Files are small valid PDFs generated here.
"""

from __future__ import annotations

import io
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers, UploadFile

from app.accounts import queries as accounts
from app.documents import queries, services
from app.reports.periods import local_today
from app.tenancy import queries as tenancy
from app.tenancy.scope import TenantScope, Tree, for_user, user_scope


def pdf_bytes(text: str) -> bytes:
    """A minimal, valid one-page PDF showing ``text`` (ASCII; Chinese needs embedded fonts)."""
    safe = "".join(c if 32 <= ord(c) < 127 and c not in "()\\" else " " for c in text)
    stream = f"BT /F1 18 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def upload_of(name: str, data: bytes) -> UploadFile:
    return UploadFile(
        io.BytesIO(data),
        size=len(data),
        filename=name,
        headers=Headers({"content-type": "application/pdf"}),
    )


async def scope_of(tree: Tree, slug: str, username: str) -> TenantScope:
    user = await accounts.user_by_username(username)
    if user is None:
        raise LookupError(f"no user {username!r}")
    mine = await accounts.my_memberships(user_scope(user["id"]))
    scope = for_user(tree, tree.by_slug[slug].id, user["id"], mine, False)
    if scope is None:
        raise LookupError(f"{username!r} is not a member of {slug!r}")
    return scope


async def load(path: Path, now: datetime | None = None) -> list[str]:
    spec = tomllib.loads((path / "documents.toml").read_text(encoding="utf-8"))
    now = (now or datetime.now(UTC)).astimezone(UTC)
    today = local_today(now)
    tree = await tenancy.tree()
    lines = []
    for slug, centre in spec.get("centres", {}).items():
        if slug not in tree.by_slug:
            continue
        try:
            scope = await scope_of(tree, slug, centre["manager"])
        except LookupError as exc:
            lines.append(f"Demo documents of {slug} skipped: {exc}.")
            continue
        tenant_id = tree.by_slug[slug].id
        if await queries.documents(scope, tenant_id):
            lines.append(f"Demo documents of {slug} are already loaded; skipped.")
            continue
        departments = {d["code"]: d for d in await tenancy.departments(scope)}
        count = 0
        for number, doc in enumerate(centre.get("documents", []), start=1):
            kind = doc["kind"]
            entry: dict[str, Any] = {"kind": kind, "title": doc.get("title", "")}
            if kind == "rules":
                entry["edition"] = doc.get("edition", "")
            else:
                department = departments.get(doc["department"])
                if department is None:
                    continue
                entry.update(
                    department_id=department["id"],
                    granted_by=doc.get("granted_by", ""),
                    valid_from=today + timedelta(days=int(doc["from_days"])),
                    valid_until=(
                        today + timedelta(days=int(doc["until_days"]))
                        if "until_days" in doc
                        else None
                    ),
                )
            data = pdf_bytes(f"Bianmin demo {slug} document {number}")
            await services.create(
                None,
                scope,
                services.Entry(**entry, upload=upload_of(f"{slug}-{number}.pdf", data)),
                now=now - timedelta(days=int(doc.get("uploaded_days_ago", 30))),
            )
            count += 1
        gaps = await services.gaps(scope, tree, tenant_id, today)
        missing = [m["name"] for g in gaps for m in g.missing]
        lines.append(
            f"Demo documents of {slug}: {count} uploaded; departments without a valid letter: "
            + ("、".join(missing) or "none")
            + "."
        )
    return lines
