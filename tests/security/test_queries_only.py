"""DESIGN rule 2: queries live in ``queries.py``.

A static (ast) scan of ``app/**/*.py``: outside ``queries.py`` / ``tables.py`` (and the two
allow-listed plumbing modules below) nothing may run a Piccolo query — no
``<Table>.select()/objects()/insert()/update()/delete()/raw()/count()/exists()…`` on a Table
class imported from a ``tables`` module, no ``.save()/.remove()`` on a Table instance, and no
``run_querystring(…)`` / ``QueryString(…)``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

QUERY_METHODS = {
    "select",
    "objects",
    "insert",
    "update",
    "delete",
    "raw",
    "count",
    "exists",
    "alter",
    "create_table",
    "table_exists",
}
INSTANCE_METHODS = {"save", "remove", "refresh", "get_related"}
RAW_SQL = {"run_querystring", "QueryString"}
ALLOWED_NAMES = {"queries.py", "tables.py"}
# Schema/engine plumbing, not domain data access: db.py opens engines, pings, and sets the
# row-level-security settings; maintenance.py runs migrations, unique indexes and RLS DDL.
ALLOWED_FILES = {"app/db.py", "app/maintenance.py"}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def table_classes(root: Path) -> set[str]:
    """Names of the classes defined in every ``tables.py`` under ``root``."""
    names: set[str] = set()
    for path in root.rglob("tables.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _table_imports(tree: ast.Module, tables: set[str]) -> tuple[dict[str, str], set[str]]:
    """(local name → Table class) for ``from x.tables import T``; local aliases of tables modules."""
    classes: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for alias in node.names:
                local = alias.asname or alias.name
                if module.split(".")[-1] == "tables" and alias.name in tables:
                    classes[local] = alias.name
                elif alias.name == "tables":  # from app.accounts import tables
                    modules.add(local)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[-1] == "tables":
                    modules.add(alias.asname or alias.name)
    return classes, modules


def scan_file(path: Path, rel: str, tables: set[str]) -> list[Violation]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    classes, modules = _table_imports(tree, tables)

    def table_of(node: ast.expr) -> str | None:
        """The Table class an expression names: ``T``, ``tables.T`` or ``app.x.tables.T``."""
        if isinstance(node, ast.Name) and node.id in classes:
            return classes[node.id]
        if isinstance(node, ast.Attribute) and node.attr in tables:
            base = _dotted(node.value)
            if base in modules:
                return node.attr
        return None

    instances: set[str] = set()  # variables bound to ``T(...)``
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            if table_of(node.value.func):
                instances |= {t.id for t in node.targets if isinstance(t, ast.Name)}

    found: list[Violation] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in RAW_SQL:
                found.append(Violation(rel, node.lineno, f"{name}(…) outside queries.py"))
            if isinstance(func, ast.Attribute):
                table = table_of(func.value)
                if table and func.attr in QUERY_METHODS:
                    found.append(Violation(rel, node.lineno, f"{table}.{func.attr}(…)"))
                if (
                    func.attr in INSTANCE_METHODS
                    and isinstance(func.value, ast.Name)
                    and func.value.id in instances
                ):
                    found.append(Violation(rel, node.lineno, f"{func.value.id}.{func.attr}(…)"))
        elif isinstance(node, ast.ImportFrom) and node.module == "piccolo.querystring":
            found.append(Violation(rel, node.lineno, "imports piccolo.querystring"))
    return found


def allowed(rel: str) -> bool:
    parts = rel.split("/")
    # A domain may split its queries into a package: app/<domain>/queries/<topic>.py
    return rel in ALLOWED_FILES or parts[-1] in ALLOWED_NAMES or "queries" in parts[:-1]


def scan(app_dir: Path, root: Path) -> list[Violation]:
    tables = table_classes(app_dir)
    out: list[Violation] = []
    for path in sorted(app_dir.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not allowed(rel):
            out.extend(scan_file(path, rel, tables))
    return out


def test_tables_are_found() -> None:
    tables = table_classes(APP)
    assert {"Tenant", "Membership", "User", "WebSession"} <= tables, tables


def test_no_query_outside_queries_py() -> None:
    violations = scan(APP, ROOT)
    assert not violations, "Piccolo queries outside queries.py (DESIGN rule 2):\n" + "\n".join(
        map(str, violations)
    )


PLANTED = """
from piccolo.querystring import QueryString
from app.accounts import tables
from app.accounts import tables as t2
from app.accounts.tables import Membership as M, User
import app.tenancy.tables

async def view(request):
    await User.select().where(User.id == 1)
    await M.objects().first()
    await tables.WebSession.delete().where(True)
    await t2.User.count()
    await app.tenancy.tables.Tenant.exists().where(True)
    await User.raw("SELECT 1")
    row = User(username="x")
    await row.save()
    await request.app.engine.run_querystring(QueryString("SELECT 1"))
    await other.select()  # not a Table: fine
    await User.insert(User(username="y"))
    await M.update({M.active: False})
"""


def test_scanner_catches_a_planted_violation(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    (app_dir / "accounts").mkdir(parents=True)
    (app_dir / "tenancy").mkdir()
    (app_dir / "accounts" / "tables.py").write_text(
        "class User: ...\nclass Membership: ...\nclass WebSession: ...\n"
    )
    (app_dir / "tenancy" / "tables.py").write_text("class Tenant: ...\n")
    (app_dir / "accounts" / "queries.py").write_text(PLANTED)  # allowed here
    (app_dir / "accounts" / "views.py").write_text(PLANTED)
    (app_dir / "db.py").write_text(PLANTED)  # allow-listed plumbing
    (app_dir / "tenancy" / "apply.py").write_text(PLANTED)  # NOT allowed
    found = scan(app_dir, tmp_path)
    by_file: dict[str, list[str]] = {}
    for v in found:
        by_file.setdefault(v.path, []).append(v.what)
    assert set(by_file) == {"app/accounts/views.py", "app/tenancy/apply.py"}, by_file
    whats = by_file["app/accounts/views.py"]
    for expected in (
        "User.select(…)",
        "Membership.objects(…)",
        "WebSession.delete(…)",
        "User.count(…)",
        "Tenant.exists(…)",
        "User.raw(…)",
        "row.save(…)",
        "run_querystring(…) outside queries.py",
        "QueryString(…) outside queries.py",
        "imports piccolo.querystring",
        "User.insert(…)",
        "Membership.update(…)",
    ):
        assert expected in whats, (expected, whats)
    assert not any("other" in w for w in whats), whats
