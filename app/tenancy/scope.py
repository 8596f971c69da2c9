"""TenantScope: the tenant of a request and the tenant ids its user may read and write."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.accounts.roles import capabilities
from app.web.errors import Forbidden, NotFound


@dataclass(frozen=True)
class TenantNode:
    id: int
    slug: str
    name: str
    kind: str
    status: str
    parent_id: int | None


@dataclass(frozen=True)
class Tree:
    """The whole tenant tree (a few hundred rows at most), loaded once per request."""

    nodes: dict[int, TenantNode]
    by_slug: dict[str, TenantNode] = field(default_factory=dict)

    @classmethod
    def of(cls, nodes: Iterable[TenantNode]) -> Tree:
        items = {n.id: n for n in nodes}
        return cls(items, {n.slug: n for n in items.values()})

    def ancestors(self, tenant_id: int) -> list[int]:
        out: list[int] = []
        node = self.nodes.get(tenant_id)
        while node is not None and node.parent_id is not None and node.parent_id not in out:
            out.append(node.parent_id)
            node = self.nodes.get(node.parent_id)
        return out

    def subtree(self, tenant_id: int) -> set[int]:
        children: dict[int, list[int]] = {}
        for node in self.nodes.values():
            if node.parent_id is not None:
                children.setdefault(node.parent_id, []).append(node.id)
        out, stack = set(), [tenant_id]
        while stack:
            current = stack.pop()
            if current in out:
                continue
            out.add(current)
            stack.extend(children.get(current, []))
        return out

    def children(self, tenant_id: int) -> list[TenantNode]:
        return sorted(
            (n for n in self.nodes.values() if n.parent_id == tenant_id), key=lambda n: n.slug
        )


@dataclass(frozen=True)
class TenantScope:
    """What one request may see and change.  Every query function takes it first."""

    tenant_id: int | None
    user_id: int | None
    roles: frozenset[str]
    read_ids: frozenset[int]
    write_ids: frozenset[int]
    shared_ids: frozenset[int]
    supervise_ids: frozenset[int]
    system: bool = False
    reason: str = ""

    @property
    def caps(self) -> frozenset[str]:
        return capabilities(self.roles)

    def can(self, capability: str) -> bool:
        return self.system or capability in self.caps

    def require(self, capability: str) -> None:
        if not self.can(capability):
            raise Forbidden()

    def own(self) -> int:
        """The id of the scope's own tenant (raises for a scope without one)."""
        if self.tenant_id is None:
            raise NotFound()
        return self.tenant_id

    def with_tenant(self, tenant_id: int) -> TenantScope:
        """The same scope, also covering a tenant created in this transaction."""
        add = frozenset({tenant_id})
        return TenantScope(
            self.tenant_id,
            self.user_id,
            self.roles,
            self.read_ids | add,
            self.write_ids | add,
            self.shared_ids | add,
            self.supervise_ids | add,
            self.system,
            self.reason,
        )

    def check_write(self, tenant_id: int) -> None:
        if tenant_id not in self.write_ids:
            raise NotFound()

    def check_casework(self, tenant_id: int) -> None:
        """Rows of class ``casework`` (cases, ledger items, stored files): written by the
        centre itself or by a supervisor of its subtree (inspection photos, 督办)."""
        if tenant_id not in self.write_ids and tenant_id not in self.supervise_ids:
            raise NotFound()


def for_user(
    tree: Tree,
    tenant_id: int,
    user_id: int,
    memberships: dict[int, frozenset[str]],
    is_admin: bool,
) -> TenantScope | None:
    """Build the scope of ``user_id`` at ``tenant_id``; ``None`` means no access (→ 404).

    ``memberships`` maps tenant id → roles of the user's *active* memberships.
    """
    own = memberships.get(tenant_id, frozenset())
    ancestors = tree.ancestors(tenant_id)
    supervises = "supervisor" in own or any(
        "supervisor" in memberships.get(a, ()) for a in ancestors
    )
    roles = set(own)
    if supervises:
        roles.add("supervisor")
    if is_admin:
        roles.add("admin")
    if not roles:
        return None
    subtree = frozenset(tree.subtree(tenant_id))
    wide = supervises or is_admin
    return TenantScope(
        tenant_id=tenant_id,
        user_id=user_id,
        roles=frozenset(roles),
        read_ids=subtree if wide else frozenset({tenant_id}),
        write_ids=frozenset({tenant_id}) if (own or is_admin) else frozenset(),
        shared_ids=frozenset({tenant_id, *ancestors}),
        supervise_ids=subtree if supervises else frozenset(),
    )


def public_scope(tree: Tree, tenant_id: int) -> TenantScope:
    """What anyone may read of one centre (its guide, power list, hall screen): no writes."""
    own = frozenset({tenant_id})
    return TenantScope(
        tenant_id=tenant_id,
        user_id=None,
        roles=frozenset({"public"}),
        read_ids=own,
        write_ids=frozenset(),
        shared_ids=frozenset({tenant_id, *tree.ancestors(tenant_id)}),
        supervise_ids=frozenset(),
    )


def system_scope(tree: Tree, reason: str, user_id: int | None = None) -> TenantScope:
    """An explicit, audited scope over every tenant (platform admin, manifests, sweeps)."""
    every = frozenset(tree.nodes)
    return TenantScope(
        tenant_id=None,
        user_id=user_id,
        roles=frozenset({"admin"}),
        read_ids=every,
        write_ids=every,
        shared_ids=every,
        supervise_ids=every,
        system=True,
        reason=reason,
    )


def user_scope(user_id: int) -> TenantScope:
    """A scope with no tenant: a user reading their own memberships (login, home page)."""
    empty: frozenset[int] = frozenset()
    return TenantScope(None, user_id, frozenset(), empty, empty, empty, empty)
